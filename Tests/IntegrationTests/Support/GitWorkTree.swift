import Foundation

/// A scratch clone driven with the real git client, as a developer would.
struct GitWorkTree {
    let dir: String
    let remote: String

    init(remote: String) {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("work-\(UUID().uuidString.prefix(8))").path
        self.remote = remote
    }

    @discardableResult
    func git(_ args: [String]) throws -> (Int32, String) {
        let home = FileManager.default.temporaryDirectory.path
        let full = ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main", "-C", dir] + args
        return try Spawn.run("/usr/bin/git", full, env: ["GIT_TERMINAL_PROMPT": "0", "HOME": home, "GIT_CONFIG_NOSYSTEM": "1"])
    }

    func initialize() throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try git(["init", "-q"])
    }

    /// Writes files (path -> content) and commits them; returns the new commit id.
    @discardableResult
    func commit(_ files: [String: String], message: String = "change") throws -> String {
        for (path, content) in files {
            let full = dir + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try content.write(toFile: full, atomically: true, encoding: .utf8)
        }
        try git(["add", "-A"])
        try git(["commit", "-q", "--allow-empty", "-m", message])
        return try head()
    }

    func head(_ rev: String = "HEAD") throws -> String {
        try git(["rev-parse", rev]).1.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func push(_ args: [String]) throws -> (Int32, String) { try git(["push", remote] + args) }

    /// What the server's branch points at, or nil.
    func remoteHead(_ branch: String) throws -> String? {
        let out = try git(["ls-remote", remote, "refs/heads/" + branch]).1
        return out.split(separator: "\t").first.map(String.init).flatMap { $0.count == 40 ? $0 : nil }
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }
}
