import Foundation

/// The few writes Grove makes to a hosted repository itself: moving and deleting branches, always
/// compare-and-swap so a concurrent push is never overwritten.
public struct GitWriter: Sendable {
    let repositories: Repositories
    let projectId: String
    public static let zero = String(repeating: "0", count: 40)

    public init(repositories: Repositories, projectId: String) {
        self.repositories = repositories
        self.projectId = projectId
    }

    func git(_ args: [String]) async throws -> ChildProcess.Output {
        try await ChildProcess.run(repositories.gitPath, ["--git-dir=" + repositories.path(for: projectId)] + args,
                                   environment: Repositories.baseEnvironment)
    }

    public struct RefMoved: Error, CustomStringConvertible {
        public let description: String
    }

    /// Sets `refs/heads/<branch>` to `new` only if it is still at `expected` (zero: must not exist yet).
    public func moveBranch(_ branch: String, to new: String, from expected: String) async throws {
        let out = try await git(["update-ref", "-m", "grove push", "refs/heads/" + branch, new, expected])
        guard out.status == 0 else {
            throw RefMoved(description: "branch \(branch) moved while this push waited (\(String(decoding: out.stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))); fetch and push again")
        }
    }

    /// Deletes `refs/heads/<branch>` only if it is still at `expected`.
    public func deleteBranch(_ branch: String, expected: String) async throws {
        let out = try await git(["update-ref", "-d", "refs/heads/" + branch, expected])
        guard out.status == 0 else {
            throw RefMoved(description: "branch \(branch) moved before it could be deleted; fetch and try again")
        }
    }

    /// The commit a branch points at, or nil.
    public func head(of branch: String) async throws -> String? {
        let out = try await git(["rev-parse", "--verify", "--quiet", "refs/heads/" + branch])
        guard out.status == 0 else { return nil }
        return String(decoding: out.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Whether `commit` exists in the repository.
    public func hasCommit(_ commit: String) async throws -> Bool {
        try await git(["cat-file", "-e", commit + "^{commit}"]).status == 0
    }

    /// Subjects of the commits in `new` not in `old` (newest first, at most `limit`).
    public func newCommits(from old: String?, to new: String, limit: Int = 20) async throws -> [(sha: String, subject: String)] {
        var args = ["log", "--format=%H%x09%s", "-n", String(limit), new]
        if let old, old != Self.zero { args.append("^" + old) }
        let out = try await git(args)
        guard out.status == 0 else { return [] }
        return String(decoding: out.stdout, as: UTF8.self).split(separator: "\n").compactMap { line in
            let parts = line.split(separator: "\t", maxSplits: 1)
            guard let sha = parts.first else { return nil }
            return (String(sha), parts.count > 1 ? String(parts[1]) : "")
        }
    }
}

extension GitWriter {
    /// The tree id of `path` ("" for the root) in `commit`, git's own content address for an application's code.
    public func treeId(commit: String, path: String) async throws -> String? {
        let out = try await git(["rev-parse", "--verify", "--quiet", "\(commit):\(path)"])
        guard out.status == 0 else { return nil }
        return String(decoding: out.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

extension GitWriter {
    /// Who a commit made by the platform is written as.
    public struct Author: Sendable {
        public var name: String
        public var email: String
        public init(name: String, email: String) { self.name = name; self.email = email }
        var environment: [String: String] {
            ["GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email]
        }
    }

    func git(_ args: [String], extraEnvironment: [String: String], input: [UInt8] = []) async throws -> ChildProcess.Output {
        try await ChildProcess.run(repositories.gitPath, ["--git-dir=" + repositories.path(for: projectId)] + args,
                                   environment: Repositories.baseEnvironment.merging(extraEnvironment) { $1 }, input: input)
    }

    func checked(_ out: ChildProcess.Output, _ what: String) throws -> String {
        guard out.status == 0 else {
            throw RepositoryError("\(what) failed: \(String(decoding: out.stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return String(decoding: out.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A new commit on top of `parent` where `path` holds `content` (nil: the file is removed), kept alive by
    /// `holdRef` until the branch moves to it. No work tree: a private index is built from the parent's tree.
    public func commitFile(parent: String, path: String, content: String?, message: String, author: Author, holdRef: String) async throws -> String {
        let index = NSTemporaryDirectory() + "grove-index-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: index) }
        let env = ["GIT_INDEX_FILE": index].merging(author.environment) { $1 }
        _ = try checked(try await git(["read-tree", parent], extraEnvironment: env), "git read-tree")
        if let content {
            let blob = try checked(try await git(["hash-object", "-w", "--stdin"], extraEnvironment: env, input: Array(content.utf8)), "git hash-object")
            _ = try checked(try await git(["update-index", "--add", "--cacheinfo", "100644,\(blob),\(path)"], extraEnvironment: env), "git update-index")
        } else {
            _ = try checked(try await git(["update-index", "--force-remove", path], extraEnvironment: env), "git update-index")
        }
        let tree = try checked(try await git(["write-tree"], extraEnvironment: env), "git write-tree")
        let commit = try checked(try await git(["commit-tree", tree, "-p", parent, "-m", message], extraEnvironment: env), "git commit-tree")
        _ = try checked(try await git(["update-ref", holdRef, commit], extraEnvironment: [:]), "git update-ref")
        return commit
    }

    /// Brings the commits of a work tree's HEAD into the repository under `holdRef` (no hooks run); returns the commit.
    /// `uploadPack`: the command serving the work tree's side (e.g. run as the user who owns it: the tree was written
    /// by tenant code, and git reading a repository someone else controls is what safe.directory guards against).
    public func importHead(from workTree: String, holdRef: String, uploadPack: String? = nil) async throws -> String {
        let via = uploadPack.map { ["--upload-pack", $0] } ?? []
        _ = try checked(try await git(["fetch", "--quiet", "--no-tags"] + via + [workTree, "+HEAD:" + holdRef], extraEnvironment: [:]), "git fetch")
        return try checked(try await git(["rev-parse", holdRef], extraEnvironment: [:]), "git rev-parse")
    }

    public func deleteRef(_ ref: String) async {
        _ = try? await git(["update-ref", "-d", ref])
    }

    /// A writable clone of one branch (no other refs), for source operations.
    public func cloneBranch(_ branch: String, into dir: String, author: Author) async throws {
        let out = try await ChildProcess.run(repositories.gitPath, ["clone", "--quiet", "--single-branch", "--no-tags", "--branch", branch,
                                                                     repositories.path(for: projectId), dir],
                                             environment: Repositories.baseEnvironment)
        _ = try checked(out, "git clone")
        for (k, v) in [("user.name", author.name), ("user.email", author.email)] {
            _ = try checked(try await ChildProcess.run(repositories.gitPath, ["-C", dir, "config", k, v], environment: Repositories.baseEnvironment), "git config")
        }
        // The clone's origin is the hosted repository itself: operations must not push around the platform.
        _ = try await ChildProcess.run(repositories.gitPath, ["-C", dir, "remote", "remove", "origin"], environment: Repositories.baseEnvironment)
    }
}

extension GitWriter {
    /// Whether `ancestor` is reachable from `commit`.
    public func isAncestor(_ ancestor: String, of commit: String) async throws -> Bool {
        try await git(["merge-base", "--is-ancestor", ancestor, commit]).status == 0
    }

    public enum MergeResult: Sendable, Equatable {
        case merged(commit: String)
        case conflicts([String])
    }

    /// A merge commit of `theirs` into `ours` made without a work tree (`git merge-tree`), kept by `holdRef`;
    /// or the conflicting paths.
    public func merge(ours: String, theirs: String, message: String, author: Author, holdRef: String) async throws -> MergeResult {
        let out = try await git(["merge-tree", "--write-tree", "--name-only", "--no-messages", ours, theirs])
        let lines = String(decoding: out.stdout, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let tree = lines.first, tree.count == 40 else {
            throw RepositoryError("git merge-tree failed: \(String(decoding: out.stderr, as: UTF8.self))")
        }
        if out.status == 1 { return .conflicts(Array(Set(lines.dropFirst().filter { !$0.isEmpty })).sorted()) }
        guard out.status == 0 else { throw RepositoryError("git merge-tree failed: \(String(decoding: out.stderr, as: UTF8.self))") }
        let commit = try checked(try await git(["commit-tree", tree, "-p", ours, "-p", theirs, "-m", message], extraEnvironment: author.environment), "git commit-tree")
        _ = try checked(try await git(["update-ref", holdRef, commit], extraEnvironment: [:]), "git update-ref")
        return .merged(commit: commit)
    }

    /// `branch`'s own commits replayed onto `onto` in a scratch clone under `scratch`, kept by `holdRef`; or the
    /// conflicting paths (nothing is kept then).
    public func rebase(branch: String, onto: String, scratch: String, author: Author, holdRef: String) async throws -> MergeResult {
        try? FileManager.default.removeItem(atPath: scratch)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try await cloneBranch(branch, into: scratch, author: author)
        let env = Repositories.baseEnvironment.merging(author.environment) { $1 }
        func inClone(_ args: [String]) async throws -> ChildProcess.Output {
            try await ChildProcess.run(repositories.gitPath, ["-C", scratch] + args, environment: env)
        }
        _ = try checked(try await inClone(["fetch", "--quiet", "--no-tags", repositories.path(for: projectId), onto]), "git fetch")
        let out = try await inClone(["rebase", "--quiet", "FETCH_HEAD"])
        if out.status != 0 {
            let conflicted = String(decoding: try await inClone(["diff", "--name-only", "--diff-filter=U"]).stdout, as: UTF8.self)
                .split(separator: "\n").map(String.init)
            return .conflicts(conflicted.isEmpty ? ["(rebase failed: \(String(decoding: out.stderr, as: UTF8.self).prefix(200)))"] : conflicted)
        }
        return .merged(commit: try await importHead(from: scratch, holdRef: holdRef))
    }
}

extension GitWriter {
    /// Runs `body`, then deletes `holdRef` (which kept a commit alive until a branch pointed at it), whatever happened.
    public func releasing<T: Sendable>(_ holdRef: String, _ body: () async throws -> T) async throws -> T {
        do {
            let result = try await body()
            await deleteRef(holdRef)
            return result
        } catch {
            await deleteRef(holdRef)
            throw error
        }
    }
}
