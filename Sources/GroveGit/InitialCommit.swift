import Foundation

/// The first commit of a project made from layers (a template, a configuration repository, files sent with the
/// request): one parentless commit, so the project's history starts with its own code and nothing of the template's.
extension GitWriter {
    /// A file to commit: a path already checked to be relative and inside the tree.
    public struct NewFile: Sendable {
        public var path: String
        public var executable: Bool
        public var contents: [UInt8]
        public init(path: String, executable: Bool, contents: [UInt8]) { self.path = path; self.executable = executable; self.contents = contents }
    }

    /// A parentless commit holding just `files`, kept alive by `holdRef`.
    public func commitFiles(_ files: [NewFile], message: String, author: Author, holdRef: String) async throws -> String {
        try await withIndex(author) { env in
            var entries: [UInt8] = []
            for f in files {
                let blob = try checked(try await git(["hash-object", "-w", "--stdin"], extraEnvironment: env, input: f.contents), "git hash-object")
                entries += Array("\(f.executable ? "100755" : "100644") \(blob)\t\(f.path)".utf8) + [0]
            }
            _ = try checked(try await git(["update-index", "--add", "-z", "--index-info"], extraEnvironment: env, input: entries), "git update-index")
            let commit = try await commitIndex(message: message, env: env)
            _ = try checked(try await git(["update-ref", holdRef, commit], extraEnvironment: [:]), "git update-ref")
            return commit
        }
    }

    /// A parentless commit whose tree is `layers` (commits) laid over each other: a later layer's file replaces an
    /// earlier one's at the same path, and a file replaces a directory of the same name (and the reverse).
    public func flatten(_ layers: [String], message: String, author: Author, holdRef: String) async throws -> String {
        guard let base = layers.first else { throw RepositoryError("nothing to commit") }
        return try await withIndex(author) { env in
            _ = try checked(try await git(["read-tree", base + "^{tree}"], extraEnvironment: env), "git read-tree")
            for layer in layers.dropFirst() {
                let listing = try await git(["ls-tree", "-r", "-z", "--full-tree", layer + "^{tree}"], extraEnvironment: env)
                _ = try checked(listing, "git ls-tree")
                _ = try checked(try await git(["update-index", "--add", "--replace", "-z", "--index-info"], extraEnvironment: env, input: listing.stdout),
                                "git update-index")
            }
            let commit = try await commitIndex(message: message, env: env)
            _ = try checked(try await git(["update-ref", holdRef, commit], extraEnvironment: [:]), "git update-ref")
            return commit
        }
    }

    /// The commit `ref` points at, or nil.
    public func commit(at ref: String) async throws -> String? {
        let out = try await git(["rev-parse", "--verify", "--quiet", ref + "^{commit}"])
        guard out.status == 0 else { return nil }
        return String(decoding: out.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func commitIndex(message: String, env: [String: String]) async throws -> String {
        let tree = try checked(try await git(["write-tree"], extraEnvironment: env), "git write-tree")
        return try checked(try await git(["commit-tree", tree, "-m", message], extraEnvironment: env), "git commit-tree")
    }

    /// Runs `body` with a private, empty index (no work tree is ever written).
    private func withIndex<T: Sendable>(_ author: Author, _ body: ([String: String]) async throws -> T) async throws -> T {
        let index = NSTemporaryDirectory() + "grove-index-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: index) }
        return try await body(["GIT_INDEX_FILE": index].merging(author.environment) { $1 })
    }
}
