/// Read access to the files of one repository tree, the input of configuration loading. The git-backed
/// source reads a commit (even one still in a push's quarantine); tests use `InMemoryFiles`.
public protocol ConfigFiles: Sendable {
    /// Every file path of the tree, relative to the repository root, without a leading slash.
    func allPaths() async throws -> [String]
    /// A file's content, or nil when there is no such file.
    func read(_ path: String) async throws -> [UInt8]?
    /// The paths that are symbolic links in the tree (a mount or web root through one would lead the host elsewhere).
    func symlinks() async throws -> Set<String>
}

extension ConfigFiles {
    public func symlinks() async throws -> Set<String> { [] }
}

/// A tree held in memory: path -> content.
public struct InMemoryFiles: ConfigFiles {
    public var files: [String: String]
    /// Paths that are symbolic links (their content in `files` is the link's target).
    public var links: Set<String>
    public init(_ files: [String: String], links: Set<String> = []) { self.files = files; self.links = links }
    public func allPaths() async throws -> [String] { files.keys.sorted() }
    public func read(_ path: String) async throws -> [UInt8]? { files[path].map { Array($0.utf8) } }
    public func symlinks() async throws -> Set<String> { links }
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

    /// `path` (relative, or absolute from its base's top) normalised below its base; nil when `..` climbs out or it
    /// holds control characters. "" is the base itself.
    static func contained(_ path: String) -> String? {
        guard !hasControlCharacters(path) else { return nil }
        return resolve(path.hasPrefix("/") ? path : "/" + path, in: "")
    }

    static func hasControlCharacters(_ s: String) -> Bool {
        s.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }

    /// The first of `path` and its parent directories that is in `links`.
    static func symlink(on path: String, in links: Set<String>) -> String? {
        guard !links.isEmpty else { return nil }
        var prefix = ""
        for part in path.split(separator: "/") {
            prefix = prefix.isEmpty ? String(part) : prefix + "/" + part
            if links.contains(prefix) { return prefix }
        }
        return nil
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
    public func symlinks() async throws -> Set<String> { try await base.symlinks().subtracting(overrides.keys) }
}
