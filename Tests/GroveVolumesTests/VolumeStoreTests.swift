import Foundation
import GroveRuntime
import GroveVolumes
import Logging
import Testing

@Suite struct VolumeStoreTests {
    func root() -> String { FileManager.default.temporaryDirectory.appendingPathComponent("volumes-\(UUID().uuidString)").path }

    @Test func cloneIsIndependentOfItsSource() async throws {
        let dir = root()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try await VolumeStore.open(root: dir, logger: Logger(label: "test"))
        try await store.create("p/main/db")
        try "parent".write(toFile: store.path("p/main/db") + "/data", atomically: true, encoding: .utf8)
        try await store.clone(from: "p/main/db", to: "p/dev/db")
        #expect(try String(contentsOfFile: store.path("p/dev/db") + "/data", encoding: .utf8) == "parent")
        try "child".write(toFile: store.path("p/dev/db") + "/data", atomically: true, encoding: .utf8)
        #expect(try String(contentsOfFile: store.path("p/main/db") + "/data", encoding: .utf8) == "parent")
        await #expect(throws: VolumeError.self) { try await store.clone(from: "p/main/db", to: "p/dev/db") }
        await #expect(throws: VolumeError.self) { try await store.clone(from: "p/none/db", to: "p/x/db") }
        try await store.delete("p/dev/db")
        #expect(!store.exists("p/dev/db") && store.exists("p/main/db"))
        try await store.delete("p/dev/db")
    }

    @Test func aCloneCutShortIsNeverAVolumeAndIsRemoved() async throws {
        let dir = root()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try await VolumeStore.open(root: dir, logger: Logger(label: "test"))
        try await store.create("p/main/db")
        try "parent".write(toFile: store.path("p/main/db") + "/data", atomically: true, encoding: .utf8)
        // What a process killed in the middle of a copy leaves: a half-written clone under its temporary name.
        for partial in ["p/dev/db.grove-partial", "_backups/p/b1/db.grove-partial"] {
            try FileManager.default.createDirectory(atPath: store.path(partial) + "/half", withIntermediateDirectories: true)
        }
        #expect(!store.exists("p/dev/db"))
        // The branch runs again: the clone succeeds over the leftover.
        try await store.clone(from: "p/main/db", to: "p/dev/db")
        #expect(try String(contentsOfFile: store.path("p/dev/db") + "/data", encoding: .utf8) == "parent")
        #expect(!store.exists("p/dev/db.grove-partial"))
        // A start sweeps the rest.
        let removed = await store.removePartialClones()
        #expect(removed == ["_backups/p/b1/db.grove-partial"])
        #expect(!store.exists("_backups/p/b1/db.grove-partial") && store.exists("p/main/db") && store.exists("p/dev/db"))
    }

    @Test func sizesFollowPlatformShProfiles() {
        #expect(ResourceLimits.forSize("S", profile: .highCPU) == ResourceLimits(cpu: 0.40, memoryMB: 128))
        #expect(ResourceLimits.forSize("xl", profile: .highMemory) == ResourceLimits(cpu: 0.75, memoryMB: 2624))
        #expect(ResourceLimits.forSize("AUTO", profile: .highCPU) == nil)
        #expect(ResourceLimits.profile(forRuntime: "java") == .highMemory && ResourceLimits.profile(forRuntime: "php") == .highCPU)
        #expect(Cgroups.name(for: "p/main/app/web/3") == "p_main_app_web_3")
    }
}

/// The reflink driver on a real XFS filesystem (a loop-mounted image; root only).
@Suite(.enabled(if: geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/mkfs.xfs")))
struct ReflinkVolumeTests {
    func run(_ argv: [String]) async throws -> AdminCommand.Output { try await AdminCommand.run(argv) }

    @Test func xfsVolumesCloneByReflink() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xfs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/mnt", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(FileManager.default.createFile(atPath: dir + "/img", contents: nil) && truncate(dir + "/img", 400 << 20) == 0)
        var out = try await run(["/usr/sbin/mkfs.xfs", "-q", "-m", "reflink=1", dir + "/img"])
        try #require(out.status == 0, "\(out.text)")
        out = try await run(["/bin/mount", "-o", "loop", dir + "/img", dir + "/mnt"])
        try #require(out.status == 0, "\(out.text)")
        do {
            let store = try await VolumeStore.open(root: dir + "/mnt/volumes", logger: Logger(label: "test"))
            #expect(store.driver == .reflink)
            try await store.create("p/main/db")
            // 100 MB in the parent: the clone shares its blocks, so free space barely moves.
            out = try await run(["/bin/dd", "if=/dev/urandom", "of=" + store.path("p/main/db") + "/data", "bs=1M", "count=100", "status=none"])
            #expect(out.status == 0)
            let before = try FileManager.default.attributesOfFileSystem(forPath: dir + "/mnt")[.systemFreeSize] as? Int64 ?? 0
            try await store.clone(from: "p/main/db", to: "p/dev/db")
            let after = try FileManager.default.attributesOfFileSystem(forPath: dir + "/mnt")[.systemFreeSize] as? Int64 ?? 0
            #expect(before - after < 10 << 20, "the clone took \(before - after) bytes")
            #expect(store.size("p/dev/db") == 100 << 20)
        } catch {
            _ = try? await run(["/bin/umount", dir + "/mnt"])
            throw error
        }
        _ = try await run(["/bin/umount", dir + "/mnt"])
    }
}

/// A child keeps none of Grove's descriptors: a pipe another thread reads to its end must not stay open in a
/// long-lived child (a command's output read would never end).
@Suite struct SpawnDescriptorTests {
    @Test func childrenInheritOnlyTheirStandardStreams() async throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("fds-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let status = try await Exec.run(["/bin/sh", "-c", "ls /proc/$$/fd"], env: ["PATH": "/usr/bin:/bin"], cwd: nil, logPath: log)
        #expect(status == 0)
        let listed = Set(try String(contentsOfFile: log, encoding: .utf8).split(whereSeparator: \.isWhitespace).map(String.init))
        #expect(!listed.contains(String(fds[0])) && !listed.contains(String(fds[1])), "\(listed.sorted())")
        #expect(listed.isSubset(of: ["0", "1", "2", "10", "255"]), "\(listed.sorted())")
    }
}
