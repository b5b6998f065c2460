import Foundation
import GroveModel

/// Read-only access to a project's repository for `/projects/{id}/git/*`, answered from `git` itself so the
/// results match `git cat-file` and `git show-ref` exactly.
public struct GitReader: Sendable {
    let repositories: Repositories
    let projectId: String

    public init(repositories: Repositories, projectId: String) {
        self.repositories = repositories
        self.projectId = projectId
    }

    public enum ReadError: Error, Equatable {
        case notFound
        case invalidId
    }

    func git(_ args: [String]) async throws -> ChildProcess.Output {
        try await ChildProcess.run(repositories.gitPath, ["--git-dir=" + repositories.path(for: projectId)] + args,
                                   environment: Repositories.baseEnvironment)
    }

    /// Object ids: 4 to 64 hex digits (short ids resolve like git's own).
    static func validId(_ id: String) -> Bool {
        (4...64).contains(id.count) && id.allSatisfy { $0.isHexDigit }
    }

    func objectType(_ id: String) async throws -> String {
        guard Self.validId(id) else { throw ReadError.invalidId }
        let out = try await git(["cat-file", "-t", id])
        guard out.status == 0 else { throw ReadError.notFound }
        return String(decoding: out.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func fullId(_ id: String) async throws -> String {
        let out = try await git(["rev-parse", "--verify", "--quiet", id + "^{object}"])
        guard out.status == 0 else { throw ReadError.notFound }
        return String(decoding: out.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func refs() async throws -> [JSON] {
        let out = try await git(["for-each-ref", "--format=%(refname)%09%(objecttype)%09%(objectname)", "refs/"])
        guard out.status == 0 else { throw ReadError.notFound }
        return String(decoding: out.stdout, as: UTF8.self).split(separator: "\n").compactMap { line in
            let f = line.split(separator: "\t").map(String.init)
            guard f.count == 3 else { return nil }
            return Self.refJSON(f[0], type: f[1], sha: f[2])
        }
    }

    /// `name` is a full ref (`refs/heads/main`) or one without the `refs/` prefix (`heads/main`).
    public func ref(_ name: String) async throws -> JSON {
        let full = name.hasPrefix("refs/") ? name : "refs/" + name
        guard let r = try await refs().first(where: { $0["ref"]?.stringValue == full }) else { throw ReadError.notFound }
        return r
    }

    static func refJSON(_ ref: String, type: String, sha: String) -> JSON {
        // The id is what `/git/refs/{id}` takes: the ref without `refs/`.
        .object(JSONObject([("id", .string(ref.hasPrefix("refs/") ? String(ref.dropFirst(5)) : ref)), ("ref", .string(ref)), ("object", .object(JSONObject([("type", .string(type)), ("sha", .string(sha))]))), ("sha", .string(sha))]))
    }

    public func commit(_ id: String) async throws -> JSON {
        guard try await objectType(id) == "commit" else { throw ReadError.notFound }
        let sha = try await fullId(id)
        let out = try await git(["cat-file", "commit", sha])
        let text = String(decoding: out.stdout, as: UTF8.self)
        var tree = ""
        var parents: [String] = []
        var author: JSON = .null, committer: JSON = .null
        var message = ""
        var lines = text.components(separatedBy: "\n")[...]
        while let line = lines.first {
            lines = lines.dropFirst()
            if line.isEmpty { message = lines.joined(separator: "\n"); break }
            if line.hasPrefix("tree ") { tree = String(line.dropFirst(5)) }
            else if line.hasPrefix("parent ") { parents.append(String(line.dropFirst(7))) }
            else if line.hasPrefix("author ") { author = Self.person(String(line.dropFirst(7))) }
            else if line.hasPrefix("committer ") { committer = Self.person(String(line.dropFirst(10))) }
        }
        return .object(JSONObject([("id", .string(sha)), ("sha", .string(sha)), ("author", author), ("committer", committer), ("message", .string(message)),
                                   ("tree", .string(tree)), ("parents", JSON(parents))]))
    }

    /// `Name <email> 1700000000 +0200` → `{date, name, email}` with the date in the author's own offset.
    static func person(_ s: String) -> JSON {
        guard let lt = s.lastIndex(of: "<"), let gt = s.lastIndex(of: ">") else { return .object(JSONObject([("name", .string(s))])) }
        let name = s[..<lt].trimmingCharacters(in: .whitespaces)
        let email = String(s[s.index(after: lt)..<gt])
        let rest = s[s.index(after: gt)...].split(separator: " ")
        var date = ""
        if rest.count == 2, let epoch = Double(rest[0]), rest[1].count == 5 {
            let tz = String(rest[1])
            let sign: Double = tz.hasPrefix("-") ? -1 : 1
            let hours = Double(tz.dropFirst().prefix(2)) ?? 0, minutes = Double(tz.suffix(2)) ?? 0
            let offset = sign * (hours * 3600 + minutes * 60)
            var tm = tm()
            var t = time_t(epoch + offset)
            gmtime_r(&t, &tm)
            date = String(format: "%04d-%02d-%02dT%02d:%02d:%02d%@:%@", Int(tm.tm_year) + 1900, Int(tm.tm_mon) + 1, Int(tm.tm_mday),
                          Int(tm.tm_hour), Int(tm.tm_min), Int(tm.tm_sec), String(tz.prefix(3)), String(tz.suffix(2)))
        }
        return .object(JSONObject([("date", .string(date)), ("name", .string(name)), ("email", .string(email))]))
    }

    public func tree(_ id: String) async throws -> JSON {
        guard try await objectType(id) == "tree" else { throw ReadError.notFound }
        let sha = try await fullId(id)
        let out = try await git(["cat-file", "-p", sha])
        let entries = String(decoding: out.stdout, as: UTF8.self).split(separator: "\n").compactMap { line -> JSON? in
            guard let tab = line.firstIndex(of: "\t") else { return nil }
            let f = line[..<tab].split(separator: " ").map(String.init)
            guard f.count == 3 else { return nil }
            return .object(JSONObject([("path", .string(String(line[line.index(after: tab)...]))), ("mode", .string(f[0])),
                                       ("type", .string(f[1])), ("sha", .string(f[2]))]))
        }
        return .object(JSONObject([("id", .string(sha)), ("sha", .string(sha)), ("tree", .array(entries))]))
    }

    public func blob(_ id: String) async throws -> JSON {
        guard try await objectType(id) == "blob" else { throw ReadError.notFound }
        let sha = try await fullId(id)
        let out = try await git(["cat-file", "blob", sha])
        let bytes = out.stdout
        let content: JSON
        let encoding: String
        if let text = String(validating: bytes, as: UTF8.self) {
            content = .string(text); encoding = "utf-8"
        } else {
            content = .string(Data(bytes).base64EncodedString()); encoding = "base64"
        }
        return .object(JSONObject([("id", .string(sha)), ("sha", .string(sha)), ("size", .int(Int64(bytes.count))), ("encoding", .string(encoding)), ("content", content)]))
    }
}

extension GitReader {
    /// Per-file unified diffs between two commits or trees, as git computes them (renames detected).
    public func diffs(base: String, target: String) async throws -> [JSON] {
        for id in [base, target] { guard Self.validId(id) else { throw ReadError.invalidId } }
        let b = try await fullId(base), t = try await fullId(target)
        let raw = try await git(["diff-tree", "-r", "-z", "-M", "--full-index", b, t])
        guard raw.status == 0 else { throw ReadError.notFound }
        let patch = try await git(["diff-tree", "-r", "-p", "-M", "--full-index", "--no-color", b, t])
        guard patch.status == 0 else { throw ReadError.notFound }
        // Raw records: ":oldmode newmode oldid newid status\0path\0[newpath\0]".
        var entries: [(oldId: String?, newId: String?, oldPath: String?, newPath: String?)] = []
        var fields = raw.stdout.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }[...]
        while let head = fields.first, head.hasPrefix(":") {
            fields = fields.dropFirst()
            let parts = head.dropFirst().split(separator: " ").map(String.init)
            guard parts.count >= 5 else { break }
            let status = parts[4]
            let zero = String(repeating: "0", count: parts[2].count)
            let oldId = parts[2] == zero ? nil : parts[2], newId = parts[3] == zero ? nil : parts[3]
            let first = fields.first ?? ""
            fields = fields.dropFirst()
            if status.hasPrefix("R") || status.hasPrefix("C") {
                let second = fields.first ?? ""
                fields = fields.dropFirst()
                entries.append((oldId, newId, first, second))
            } else {
                entries.append((oldId, newId, status == "A" ? nil : first, status == "D" ? nil : first))
            }
        }
        // The patch lists the same files in the same order; split it at each file header.
        let text = String(decoding: patch.stdout, as: UTF8.self)
        var chunks: [String] = []
        var current = ""
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        for line in lines {
            if line.hasPrefix("diff --git ") && !current.isEmpty { chunks.append(current); current = "" }
            current += line + "\n"
        }
        if !current.trimmingCharacters(in: .newlines).isEmpty { chunks.append(current) }
        return entries.enumerated().map { i, e in
            .object(JSONObject([
                ("id", .string(e.newPath ?? e.oldPath ?? String(i))),
                ("diff", .string(i < chunks.count ? chunks[i] : "")),
                ("new_path", JSON(e.newPath)), ("new_id", JSON(e.newId)),
                ("old_path", JSON(e.oldPath)), ("old_id", JSON(e.oldId)),
            ]))
        }
    }
}
