import GroveConfig
import GroveModel

/// A managed service as it runs.
public struct RunningService: Sendable, Equatable {
    public var name: String
    public var type: TypeAndVersion
    public var port: Int
    public init(name: String, type: TypeAndVersion, port: Int) { self.name = name; self.type = type; self.port = port }
}

/// Provisions, starts, copies and backs up an environment's managed services.
public protocol ServiceRuntime: Sendable {
    /// Services in trouble: their engine exited (the runtime starts it again) or their disk is full.
    var downs: AsyncStream<ServiceDown> { get }
    /// Refuses configurations this runtime cannot run (unknown type or version, bad options) before anything starts.
    func check(_ services: [ServiceConfig]) async throws
    /// Makes the environment's services exactly `services`: starts new and changed ones, stops removed ones, keeps data.
    func ensure(_ environment: EnvironmentKey, services: [ServiceConfig], log: @escaping LogSink) async throws
    /// An application's relationships to the environment's services, as `PLATFORM_RELATIONSHIPS` lists them.
    func relationships(_ environment: EnvironmentKey, cluster: String, relationships: [String: ApplicationConfig.Relationship]) async -> [String: JSON]
    func running(_ environment: EnvironmentKey) async -> [RunningService]
    /// Where a network-storage service keeps its files, for `service` mounts.
    func storagePath(_ environment: EnvironmentKey, service: String) async -> String?
    /// Stops the services, keeping their data.
    func stop(_ environment: EnvironmentKey) async
    /// Stops the services and deletes their data.
    func destroy(_ environment: EnvironmentKey) async throws
    func hasData(_ environment: EnvironmentKey) async -> Bool
    /// Gives `child` a copy of `parent`'s data (copy-on-write where the storage has it).
    func clone(projectId: String, from parent: String, to child: String, log: @escaping LogSink) async throws -> Void
    /// Keeps a copy of the environment's data as backup `backupId`; returns its size in bytes.
    func snapshot(_ environment: EnvironmentKey, backupId: String, safe: Bool, log: @escaping LogSink) async throws -> UInt64
    /// Replaces the environment's data with backup `backupId`'s.
    func restore(_ environment: EnvironmentKey, backupId: String, log: @escaping LogSink) async throws
    func deleteSnapshot(projectId: String, backupId: String) async
    /// The backups whose data this runtime holds: (project, backup id).
    func snapshots() async -> [(projectId: String, backupId: String)]
    /// Removes copies an interrupted process left half made; returns what it removed.
    func removePartialClones() async -> [String]
    /// Removes what remains of a project once its environments are gone.
    func forgetProject(_ projectId: String) async
    /// How backups are kept: `snapshot` (atomic) or `copy`.
    var backupMethod: String { get }
    func info() async -> JSONObject
    func shutdown() async
}

/// A service of an environment in trouble: its engine exited, or its disk is (nearly) full.
public struct ServiceDown: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case exited, diskFull }
    public var environment: EnvironmentKey
    public var service: String
    public var kind: Kind
    public var detail: String
    public init(environment: EnvironmentKey, service: String, kind: Kind = .exited, detail: String) {
        self.environment = environment; self.service = service; self.kind = kind; self.detail = detail
    }
}

extension ServiceRuntime {
    /// Runtimes that cannot tell report nothing.
    public var downs: AsyncStream<ServiceDown> { AsyncStream { $0.finish() } }
}
