import Foundation

/// The bare git repository each project owns, under `DATA_DIR/repositories/<projectId>.git`.
public struct Repositories: Sendable {
    public let root: String
    public let gitPath: String

    public init(dataDir: String, git: String = Repositories.findGit()) {
        root = (dataDir as NSString).appendingPathComponent("repositories")
        gitPath = git
    }

    public static func findGit() -> String {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") + ["/usr/bin"] {
            let p = "\(dir)/git"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return "/usr/bin/git"
    }

    public func path(for projectId: String) -> String { (root as NSString).appendingPathComponent(projectId + ".git") }

    public func exists(_ projectId: String) -> Bool {
        FileManager.default.fileExists(atPath: path(for: projectId) + "/HEAD")
    }

    /// Creates the bare repository (idempotent) with `defaultBranch` as HEAD.
    public func create(_ projectId: String, defaultBranch: String) async throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        if exists(projectId) { return }
        // Made beside its place and renamed into it: a push waiting for the repository (it looks for HEAD) must never
        // meet one that git is still writing.
        let final = path(for: projectId)
        let scratch = final + ".init-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let out = try await ChildProcess.run(gitPath, ["init", "--quiet", "--bare", "--initial-branch=" + defaultBranch, scratch],
                                             environment: Self.baseEnvironment)
        guard out.status == 0 else { throw RepositoryError("git init failed: \(String(decoding: out.stderr, as: UTF8.self))") }
        if rename(scratch, final) != 0 && !exists(projectId) {
            throw RepositoryError("cannot move the new repository into place: \(String(cString: strerror(errno)))")
        }
    }

    public func delete(_ projectId: String) {
        try? FileManager.default.removeItem(atPath: path(for: projectId))
    }

    public static var baseEnvironment: [String: String] {
        ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": "/nonexistent", "GIT_CONFIG_NOSYSTEM": "1"]
    }
}

public struct RepositoryError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
