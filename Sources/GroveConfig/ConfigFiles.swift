/// Read access to the files of one repository tree, the input of configuration loading. The git-backed
/// source reads a commit (even one still in a push's quarantine); tests use `InMemoryFiles`.
public protocol ConfigFiles: Sendable {
    /// Every file path of the tree, relative to the repository root, without a leading slash.
    func allPaths() async throws -> [String]
    /// A file's content, or nil when there is no such file.
    func read(_ path: String) async throws -> [UInt8]?
}

/// A tree held in memory: path -> content.
public struct InMemoryFiles: ConfigFiles {
    public var files: [String: String]
    public init(_ files: [String: String]) { self.files = files }
    public func allPaths() async throws -> [String] { files.keys.sorted() }
    public func read(_ path: String) async throws -> [UInt8]? { files[path].map { Array($0.utf8) } }
}

/// Repository-relative path arithmetic: joins, resolves `.` and `..`, refuses to leave the repository.
enum RepoPath {
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }

    /// `base` joined with `relative` (a leading `/` means the repository root); nil if it climbs above the root.
    static func resolve(_ relative: String, in base: String) -> String? {
        var parts: [Substring] = relative.hasPrefix("/") ? [] : base.split(separator: "/")
        for part in relative.split(separator: "/") {
            if part == "." || part.isEmpty { continue }
            if part == ".." {
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
            } else {
                parts.append(part)
            }
        }
        return parts.joined(separator: "/")
    }

    static func join(_ a: String, _ b: String) -> String {
        if a.isEmpty { return b }
        if b.isEmpty { return a }
        return a + "/" + b
    }
}

/// Another tree with some files replaced: what a commit would hold after an edit, checked before committing.
public struct OverlayFiles: ConfigFiles {
    let base: any ConfigFiles
    let overrides: [String: String]
    public init(_ base: any ConfigFiles, overrides: [String: String]) { self.base = base; self.overrides = overrides }
    public func allPaths() async throws -> [String] { Array(Set(try await base.allPaths()).union(overrides.keys)).sorted() }
    public func read(_ path: String) async throws -> [UInt8]? {
        if let o = overrides[path] { return Array(o.utf8) }
        return try await base.read(path)
    }
}
