import Foundation

/// Directories the host makes below a base on a tenant's behalf (mount storage): each component is created and
/// opened relative to the previous one without following symbolic links, so a link a tenant planted in its own
/// storage cannot send the host elsewhere.
public enum ContainedDirectory {
    public struct Escape: Error, CustomStringConvertible {
        public let description: String
    }

    /// Makes `relative` (no `..`, checked) under `base` (created as needed, trusted) and returns its path.
    /// With `owner`, the directories made and the last one are given to that user (a last directory the host
    /// owned, made by an older Grove that ran tenants as root, is handed over with its content).
    @discardableResult
    public static func make(_ relative: String, under base: String, mode: mode_t = 0o755, owner: SandboxUser? = nil) throws -> String {
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        let parts = relative.split(separator: "/").map(String.init)
        guard !parts.contains(".."), !parts.contains(".") else { throw Escape(description: "\(relative) leaves \(base)") }
        var fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Escape(description: "cannot open \(base): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var walked = ""
        var handOver = false
        for (i, part) in parts.enumerated() {
            walked += walked.isEmpty ? part : "/" + part
            let made = mkdirat(fd, part, mode) == 0
            if !made && errno != EEXIST {
                throw Escape(description: "cannot create \(walked): \(String(cString: strerror(errno)))")
            }
            let next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard next >= 0 else {
                throw Escape(description: "\(walked) is a symbolic link or not a directory; mount storage must be plain directories")
            }
            close(fd)
            fd = next
            if let owner, made || i == parts.count - 1 {
                var st = stat()
                if !made, fstat(fd, &st) == 0, st.st_uid == 0 { handOver = true }
                fchown(fd, owner.uid, owner.gid)
            }
        }
        let path = parts.isEmpty ? base : base + "/" + parts.joined(separator: "/")
        if handOver, let owner {
            let argv = owner.ownArguments(path)
            _ = try? Exec.runSync(argv[0], Array(argv.dropFirst()), env: [:])
        }
        return path
    }

    /// True when `path`, inside the tree at `root`, resolves (links followed) to a place within `root`.
    public static func resolvesInside(_ path: String, root: String) -> Bool {
        guard let real = realpath(path, nil), let realRoot = realpath(root, nil) else { return false }
        defer { free(real); free(realRoot) }
        let r = String(cString: real)
        let top = String(cString: realRoot)
        return r == top || r.hasPrefix(top.hasSuffix("/") ? top : top + "/")
    }
}
