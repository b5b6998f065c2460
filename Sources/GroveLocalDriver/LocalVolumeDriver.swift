import Foundation
import GroveDriver
import GroveRuntime

/// Mounts as directories under the data directory (`mounts/<project>/<environment>/<app>/<source>`), copied with
/// `cp --reflink=auto`: copy-on-write where the filesystem has it.
public struct LocalVolumeDriver: VolumeDriver {
    let dataDir: String

    static func mountsDirectory(dataDir: String, _ e: EnvironmentKey) -> String {
        (dataDir as NSString).appendingPathComponent("mounts/\(e.projectId)/\(e.environmentId)")
    }

    func directory(_ e: EnvironmentKey) -> String { Self.mountsDirectory(dataDir: dataDir, e) }

    func backupDirectory(_ projectId: String, _ backupId: String) -> String {
        (dataDir as NSString).appendingPathComponent("backups/\(projectId)/\(backupId)/mounts")
    }

    func copy(_ src: String, _ dst: String, failure: String) async throws {
        try FileManager.default.createDirectory(atPath: (dst as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let out = try await AdminCommand.run(["/bin/cp", "-a", "--reflink=auto", src, dst])
        guard out.status == 0 else { throw DriverFailure("\(failure): \(out.text)") }
    }

    public func clone(projectId: String, from parent: String, to child: String, log: @escaping LogSink) async throws {
        let src = directory(EnvironmentKey(projectId: projectId, environmentId: parent))
        let dst = directory(EnvironmentKey(projectId: projectId, environmentId: child))
        try? FileManager.default.removeItem(atPath: dst)
        guard FileManager.default.fileExists(atPath: src) else { return }
        try await copy(src, dst, failure: "Copying \(parent)'s mounts failed")
        try await log("  Copied the mounts of \(parent)")
    }

    public func snapshot(_ environment: EnvironmentKey, backupId: String, log: @escaping LogSink) async throws {
        let src = directory(environment)
        guard FileManager.default.fileExists(atPath: src) else { return }
        try await copy(src, backupDirectory(environment.projectId, backupId), failure: "Copying the mounts failed")
        try await log("  Backed up the mounts")
    }

    public func restore(_ environment: EnvironmentKey, backupId: String, log: @escaping LogSink) async throws {
        let src = backupDirectory(environment.projectId, backupId), dst = directory(environment)
        try? FileManager.default.removeItem(atPath: dst)
        guard FileManager.default.fileExists(atPath: src) else { return }
        try await copy(src, dst, failure: "Restoring the mounts failed")
        try await log("  Restored the mounts")
    }

    public func destroy(_ environment: EnvironmentKey) async {
        try? FileManager.default.removeItem(atPath: directory(environment))
    }

    public func deleteSnapshot(projectId: String, backupId: String) async {
        try? FileManager.default.removeItem(atPath: (backupDirectory(projectId, backupId) as NSString).deletingLastPathComponent)
    }

    public func snapshots() async -> [(projectId: String, backupId: String)] {
        let root = (dataDir as NSString).appendingPathComponent("backups")
        var out: [(projectId: String, backupId: String)] = []
        for project in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
            for id in (try? FileManager.default.contentsOfDirectory(atPath: root + "/" + project)) ?? [] { out.append((project, id)) }
        }
        return out
    }

    public func forgetProject(_ projectId: String) async {
        for dir in ["backups/\(projectId)", "mounts/\(projectId)", "logs/\(projectId)", "run/\(projectId)"] {
            try? FileManager.default.removeItem(atPath: (dataDir as NSString).appendingPathComponent(dir))
        }
    }
}
