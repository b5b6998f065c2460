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
