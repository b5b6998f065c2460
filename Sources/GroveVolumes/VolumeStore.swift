import Foundation
import GroveRuntime
import Logging

/// Where services keep their data: one directory per (project, environment, service), cloned for a new branch
/// by the best means the filesystem offers. btrfs snapshots are atomic and take the same time whatever the size;
/// reflink copies share blocks but walk every file; plain copies move every byte.
public struct VolumeStore: Sendable {
    public enum Driver: String, Sendable {
        case btrfs, reflink, copy
        /// Whether a clone is one atomic point in time (no write pause needed for consistency).
        public var atomic: Bool { self == .btrfs }
        public var copyOnWrite: Bool { self != .copy }
    }

    public let root: String
    public let driver: Driver
    /// Whether `limit` holds volumes to a size: btrfs quota groups, enabled at open when running as root.
    public let quotas: Bool

    public init(root: String, driver: Driver, quotas: Bool = false) { self.root = root; self.driver = driver; self.quotas = quotas }

    /// Opens (creating) `root` and picks its driver. `imageSize` (bytes): when `root` is on a filesystem without
    /// copy-on-write and this process is root, a btrfs image beside it is created (once) and loop-mounted there.
    public static func open(root: String, imageSize: UInt64? = nil, logger: Logger) async throws -> VolumeStore {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        var driver = try await detect(root)
        if driver != .btrfs, let imageSize {
            guard geteuid() == 0 else { throw VolumeError("--volume-image needs root (to loop-mount a btrfs image); run without it for \(driver.rawValue) volumes") }
            try await mountImage(root: root, size: imageSize, logger: logger)
            driver = try await detect(root)
            guard driver == .btrfs else { throw VolumeError("the btrfs image at \(root).img did not mount as btrfs") }
        }
        var quotas = false
        if driver == .btrfs, geteuid() == 0 {
            let store = VolumeStore(root: root, driver: driver)
            let out = try await AdminCommand.run([try store.btrfs(), "quota", "enable", root])
            quotas = out.status == 0
            if !quotas { logger.warning("volumes: btrfs quotas unavailable, service disk sizes are not enforced: \(out.text)") }
        }
        let note = driver.copyOnWrite ? "" : " (no copy-on-write: branching copies every byte; see --volume-image)"
        logger.info("volumes: \(driver.rawValue) driver at \(root)\(quotas ? " with disk quotas" : "")\(note)")
        return VolumeStore(root: root, driver: driver, quotas: quotas)
    }

    static func detect(_ root: String) async throws -> Driver {
        if try await AdminCommand.run(["/usr/bin/stat", "-f", "-c", "%T", root]).text == "btrfs" { return .btrfs }
        // Reflinks: try one on a probe file.
        let probe = root + "/.reflink-probe"
        _ = FileManager.default.createFile(atPath: probe, contents: Data("probe".utf8))
        defer {
            try? FileManager.default.removeItem(atPath: probe)
            try? FileManager.default.removeItem(atPath: probe + ".2")
        }
        let out = try await AdminCommand.run(["/bin/cp", "--reflink=always", probe, probe + ".2"])
        return out.status == 0 ? .reflink : .copy
    }

    static func mountImage(root: String, size: UInt64, logger: Logger) async throws {
        let image = root + ".img"
        if !FileManager.default.fileExists(atPath: image) {
            guard let mkfs = ["/usr/sbin/mkfs.btrfs", "/sbin/mkfs.btrfs", "/usr/bin/mkfs.btrfs"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
                throw VolumeError("mkfs.btrfs is missing: apt-get install btrfs-progs")
            }
            guard FileManager.default.createFile(atPath: image, contents: nil), truncate(image, off_t(size)) == 0 else {
                throw VolumeError("cannot create \(image) of \(size) bytes")
            }
            let out = try await AdminCommand.run([mkfs, "-q", image])
            guard out.status == 0 else { throw VolumeError("mkfs.btrfs \(image) failed: \(out.text)") }
            logger.info("volumes: created a \(size / (1 << 20)) MB btrfs image at \(image)")
        }
        let out = try await AdminCommand.run(["/bin/mount", "-o", "loop", image, root])
        guard out.status == 0 else { throw VolumeError("cannot loop-mount \(image) on \(root): \(out.text)") }
    }

    /// Unmounts a loop-mounted image (on shutdown); nothing for other drivers.
    public func close() async {
        guard FileManager.default.fileExists(atPath: root + ".img") else { return }
        _ = try? await AdminCommand.run(["/bin/umount", root])
    }

    public func path(_ id: String) -> String { (root as NSString).appendingPathComponent(id) }

    public func exists(_ id: String) -> Bool { FileManager.default.fileExists(atPath: path(id)) }

    /// An empty volume (a btrfs subvolume, or a directory).
    public func create(_ id: String) async throws {
        let p = path(id)
        try FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if driver == .btrfs {
            let out = try await AdminCommand.run([try btrfs(), "subvolume", "create", p])
            guard out.status == 0 else { throw VolumeError("btrfs subvolume create \(p): \(out.text)") }
        } else {
            try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: false)
        }
    }

    /// `to` becomes a copy of `from` (which must exist; `to` must not).
    public func clone(from: String, to: String) async throws {
        let src = path(from), dst = path(to)
        guard FileManager.default.fileExists(atPath: src) else { throw VolumeError("no volume \(from)") }
        guard !FileManager.default.fileExists(atPath: dst) else { throw VolumeError("volume \(to) already exists") }
        try FileManager.default.createDirectory(atPath: (dst as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        // Made under a temporary name and renamed when whole: a clone cut short by a crash never passes for a volume,
        // and the next attempt (or the next start) removes what it left.
        let partial = to + Self.partialSuffix
        try await delete(partial)
        let tmp = path(partial)
        let out: AdminCommand.Output
        switch driver {
        case .btrfs: out = try await AdminCommand.run([try btrfs(), "subvolume", "snapshot", src, tmp])
        case .reflink: out = try await AdminCommand.run(["/bin/cp", "-a", "--reflink=always", src, tmp])
        case .copy: out = try await AdminCommand.run(["/bin/cp", "-a", src, tmp])
        }
        guard out.status == 0, rename(tmp, dst) == 0 else {
            try? await delete(partial)
            throw VolumeError("cloning \(from) to \(to) failed: \(out.status == 0 ? String(cString: strerror(errno)) : out.text)")
        }
    }

    static let partialSuffix = ".grove-partial"

    /// Removes clones a crash cut short (volumes are at most four levels deep: `_backups/<project>/<backup>/<service>`).
    public func removePartialClones() async -> [String] {
        var found: [String] = []
        func walk(_ rel: String, depth: Int) {
            guard depth <= 4 else { return }
            for name in (try? FileManager.default.contentsOfDirectory(atPath: path(rel))) ?? [] {
                let child = rel.isEmpty ? name : rel + "/" + name
                if name.hasSuffix(Self.partialSuffix) { found.append(child); continue }
                var isDir: ObjCBool = false
                if FileManager.default.fileExists(atPath: path(child), isDirectory: &isDir), isDir.boolValue, depth < 3 { walk(child, depth: depth + 1) }
            }
        }
        walk("", depth: 0)
        for id in found { try? await delete(id) }
        return found
    }

    /// Removes a volume and everything in it; nothing when it does not exist.
    public func delete(_ id: String) async throws {
        let p = path(id)
        guard FileManager.default.fileExists(atPath: p) else { return }
        if driver == .btrfs {
            let out = try await AdminCommand.run([try btrfs(), "subvolume", "delete", p])
            if out.status == 0 { return }
        }
        try FileManager.default.removeItem(atPath: p)
    }

    /// Bytes used under a volume (apparent size of its files).
    public func size(_ id: String) -> UInt64 {
        guard let e = FileManager.default.enumerator(atPath: path(id)) else { return 0 }
        var total: UInt64 = 0
        while let f = e.nextObject() as? String {
            if let s = (try? FileManager.default.attributesOfItem(atPath: path(id) + "/" + f))?[.size] as? UInt64 { total += s }
        }
        return total
    }

    /// Limits the bytes a volume holds on its own (btrfs exclusive bytes), so a snapshot of a large parent
    /// starts with its whole allowance and only its own writes count; nil lifts the limit. Snapshots inherit it.
    public func limit(_ id: String, bytes: UInt64?) async throws {
        guard quotas else { return }
        let out = try await AdminCommand.run([try btrfs(), "qgroup", "limit", "-e", bytes.map { String($0) } ?? "none", path(id)])
        guard out.status == 0 else { throw VolumeError("cannot limit volume \(id) to \(bytes.map { "\($0) bytes" } ?? "no limit"): \(out.text)") }
    }

    public struct Usage: Sendable, Equatable {
        /// Bytes only this volume holds (what the limit counts), bytes it refers to (shared included), and the limit.
        public var exclusive: UInt64
        public var referenced: UInt64
        public var limit: UInt64?
        /// Within 5% (at least 16 MiB) of the limit: the next sizeable write fails with "Disk quota exceeded".
        public var full: Bool { limit.map { exclusive + max(16 << 20, $0 / 20) >= $0 } ?? false }
    }

    /// The volume's quota accounting; nil without quotas.
    public func usage(_ id: String) async -> Usage? {
        guard quotas, let tool = try? btrfs(), let out = try? await AdminCommand.run([tool, "qgroup", "show", "-re", "--raw", "--sync", "-f", path(id)]),
              out.status == 0 else { return nil }
        // "0/257  94355456  52412416  none  52428800  b": id, referenced, exclusive, max referenced, max exclusive.
        for line in out.text.split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 5, f[0].contains("/"), let rfer = UInt64(f[1]), let excl = UInt64(f[2]) else { continue }
            return Usage(exclusive: excl, referenced: rfer, limit: UInt64(f[4]))
        }
        return nil
    }

    func btrfs() throws -> String {
        guard let b = ["/usr/bin/btrfs", "/bin/btrfs", "/usr/sbin/btrfs", "/sbin/btrfs"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw VolumeError("the btrfs tool is missing: apt-get install btrfs-progs")
        }
        return b
    }
}

public struct VolumeError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}
