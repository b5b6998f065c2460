/// The files applications write: their mounts, per environment, copied with the environment and kept in backups.
public protocol VolumeDriver: Sendable {
    /// `child`'s mounts become a copy of `parent`'s.
    func clone(projectId: String, from parent: String, to child: String, log: @escaping LogSink) async throws
    /// Keeps a copy of the environment's mounts as backup `backupId`.
    func snapshot(_ environment: EnvironmentKey, backupId: String, log: @escaping LogSink) async throws
    /// Replaces the environment's mounts with backup `backupId`'s (none if it had none).
    func restore(_ environment: EnvironmentKey, backupId: String, log: @escaping LogSink) async throws
    func destroy(_ environment: EnvironmentKey) async
    func deleteSnapshot(projectId: String, backupId: String) async
    func snapshots() async -> [(projectId: String, backupId: String)]
    func forgetProject(_ projectId: String) async
}
