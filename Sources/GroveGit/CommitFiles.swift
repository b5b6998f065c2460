import Foundation
import GroveConfig

/// A commit's tree as `ConfigFiles`, read with git. `objectEnvironment` carries a push's quarantine
/// (`GIT_OBJECT_DIRECTORY`, `GIT_ALTERNATE_OBJECT_DIRECTORIES`) so a tree can be validated before its refs move.
public struct CommitFiles: ConfigFiles {
    let repositories: Repositories
    let projectId: String
    let commit: String
    let objectEnvironment: [String: String]

    public init(repositories: Repositories, projectId: String, commit: String, objectEnvironment: [String: String] = [:]) {
        self.repositories = repositories
        self.projectId = projectId
        self.commit = commit
        self.objectEnvironment = objectEnvironment
    }

    func git(_ args: [String]) async throws -> ChildProcess.Output {
        var env = Repositories.baseEnvironment
        for (k, v) in objectEnvironment { env[k] = v }
        return try await ChildProcess.run(repositories.gitPath, ["--git-dir=" + repositories.path(for: projectId)] + args, environment: env)
    }

    public func allPaths() async throws -> [String] { try await entries().map(\.path) }

    public func symlinks() async throws -> Set<String> { Set(try await entries().filter { $0.mode == "120000" }.map(\.path)) }

    /// Every blob of the tree with its mode (`<mode> <type> <object>\t<path>`, NUL-terminated).
    func entries() async throws -> [(mode: Substring, path: String)] {
        let out = try await git(["ls-tree", "-r", "-z", commit])
        guard out.status == 0 else { throw RepositoryError("cannot list \(commit): \(String(decoding: out.stderr, as: UTF8.self))") }
        return out.stdout.split(separator: 0).compactMap { record in
            let line = String(decoding: record, as: UTF8.self)
            guard let tab = line.firstIndex(of: "\t"), let space = line.firstIndex(of: " ") else { return nil }
            return (line[..<space], String(line[line.index(after: tab)...]))
        }
    }

    public func read(_ path: String) async throws -> [UInt8]? {
        let out = try await git(["cat-file", "blob", "\(commit):\(path)"])
        return out.status == 0 ? out.stdout : nil
    }
}
