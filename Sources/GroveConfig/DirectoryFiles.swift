import Foundation

/// A working directory on the user's machine read as a tree, so a configuration can be checked before it is committed
/// and pushed (`grove app:config-validate`). `.git` is skipped; symbolic links are reported, never followed.
public struct DirectoryFiles: ConfigFiles {
    public let root: URL
    /// More files than this are not listed: a configuration check has no use for a whole `node_modules`.
    public static let maxFiles = 200_000

    public init(_ root: URL) { self.root = root.standardizedFileURL }

    public func allPaths() async throws -> [String] { try scan().files }
    public func symlinks() async throws -> Set<String> { try scan().links }

    public func read(_ path: String) async throws -> [UInt8]? {
        guard let inside = RepoPath.contained(path), !inside.isEmpty else { return nil }
        // A link, on the file or on a directory above it, is a path of the tree, not a way out of it.
        var url = root
        for part in inside.split(separator: "/") {
            url = url.appendingPathComponent(String(part))
            let values = try? url.resourceValues(forKeys: [.isSymbolicLinkKey])
            guard values?.isSymbolicLink == false else { return nil }
        }
        guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { return nil }
        return Array(try Data(contentsOf: url))
    }

    private func scan() throws -> (files: [String], links: Set<String>) {
        var files: [String] = []
        var links = Set<String>()
        var pending = [""]
        while let dir = pending.popLast(), files.count < Self.maxFiles {
            let url = dir.isEmpty ? root : root.appendingPathComponent(dir)
            let names = try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
            for name in names where !(dir.isEmpty && name == ".git") {
                let path = RepoPath.join(dir, name)
                let values = try? url.appendingPathComponent(name).resourceValues(forKeys: [.isSymbolicLinkKey, .isDirectoryKey])
                if values?.isSymbolicLink == true {
                    links.insert(path)
                    files.append(path)
                } else if values?.isDirectory == true {
                    pending.append(path)
                } else {
                    files.append(path)
                }
            }
        }
        return (files.sorted(), links)
    }
}
