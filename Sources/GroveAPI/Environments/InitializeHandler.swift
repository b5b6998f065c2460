import Foundation
import GroveGit
import GroveModel

/// `POST .../environments/{id}/initialize`: a project's first code from a template repository (Platform.sh's
/// project templates, or any public http(s) repository), with an optional configuration repository laid over it and
/// files sent in the request. Everything is checked here; the `environment.initialize` activity fetches, commits
/// and deploys. The files are stored at once as a commit of their own (held by a ref until the activity ends), so
/// their contents never appear in the activity's parameters.
enum InitializeHandler {
    static let maxFiles = 200
    static let maxFileBytes = 8 << 20

    static func create(_ req: APIRequest, _ s: ServerContext, _ p: Project, _ l: ProjectAccessLevel, _ e: Environment) async throws -> APIResponse {
        try await s.requireOwnRepository(p, for: "Initializing")
        let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: ["profile", "repository", "config", "files", "resources"])
        let profile = try b.string("profile", maxLength: 200) ?? ""
        if BodyReader.hasControlCharacters(profile) { throw APIError.badRequest("must not contain control characters", field: "profile") }
        let source = try template(try b.string("repository", required: true, nonEmpty: true, maxLength: 2048) ?? "", field: "repository")
        var config: TemplateSource?
        if case .some(.some(let text)) = try b.nullableString("config"), !text.trimmingCharacters(in: .whitespaces).isEmpty {
            config = try template(text, field: "config")
        }
        if let resources = try b.objectValue("resources") {
            let r = try BodyReader(resources, allowed: ["init"])
            if case .some(.some(let v)) = try r.nullableString("init"), v != "default" && v != "minimum" {
                throw APIError.badRequest("init must be default or minimum", field: "resources")
            }
        }
        let files = try Self.files(b.object["files"])
        // Last, as it asks DNS: where the names point now (the activity asks again before it fetches).
        for (field, checked) in [("repository", source), ("config", config)] {
            guard let checked else { continue }
            do { _ = try s.outbound.check(url: checked.url) } catch { throw APIError.badRequest("\(error)", field: field) }
        }
        let user = try req.requireUser()

        var params = JSONObject([("environment", .string(e.id)), ("profile", .string(profile)), ("repository", .string(source.url)),
                                 ("ref", JSON(source.ref)), ("files", .array(files.map { .string($0.path) }))])
        if let config {
            params["config"] = .string(config.url)
            params["config_ref"] = JSON(config.ref)
        }
        var activity = s.makeActivity(type: "environment.initialize", project: p, environment: e, user: user,
                                      action: profile.isEmpty ? "initialized" : "initialized with profile \(profile)", parameters: params)
        let git = GitWriter(repositories: s.repositories, projectId: p.id)
        let hold = InitializeRefs(activityId: activity.id)
        if !files.isEmpty {
            let commit = try await git.commitFiles(files, message: "Files sent with initialize", author: .init(name: user.displayName, email: user.email),
                                                   holdRef: hold.files)
            params["files_commit"] = .string(commit)
            activity.parameters = .object(params)
        }
        do { try await s.store.insertActivity(activity) } catch {
            await git.deleteRef(hold.files)
            throw error
        }
        return .json(.ok, resultEnvelope(s.render.environment(e, project: p, access: l, busy: true), activities: [s.render.activity(activity, canCancel: true)]))
    }

    /// A repository field read as a template source.
    static func template(_ text: String, field: String) throws -> TemplateSource {
        do { return try TemplateSource.parse(text) } catch { throw APIError.badRequest("\(error)", field: field) }
    }

    /// The `files` field: relative paths inside the tree (no `..`, no `.git`, no duplicates), base64 contents.
    static func files(_ value: JSON?) throws -> [GitWriter.NewFile] {
        guard let value, !value.isNull else { return [] }
        guard case .array(let items) = value else { throw APIError.badRequest("must be an array of {path, mode, contents}", field: "files") }
        guard items.count <= maxFiles else { throw APIError.badRequest("at most \(maxFiles) files may be sent", field: "files") }
        var out: [GitWriter.NewFile] = []
        var seen = Set<String>(), total = 0
        for (n, item) in items.enumerated() {
            guard case .object(let o) = item else { throw APIError.badRequest("item \(n) must be an object", field: "files") }
            let f: BodyReader
            do { f = try BodyReader(o, allowed: ["path", "mode", "contents"]) } catch let e as APIError { throw APIError.badRequest("item \(n): \(e.message)", field: "files") }
            func bad(_ m: String) -> APIError { APIError.badRequest("item \(n): \(m)", field: "files") }
            guard let path = try? f.string("path", required: true, nonEmpty: true, maxLength: 1024) else { throw bad("path is required: a string of at most 1024 characters") }
            if let problem = pathProblem(path) { throw bad("path '\(path.prefix(100))' \(problem)") }
            guard seen.insert(path).inserted else { throw bad("path '\(path)' is sent twice") }
            let mode: Int?
            do { mode = o["mode"]?.isNull == true ? nil : try f.int("mode", min: 0, max: 0o7777) } catch { throw bad("mode must be a file mode (an integer, e.g. 420 for 0644)") }
            var contents: [UInt8] = []
            if let text = try? f.string("contents", maxLength: Int.max) {
                guard let data = Data(base64Encoded: text.filter { !$0.isWhitespace }) else { throw bad("contents must be base64") }
                contents = Array(data)
            } else if f.has("contents"), o["contents"]?.isNull == false {
                throw bad("contents must be a base64 string")
            }
            total += contents.count
            guard total <= maxFileBytes else { throw APIError.badRequest("the files hold more than \(maxFileBytes >> 20) MiB", field: "files") }
            out.append(GitWriter.NewFile(path: path, executable: (mode ?? 0o644) & 0o111 != 0, contents: contents))
        }
        // A file cannot also be a directory of another.
        for file in out {
            var prefix = ""
            for part in file.path.split(separator: "/").dropLast() {
                prefix += (prefix.isEmpty ? "" : "/") + part
                if seen.contains(prefix) { throw APIError.badRequest("'\(prefix)' is sent as a file and as the directory of '\(file.path)'", field: "files") }
            }
        }
        return out
    }

    /// Why a path cannot be written into the repository, or nil.
    static func pathProblem(_ path: String) -> String? {
        if BodyReader.hasControlCharacters(path, allowLineBreaks: false) { return "contains control characters" }
        if path.hasPrefix("/") { return "is absolute; paths are relative to the repository's root" }
        if path.contains("\\") { return "contains a backslash" }
        for part in path.split(separator: "/", omittingEmptySubsequences: false) {
            if part.isEmpty { return "has an empty segment" }
            if part == "." || part == ".." { return "has a '\(part)' segment" }
            if part.lowercased() == ".git" { return "is inside .git" }
        }
        return nil
    }
}

/// The refs that hold an initialize's inputs until its activity ends.
struct InitializeRefs {
    let activityId: String
    var base: String { "refs/grove/initialize/\(activityId)" }
    var files: String { base + "/files" }
    var template: String { base + "/template" }
    var config: String { base + "/config" }
    var commit: String { base + "/commit" }
    var all: [String] { [files, template, config, commit] }
}
