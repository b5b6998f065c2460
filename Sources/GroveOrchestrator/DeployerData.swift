import Foundation
import GroveDriver
import GroveModel

/// An environment's data (service volumes and mounts): copied to branches, kept in backups, restored.
extension Deployer {
    /// Gives `child` copies of `parent`'s data (replacing any it had); nothing when the parent has none.
    public func cloneData(projectId: String, from parent: String, to child: String, log: @escaping @Sendable (String) async throws -> Void) async throws {
        try await volumes.clone(projectId: projectId, from: parent, to: child, log: log)
        guard let services, await services.hasData(Self.envKey(projectId, parent)) else {
            try await log("  The parent \(parent) has no service data to copy.")
            return
        }
        do {
            try await services.clone(projectId: projectId, from: parent, to: child, log: log)
        } catch {
            // A half-cloned environment is worse than an empty one: remove what was copied.
            try? await services.destroy(Self.envKey(projectId, child))
            throw ActivityFailure("Copying \(parent)'s data failed; \(child) has none: \(error)")
        }
    }

    /// Snapshots an environment's service volumes and mounts as backup `backupId`; returns the bytes kept.
    public func backup(projectId: String, environmentId: String, backupId: String, safe: Bool,
                       log: @escaping @Sendable (String) async throws -> Void) async throws -> UInt64 {
        let key = Self.envKey(projectId, environmentId)
        var total: UInt64 = 0
        if let services { total += try await services.snapshot(key, backupId: backupId, safe: safe, log: log) }
        try await volumes.snapshot(key, backupId: backupId, log: log)
        return total
    }

    /// Replaces `environmentId`'s service data and mounts with backup `backupId`'s.
    public func restoreBackup(projectId: String, backupId: String, into environmentId: String,
                              log: @escaping @Sendable (String) async throws -> Void) async throws {
        let key = Self.envKey(projectId, environmentId)
        try await services?.restore(key, backupId: backupId, log: log)
        try await volumes.restore(key, backupId: backupId, log: log)
    }

    /// Deletes a backup's data.
    public func deleteBackup(projectId: String, backupId: String) async {
        await services?.deleteSnapshot(projectId: projectId, backupId: backupId)
        await volumes.deleteSnapshot(projectId: projectId, backupId: backupId)
    }

    /// What is left of a project once its environments are undeployed: its backups, and its (now empty) directories
    /// of volumes, mounts, logs and run files.
    public func forgetProject(_ projectId: String) async {
        await services?.forgetProject(projectId)
        await builds.forgetProject(projectId)
        await volumes.forgetProject(projectId)
        try? FileManager.default.removeItem(atPath: (options.dataDir as NSString).appendingPathComponent("deployments/\(projectId)"))
    }

    /// How backups are kept on this server.
    public nonisolated var backupMethod: String { drivers.services?.backupMethod ?? "copy" }

    /// What this server runs on, for `grove system:info`: runtime, sandbox, volume driver, cgroups, router ports.
    public func systemInfo() async -> JSONObject {
        var o = await drivers.info()
        o["base_domain"] = .string(options.baseDomain)
        return o
    }

    /// Where an environment's logs are written: `<app>.log`, `<app>--<worker>.log`, deploy, post-deploy, cron,
    /// operation, source-operation, and the router's access and error logs.
    public nonisolated func logDirectory(projectId: String, environmentId: String) -> String {
        drivers.apps.logDirectory(Self.envKey(projectId, environmentId))
    }
}
