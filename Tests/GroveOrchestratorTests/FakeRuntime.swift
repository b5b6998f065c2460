import Foundation
import GroveConfig
import GroveDriver
import GroveModel

/// A runtime that runs nothing: it records what the orchestrator asks and keeps "data" as strings, so the
/// orchestrator's deploy, branch, backup and restore logic can be tested without a process, volume or router.
actor FakeWorld {
    /// Instance events as a runtime would report them (`crash`).
    nonisolated let events: AsyncStream<InstanceEvent>
    nonisolated let eventSink: AsyncStream<InstanceEvent>.Continuation
    init() { (events, eventSink) = AsyncStream.makeStream(of: InstanceEvent.self) }
    nonisolated func report(_ e: InstanceEvent) { eventSink.yield(e) }

    var running: [String: InstanceSpec] = [:]
    var sites: [EnvironmentKey: RouterSite] = [:]
    var builds: [String] = []
    var commands: [CommandSpec] = []
    var serviceData: [EnvironmentKey: [String: String]] = [:]
    var liveServices: [EnvironmentKey: [ServiceConfig]] = [:]
    var mountData: [EnvironmentKey: String] = [:]
    var serviceSnapshots: [String: [String: String]] = [:]
    var mountSnapshots: [String: String] = [:]
    /// Applications whose web instance never gets ready; the status deploy hooks exit with; a clone that fails.
    var failingApps: Set<String> = []
    var hookStatus: Int32 = 0
    var failClone = false
    var nextPort = 20000

    func set(failingApps: Set<String>) { self.failingApps = failingApps }
    func set(hookStatus: Int32) { self.hookStatus = hookStatus }
    func set(failClone: Bool) { self.failClone = failClone }
    func write(_ env: EnvironmentKey, service: String, _ value: String) { serviceData[env, default: [:]][service] = value }
    func write(_ env: EnvironmentKey, mounts value: String) { mountData[env] = value }
    /// A server restart: every process is gone, the data stays.
    func crash() { running = [:]; sites = [:]; liveServices = [:] }

    func start(_ s: InstanceSpec) throws -> InstanceEndpoint {
        if failingApps.contains(s.app), s.listener != .none { throw DriverFailure("\(s.app) did not listen on port \(s.listener.port ?? 0)") }
        running[s.id] = s
        return InstanceEndpoint(host: "10.0.0.1", port: s.listener.port, socket: nil, note: "")
    }
    func stop(_ id: String) { running[id] = nil }
    func run(_ c: CommandSpec) -> Int32 { commands.append(c); return c.logName == "deploy" ? hookStatus : 0 }
    func ports(_ n: Int) -> [Int] { defer { nextPort += n }; return (0..<n).map { nextPort + $0 } }
    func build(_ r: BuildRequest) -> Artifact {
        builds.append(r.app.name)
        return Artifact(key: "tree-\(r.treeId.prefix(8))-\(r.app.name)", hostPath: "/builds/\(r.app.name)", appDir: "/app", runtimeEnvironment: ["PATH": "/usr/bin"],
                        reused: false)
    }
    func publish(_ e: EnvironmentKey, _ site: RouterSite?) { sites[e] = site }
    func ensure(_ e: EnvironmentKey, _ services: [ServiceConfig]) {
        liveServices[e] = services
        for s in services where serviceData[e]?[s.name] == nil { serviceData[e, default: [:]][s.name] = "" }
    }
    func stopServices(_ e: EnvironmentKey) { liveServices[e] = nil }
    func destroyServices(_ e: EnvironmentKey) { liveServices[e] = nil; serviceData[e] = nil }
    func cloneServices(_ p: String, _ from: String, _ to: String) throws {
        let child = EnvironmentKey(projectId: p, environmentId: to)
        serviceData[child] = [:]
        if failClone { serviceData[child] = ["db": "half"]; throw DriverFailure("disk full") }
        serviceData[child] = serviceData[EnvironmentKey(projectId: p, environmentId: from)]
    }
    func cloneMounts(_ p: String, _ from: String, _ to: String) {
        mountData[EnvironmentKey(projectId: p, environmentId: to)] = mountData[EnvironmentKey(projectId: p, environmentId: from)]
    }
    func snapshotServices(_ e: EnvironmentKey, _ id: String) -> UInt64 {
        serviceSnapshots["\(e.projectId)/\(id)"] = serviceData[e] ?? [:]
        return UInt64((serviceData[e] ?? [:]).values.map(\.count).reduce(0, +))
    }
    func restoreServices(_ e: EnvironmentKey, _ id: String) throws {
        guard let snap = serviceSnapshots["\(e.projectId)/\(id)"] else { throw DriverFailure("no backup \(id)") }
        liveServices[e] = nil
        serviceData[e] = snap
    }
    func snapshotMounts(_ e: EnvironmentKey, _ id: String) { if let m = mountData[e] { mountSnapshots["\(e.projectId)/\(id)"] = m } }
    func restoreMounts(_ e: EnvironmentKey, _ id: String) { mountData[e] = mountSnapshots["\(e.projectId)/\(id)"] }
    func deleteSnapshots(_ p: String, _ id: String) { serviceSnapshots["\(p)/\(id)"] = nil; mountSnapshots["\(p)/\(id)"] = nil }
    func destroyMounts(_ e: EnvironmentKey) { mountData[e] = nil }
    func instances(_ e: EnvironmentKey) -> [InstanceSpec] { running.values.filter { $0.environment == e }.sorted { $0.id < $1.id } }
}

struct FakeBuilds: BuildExecutor {
    let world: FakeWorld
    func build(_ request: BuildRequest, log: @escaping LogSink) async throws -> Artifact { await world.build(request) }
    func clearCache() async {}
    func removeUnfinished() async -> [String] { [] }
    func forgetProject(_ projectId: String) async {}
}

struct FakeApps: AppRuntime {
    let world: FakeWorld
    var events: AsyncStream<InstanceEvent> { world.events }
    func start(_ spec: InstanceSpec, waitUntilReady: Bool) async throws -> InstanceEndpoint { try await world.start(spec) }
    func stop(_ id: String, grace: Duration) async { await world.stop(id) }
    func reservePorts(_ count: Int) async throws -> [Int] { await world.ports(count) }
    func run(_ command: CommandSpec, log: @escaping LogSink) async throws -> Int32 { await world.run(command) }
    func session(_ command: CommandSpec, io: SessionIO) async throws -> RunningSession {
        let status = await world.run(command)
        return RunningSession(wait: { status }, signal: { _ in })
    }
    func address(of environment: EnvironmentKey) async -> String { "10.0.0.1" }
    func release(_ environment: EnvironmentKey) async {}
    func logDirectory(_ environment: EnvironmentKey) -> String { "/logs/\(environment)" }
    var mountsWritable: Bool { true }
    func prepareCheckout(_ directory: String) async throws -> String? { nil }
    func info() async -> JSONObject { JSONObject([("sandbox", "fake")]) }
    func shutdown() async { await world.crash() }
}

struct FakeServices: ServiceRuntime {
    let world: FakeWorld
    func check(_ services: [ServiceConfig]) async throws {
        if let bad = services.first(where: { $0.type.name == "oracle" }) { throw DriverFailure("\(bad.type) cannot run on Grove") }
    }
    func ensure(_ environment: EnvironmentKey, services: [ServiceConfig], log: @escaping LogSink) async throws { await world.ensure(environment, services) }
    func relationships(_ environment: EnvironmentKey, cluster: String, relationships: [String: ApplicationConfig.Relationship]) async -> [String: JSON] {
        let live = await world.liveServices[environment] ?? []
        var out: [String: JSON] = [:]
        for (name, rel) in relationships where live.contains(where: { $0.name == rel.service }) {
            out[name] = .array([.object(JSONObject([("host", "127.0.0.1"), ("port", 5432), ("service", .string(rel.service)), ("cluster", .string(cluster))]))])
        }
        return out
    }
    func running(_ environment: EnvironmentKey) async -> [RunningService] {
        (await world.liveServices[environment] ?? []).map { RunningService(name: $0.name, type: $0.type, port: 6000) }
    }
    func storagePath(_ environment: EnvironmentKey, service: String) async -> String? { nil }
    func stop(_ environment: EnvironmentKey) async { await world.stopServices(environment) }
    func destroy(_ environment: EnvironmentKey) async throws { await world.destroyServices(environment) }
    func hasData(_ environment: EnvironmentKey) async -> Bool { !(await world.serviceData[environment] ?? [:]).isEmpty }
    func clone(projectId: String, from parent: String, to child: String, log: @escaping LogSink) async throws {
        try await world.cloneServices(projectId, parent, child)
    }
    func snapshot(_ environment: EnvironmentKey, backupId: String, safe: Bool, log: @escaping LogSink) async throws -> UInt64 {
        await world.snapshotServices(environment, backupId)
    }
    func restore(_ environment: EnvironmentKey, backupId: String, log: @escaping LogSink) async throws { try await world.restoreServices(environment, backupId) }
    func deleteSnapshot(projectId: String, backupId: String) async { await world.deleteSnapshots(projectId, backupId) }
    func snapshots() async -> [(projectId: String, backupId: String)] { [] }
    func removePartialClones() async -> [String] { [] }
    func forgetProject(_ projectId: String) async {}
    var backupMethod: String { "snapshot" }
    func info() async -> JSONObject { JSONObject() }
    func shutdown() async {}
}

struct FakeVolumes: VolumeDriver {
    let world: FakeWorld
    func clone(projectId: String, from parent: String, to child: String, log: @escaping LogSink) async throws { await world.cloneMounts(projectId, parent, child) }
    func snapshot(_ environment: EnvironmentKey, backupId: String, log: @escaping LogSink) async throws { await world.snapshotMounts(environment, backupId) }
    func restore(_ environment: EnvironmentKey, backupId: String, log: @escaping LogSink) async throws { await world.restoreMounts(environment, backupId) }
    func destroy(_ environment: EnvironmentKey) async { await world.destroyMounts(environment) }
    func deleteSnapshot(projectId: String, backupId: String) async { await world.deleteSnapshots(projectId, backupId) }
    func snapshots() async -> [(projectId: String, backupId: String)] { [] }
    func forgetProject(_ projectId: String) async {}
}

struct FakeRouter: RouterDriver {
    let world: FakeWorld
    var available: Bool { true }
    var unavailableReason: String { "" }
    var httpPort: Int { 8080 }
    var httpsPort: Int? { nil }
    func publish(_ environment: EnvironmentKey, _ site: RouterSite?) async throws { await world.publish(environment, site) }
    func site(_ environment: EnvironmentKey) async -> RouterSite? { await world.sites[environment] }
    func stop() async {}
}

extension RuntimeDrivers {
    static func fake(_ world: FakeWorld) -> RuntimeDrivers {
        RuntimeDrivers(name: "fake", builds: FakeBuilds(world: world), apps: FakeApps(world: world), services: FakeServices(world: world),
                       volumes: FakeVolumes(world: world), router: FakeRouter(world: world))
    }
}
