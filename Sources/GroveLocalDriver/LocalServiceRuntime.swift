import Foundation
import GroveConfig
import GroveDriver
import GroveModel
import GroveServices

/// Managed services as sandboxed server processes on this host, their data on the volume store.
public struct LocalServiceRuntime: ServiceRuntime {
    let manager: ServiceManager
    let dataDir: String

    public let downs: AsyncStream<ServiceDown>

    /// `diskCheck`: how often services' disks are looked at (btrfs quotas only).
    init(manager: ServiceManager, dataDir: String, diskCheck: Duration = .seconds(60)) {
        self.manager = manager
        self.dataDir = dataDir
        let exits = manager.exits
        downs = AsyncStream(bufferingPolicy: .bufferingNewest(1000)) { c in
            let relay = Task {
                for await e in exits {
                    c.yield(ServiceDown(environment: EnvironmentKey(projectId: e.projectId, environmentId: e.environmentId), service: e.service,
                                        detail: "its engine exited with status \(e.status) (\(e.exits) time\(e.exits == 1 ? "" : "s")); restarting it"))
                }
                c.finish()
            }
            let disks = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: diskCheck)
                    for f in await manager.fullDisks() {
                        c.yield(ServiceDown(environment: EnvironmentKey(projectId: f.projectId, environmentId: f.environmentId), service: f.service,
                                            kind: .diskFull, detail: "its disk is full: \(f.usedMB) MB used of \(f.diskMB) MB; raise its disk in .platform/services.yaml"))
                    }
                }
            }
            c.onTermination = { _ in relay.cancel(); disks.cancel() }
        }
    }

    static func backupPrefix(_ projectId: String, _ backupId: String) -> String { "_backups/\(projectId)/\(backupId)" }

    public func check(_ services: [ServiceConfig]) async throws {
        do { try await ServiceManager.check(services) } catch let e as ServiceFailure { throw DriverFailure(e.description) }
    }

    public func ensure(_ environment: EnvironmentKey, services: [ServiceConfig], log: @escaping LogSink) async throws {
        do {
            try await manager.ensure(projectId: environment.projectId, environmentId: environment.environmentId, services: services, log: log)
        } catch let e as ServiceFailure { throw DriverFailure(e.description) }
    }

    public func relationships(_ environment: EnvironmentKey, cluster: String, relationships: [String: ApplicationConfig.Relationship]) async -> [String: JSON] {
        await manager.relationships(projectId: environment.projectId, environmentId: environment.environmentId, cluster: cluster, relationships: relationships)
    }

    public func running(_ environment: EnvironmentKey) async -> [RunningService] {
        await manager.services(projectId: environment.projectId, environmentId: environment.environmentId).map {
            RunningService(name: $0.name, type: $0.type, port: $0.port)
        }
    }

    public func storagePath(_ environment: EnvironmentKey, service: String) async -> String? {
        manager.storagePath(projectId: environment.projectId, environmentId: environment.environmentId, service: service)
    }

    public func stop(_ environment: EnvironmentKey) async {
        await manager.stop(projectId: environment.projectId, environmentId: environment.environmentId)
    }

    public func destroy(_ environment: EnvironmentKey) async throws {
        try await manager.destroy(projectId: environment.projectId, environmentId: environment.environmentId)
    }

    public func hasData(_ environment: EnvironmentKey) async -> Bool {
        await manager.hasData(projectId: environment.projectId, environmentId: environment.environmentId)
    }

    public func clone(projectId: String, from parent: String, to child: String, log: @escaping LogSink) async throws {
        try await manager.clone(projectId: projectId, from: parent, to: child, log: log)
    }

    public func snapshot(_ environment: EnvironmentKey, backupId: String, safe: Bool, log: @escaping LogSink) async throws -> UInt64 {
        try await manager.snapshot(projectId: environment.projectId, environmentId: environment.environmentId,
                                   to: Self.backupPrefix(environment.projectId, backupId), safe: safe, log: log)
    }

    public func restore(_ environment: EnvironmentKey, backupId: String, log: @escaping LogSink) async throws {
        try await manager.restore(projectId: environment.projectId, environmentId: environment.environmentId,
                                  from: Self.backupPrefix(environment.projectId, backupId), log: log)
    }

    public func deleteSnapshot(projectId: String, backupId: String) async {
        try? await manager.deleteVolumes(under: Self.backupPrefix(projectId, backupId))
    }

    public func snapshots() async -> [(projectId: String, backupId: String)] {
        let root = manager.volumes.path("_backups")
        var out: [(projectId: String, backupId: String)] = []
        for project in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
            for id in (try? FileManager.default.contentsOfDirectory(atPath: root + "/" + project)) ?? [] { out.append((project, id)) }
        }
        return out
    }

    public func removePartialClones() async -> [String] { await manager.volumes.removePartialClones() }

    public func forgetProject(_ projectId: String) async {
        try? await manager.deleteVolumes(under: "_backups/\(projectId)")
        try? FileManager.default.removeItem(atPath: (dataDir as NSString).appendingPathComponent("run/services/\(projectId)"))
        // Only an empty directory: a volume that could not be deleted stays where an operator can see it.
        let root = manager.volumes.root
        rmdir((root as NSString).appendingPathComponent("_backups/\(projectId)"))
        rmdir((root as NSString).appendingPathComponent(projectId))
    }

    public var backupMethod: String { manager.volumes.driver.atomic ? "snapshot" : "copy" }

    public func info() async -> JSONObject {
        JSONObject([("volume_driver", .string(manager.volumes.driver.rawValue)), ("copy_on_write", .bool(manager.volumes.driver.copyOnWrite)),
                    ("volumes", .string(manager.volumes.root))])
    }

    public func shutdown() async { await manager.shutdown() }
}
