import Foundation
import Logging

/// CPU and memory for one container, from Platform.sh's `size` and container profiles.
public struct ResourceLimits: Sendable, Equatable, Codable, CustomStringConvertible {
    public var cpu: Double
    public var memoryMB: Int
    /// Processes and threads the group may hold at once (nil: no limit of its own).
    public var pids: Int?
    public init(cpu: Double, memoryMB: Int, pids: Int? = nil) { self.cpu = cpu; self.memoryMB = memoryMB; self.pids = pids }

    public enum Profile: String, Sendable { case highCPU = "HIGH_CPU", balanced = "BALANCED", highMemory = "HIGH_MEMORY" }

    static let table: [Profile: [String: (Double, Int)]] = [
        .highCPU: ["S": (0.40, 128), "M": (0.40, 128), "L": (1.20, 256), "XL": (2.50, 384), "2XL": (5.00, 768), "4XL": (10.00, 1536)],
        .balanced: ["S": (0.05, 32), "M": (0.05, 64), "L": (0.08, 256), "XL": (0.10, 512), "2XL": (0.20, 1024), "4XL": (0.40, 2048)],
        .highMemory: ["S": (0.25, 128), "M": (0.25, 288), "L": (0.40, 1280), "XL": (0.75, 2624), "2XL": (1.50, 5248), "4XL": (3.00, 10496)],
    ]

    /// nil for `AUTO` (or an unknown size): the container takes what the host has.
    public static func forSize(_ size: String, profile: Profile) -> ResourceLimits? {
        guard let (cpu, mb) = table[profile]?[size.uppercased()] else { return nil }
        return ResourceLimits(cpu: cpu, memoryMB: mb)
    }

    /// Language runtimes run HIGH_CPU, except Java (HIGH_MEMORY).
    public static func profile(forRuntime name: String) -> Profile { name == "java" ? .highMemory : .highCPU }

    public var description: String { String(format: "%.2f CPU, %d MB", cpu, memoryMB) }
}

/// Linux control groups (v2, or v1's cpu and memory hierarchies) under a `grove` group. A process joins its
/// group through a small `sh` prefix before it execs, so everything it starts is limited too.
public struct Cgroups: Sendable {
    public enum Mode: String, Sendable { case v2, v1, unavailable }
    public let mode: Mode
    let root: String

    public init(mode: Mode, root: String = "/sys/fs/cgroup") { self.mode = mode; self.root = root }

    /// What this host allows: a writable cgroup v2 tree, writable v1 cpu and memory hierarchies, or nothing.
    public static func detect(root: String = "/sys/fs/cgroup") -> Cgroups {
        let fm = FileManager.default
        if fm.fileExists(atPath: root + "/cgroup.controllers"), probe(root + "/grove") {
            let controllers = (try? String(contentsOfFile: root + "/cgroup.controllers", encoding: .utf8)) ?? ""
            if controllers.contains("memory"), controllers.contains("cpu") { return Cgroups(mode: .v2, root: root) }
        }
        if probe(root + "/memory/grove"), probe(root + "/cpu/grove") { return Cgroups(mode: .v1, root: root) }
        return Cgroups(mode: .unavailable, root: root)
    }

    static func probe(_ dir: String) -> Bool {
        (try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)) != nil && access(dir, W_OK) == 0
    }

    /// The directories a group `name` lives in (v1: memory, cpu, then pids where that hierarchy is mounted).
    func directories(_ name: String) -> [String] {
        switch mode {
        case .v2: return [root + "/grove/" + name]
        case .v1:
            let pids = FileManager.default.fileExists(atPath: root + "/pids/pids.max") || FileManager.default.fileExists(atPath: root + "/pids/cgroup.procs")
            return [root + "/memory/grove/" + name, root + "/cpu/grove/" + name] + (pids ? [root + "/pids/grove/" + name] : [])
        case .unavailable: return []
        }
    }

    /// What stopped a group's processes, read after they ended: the memory limit (an OOM kill) or the process limit.
    public struct Breaches: Sendable {
        public var outOfMemory = false
        public var processLimit = false
    }

    public func breaches(_ name: String) -> Breaches {
        var b = Breaches()
        func counter(_ file: String, _ key: String) -> Int {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return 0 }
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: " ")
                if parts.count == 2, parts[0] == key { return Int(parts[1]) ?? 0 }
            }
            return 0
        }
        let dirs = directories(name)
        switch mode {
        case .v2:
            guard let d = dirs.first else { return b }
            b.outOfMemory = counter(d + "/memory.events", "oom_kill") > 0
            b.processLimit = counter(d + "/pids.events", "max") > 0
        case .v1:
            guard let d = dirs.first else { return b }
            b.outOfMemory = counter(d + "/memory.oom_control", "oom_kill") > 0
                || (Int((try? String(contentsOfFile: d + "/memory.failcnt", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0) > 0
            if dirs.count > 2 { b.processLimit = counter(dirs[2] + "/pids.events", "max") > 0 }
        case .unavailable: break
        }
        return b
    }

    /// Creates (or updates) the group and returns the argv prefix that moves a command into it.
    public func prefix(_ name: String, _ limits: ResourceLimits) throws -> [String] {
        let dirs = directories(name)
        guard !dirs.isEmpty else { return [] }
        for d in dirs { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        let bytes = limits.memoryMB * 1024 * 1024
        let period = 100_000
        let quota = max(1000, Int(limits.cpu * Double(period)))
        switch mode {
        case .v2:
            // The grove group must hand the controllers down to its children.
            try? "+memory +cpu +pids".write(toFile: root + "/cgroup.subtree_control", atomically: false, encoding: .utf8)
            try? "+memory +cpu +pids".write(toFile: root + "/grove/cgroup.subtree_control", atomically: false, encoding: .utf8)
            try write("\(bytes)", dirs[0] + "/memory.max")
            // Without swap, the limit holds for tmpfs pages (a sandbox's /tmp) too.
            try? write("0", dirs[0] + "/memory.swap.max")
            try write("\(quota) \(period)", dirs[0] + "/cpu.max")
            if let pids = limits.pids { try write("\(pids)", dirs[0] + "/pids.max") }
        case .v1:
            try write("\(bytes)", dirs[0] + "/memory.limit_in_bytes")
            try write("\(period)", dirs[1] + "/cpu.cfs_period_us")
            try write("\(quota)", dirs[1] + "/cpu.cfs_quota_us")
            if dirs.count > 2 { try write(limits.pids.map(String.init) ?? "max", dirs[2] + "/pids.max") }
        case .unavailable: return []
        }
        let join = dirs.map { "echo $$ > '\($0)/cgroup.procs'" }.joined(separator: " && ")
        return ["/bin/sh", "-c", join + " && exec \"$@\"", "grove-cgroup"]
    }

    /// Removes an empty group (its processes gone); harmless when it does not exist.
    public func remove(_ name: String) {
        for d in directories(name) { rmdir(d) }
    }

    func write(_ value: String, _ path: String) throws {
        guard let h = FileHandle(forWritingAtPath: path) else { throw RuntimeError("cannot open \(path)") }
        defer { try? h.close() }
        try h.write(contentsOf: Data(value.utf8))
    }

    /// A group name from an instance key (`project/env/app/web/3`).
    public static func name(for key: String) -> String {
        key.map { $0.isLetter || $0.isNumber || $0 == "-" ? String($0) : "_" }.joined()
    }
}
