import Foundation
import GroveConfig
import GroveModel
import GroveRuntime
import GroveVolumes
import Logging

/// Runs each environment's managed services: one server per service, its data on a volume, in its sandbox,
/// restarted with backoff. Branching clones the parent's volumes (copy-on-write where the filesystem allows).
public actor ServiceManager {
    public struct Running: Sendable {
        public let name: String
        public let type: TypeAndVersion
        public let port: Int
        public let volume: String
        let runDir: String
        let state: ServiceState
        let engine: any ServiceEngine
        let key: String
        let config: ServiceConfig
        /// Ports of endpoints served beside the main one.
        var extraPorts: [String: Int] = [:]
    }

    public nonisolated let volumes: VolumeStore
    let sandbox: Sandbox
    let supervisor: AppSupervisor
    let dataDir: String
    let logger: Logger
    private var running: [String: [String: Running]] = [:]

    let cgroups: Cgroups

    public init(dataDir: String, volumes: VolumeStore, sandbox: Sandbox, logger: Logger, cgroups: Cgroups = .detect(),
                networks: EnvironmentNetworks? = nil) {
        self.cgroups = cgroups
        self.networks = networks
        self.dataDir = dataDir
        self.volumes = volumes
        self.sandbox = sandbox
        let (exits, continuation) = AsyncStream.makeStream(of: ServiceExit.self, bufferingPolicy: .bufferingNewest(1000))
        self.exits = exits
        // Keys are project/environment/service/<name>/<port>: a restart of the engine means the service went down.
        self.supervisor = AppSupervisor(logger: logger) { key, status, count in
            let parts = key.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 4, parts[2] == "service" else { return }
            continuation.yield(ServiceExit(projectId: parts[0], environmentId: parts[1], service: parts[3], status: status, exits: count))
        }
        self.logger = logger
    }

    /// Every exit of a service's engine (it is restarted with backoff).
    public nonisolated let exits: AsyncStream<ServiceExit>

    /// Running services whose disk (btrfs quota) is within 5% of full: (project, environment, service, used MB, disk MB).
    public func fullDisks() async -> [(projectId: String, environmentId: String, service: String, usedMB: UInt64, diskMB: Int)] {
        var out: [(projectId: String, environmentId: String, service: String, usedMB: UInt64, diskMB: Int)] = []
        for (env, services) in running {
            let parts = env.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            for r in services.values {
                guard let disk = r.config.disk, let usage = await volumes.usage(r.volume), usage.full else { continue }
                out.append((parts[0], parts[1], r.name, usage.exclusive >> 20, disk))
            }
        }
        return out
    }

    static func envKey(_ p: String, _ e: String) -> String { p + "/" + e }

    /// The environments' own networks: a service listens on 127.0.0.1 in its environment's namespace.
    let networks: EnvironmentNetworks?

    /// Where the host reaches an environment's ports (its network's address, or the shared loopback).
    public func address(projectId: String, environmentId: String) async throws -> String {
        try await networks?.network(for: Self.envKey(projectId, environmentId))?.address ?? "127.0.0.1"
    }

    /// The engine for a service type, or why this host cannot run it.
    static func engine(for config: ServiceConfig) async throws -> any ServiceEngine {
        let v = config.type.version
        switch config.type.name {
        case "postgresql": return try PostgresEngine.locate(version: v)
        case "mariadb", "mysql": return try await MariaDBEngine.locate(type: config.type.name, version: v)
        case "redis", "redis-persistent", "valkey": return try RedisEngine.locate(type: config.type.name, version: v)
        case "memcached": return try MemcachedEngine.locate(version: v)
        case "chrome-headless": return try ChromeHeadlessEngine.locate(version: v)
        case "rabbitmq": return try RabbitMQEngine.locate(version: v)
        case "varnish": return try VarnishEngine.locate(version: v)
        default: throw ServiceFailure("\(config.type) cannot run on Grove yet: supported service types are postgresql, mariadb, mysql, redis, redis-persistent, valkey, memcached, rabbitmq, varnish, chrome-headless and network-storage")
        }
    }

    /// Checks, before anything changes, that every service can run here.
    public static func check(_ services: [ServiceConfig]) async throws {
        for s in services where s.type.name != "network-storage" { _ = try await engine(for: s) }
    }

    public nonisolated func volumeId(_ p: String, _ e: String, _ service: String) -> String { "\(p)/\(e)/\(service)" }

    /// A `network-storage` service's directory on the host (nil until a deploy made it): applications mount it with
    /// `source: service`; every application of the environment shares it, and branches get a copy like any volume.
    public nonisolated func storagePath(projectId: String, environmentId: String, service: String) -> String? {
        let vol = volumeId(projectId, environmentId, service)
        return volumes.exists(vol) ? volumes.path(vol) + "/files" : nil
    }

    /// network-storage has no server: its volume is made (and held to its disk) and nothing runs.
    func ensureStorage(projectId: String, environmentId: String, config: ServiceConfig,
                       log: @escaping @Sendable (String) async throws -> Void) async throws {
        let vol = volumeId(projectId, environmentId, config.name)
        if !volumes.exists(vol) {
            try await log("  Creating service \(config.name) (\(config.type)) on a \(volumes.driver.rawValue) volume")
            try await volumes.create(vol)
        }
        try FileManager.default.createDirectory(atPath: volumes.path(vol) + "/files", withIntermediateDirectories: true)
        if readState(vol) == nil {
            let state = ServiceState(type: config.type.name, version: config.type.version, endpoints: [:])
            _ = FileManager.default.createFile(atPath: statePath(vol), contents: try JSONEncoder().encode(state), attributes: [.posixPermissions: 0o600])
        }
        try await volumes.limit(vol, bytes: config.disk.map(Self.bytes))
    }

    func statePath(_ volume: String) -> String { volumes.path(volume) + "/grove-service.json" }

    func readState(_ volume: String) -> ServiceState? {
        guard let data = FileManager.default.contents(atPath: statePath(volume)) else { return nil }
        return try? JSONDecoder().decode(ServiceState.self, from: data)
    }

    /// Starts what is missing, keeps what runs with the same type and version, stops what the configuration
    /// dropped (its volume is kept). A version change the data cannot follow is refused before anything stops.
    public func ensure(projectId: String, environmentId: String, services: [ServiceConfig],
                       log: @escaping @Sendable (String) async throws -> Void) async throws {
        let key = Self.envKey(projectId, environmentId)
        var current = running[key] ?? [:]
        // Refuse first: configurations the server rejects, downgrades and major changes of stateful services.
        for s in services where s.type.name != "network-storage" {
            do { try await Self.engine(for: s).check(s) } catch let e as ServiceFailure {
                throw ServiceFailure("Service \(s.name) (\(s.file):\(s.line)): \(e.description)")
            }
        }
        for s in services {
            let vol = volumeId(projectId, environmentId, s.name)
            guard let state = readState(vol) else { continue }
            if state.type != s.type.name, !(Set([state.type, s.type.name]).isSubset(of: ["mariadb", "mysql"])) {
                throw ServiceFailure("Service \(s.name) holds \(state.type) data; it cannot become \(s.type.name). Use a new service name.")
            }
            if MariaDBEngine.compare(s.type.version, state.version) < 0 {
                throw ServiceFailure("Service \(s.name) runs \(state.type):\(state.version); downgrading it to \(s.type.version) is refused.")
            }
            if s.type.name == "postgresql", s.type.version != state.version {
                throw ServiceFailure("Service \(s.name) holds PostgreSQL \(state.version) data; upgrading it in place to \(s.type.version) is not supported (dump, and restore into a new service).")
            }
            if let disk = s.disk, let usage = await volumes.usage(vol), usage.exclusive > Self.bytes(disk) {
                throw ServiceFailure("Service \(s.name) holds \(usage.exclusive >> 20) MB of its own data; its disk cannot shrink to \(disk) MB "
                                     + "(\(s.file):\(s.line)). Delete data first, or keep disk at \((usage.exclusive >> 20) + 1) MB or more.")
            }
        }
        for s in services {
            if s.type.name == "network-storage" {
                try await ensureStorage(projectId: projectId, environmentId: environmentId, config: s, log: log)
                continue
            }
            // Varnish compiles its backends' ports into its VCL: new application ports mean a new varnishd.
            if let r = current[s.name], r.type == s.type, r.config.backendPorts == s.backendPorts,
               r.engine.extraEndpoints(r.config) == r.engine.extraEndpoints(s) {
                // Same server: apply what a changed configuration asks (new databases, users, grants); an unchanged
                // one was applied when the server started, so a push does not pay for it again.
                if r.config.configuration != s.configuration {
                    try await r.engine.provision(run: r.runDir, port: r.port, state: r.state, config: s)
                }
                if r.config.disk != s.disk { try await volumes.limit(r.volume, bytes: s.disk.map(Self.bytes)) }
                let updated = Running(name: r.name, type: r.type, port: r.port, volume: r.volume, runDir: r.runDir, state: r.state,
                                      engine: r.engine, key: r.key, config: s, extraPorts: r.extraPorts)
                current[s.name] = updated
                try await reportDisk(updated, started: false, log: log)
                continue
            }
            if let r = current[s.name] { await stop(r) }
            let r = try await start(projectId: projectId, environmentId: environmentId, config: s, log: log)
            current[s.name] = r
            running[key] = current
            try await reportDisk(r, started: true, log: log)
        }
        for (name, r) in current where !services.contains(where: { $0.name == name }) {
            try await log("  Stopping service \(name): no longer configured (its data is kept)")
            await stop(r)
            current[name] = nil
        }
        running[key] = current
    }

    func start(projectId: String, environmentId: String, config: ServiceConfig, log: @escaping @Sendable (String) async throws -> Void) async throws -> Running {
        let engine = try await Self.engine(for: config)
        let vol = volumeId(projectId, environmentId, config.name)
        let runDir = (dataDir as NSString).appendingPathComponent("run/services/\(projectId)/\(environmentId)/\(config.name)")
        try? FileManager.default.removeItem(atPath: runDir)
        try FileManager.default.createDirectory(atPath: runDir, withIntermediateDirectories: true)
        chmod(runDir, 0o777)
        let hostData = volumes.path(vol)
        let inside = sandbox.appPath(hostPath: hostData)
        var state: ServiceState
        if let existing = readState(vol) {
            state = existing
            state.version = config.type.version
        } else {
            try await log("  Creating service \(config.name) (\(config.type)) on a \(volumes.driver.rawValue) volume")
            if !volumes.exists(vol) { try await volumes.create(vol) }
            chmod(hostData, 0o755)
            let sandbox = self.sandbox
            state = try await engine.initialize(data: inside, hostData: hostData, run: runDir, config: config) { script in
                try await AdminCommand.run(sandbox.command(script, app: hostData, writableApp: true, extraBinds: [(runDir, runDir)], asTenant: false),
                                           environment: ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"])
            }
        }
        // The state holds the service's passwords: readable by Grove's user only.
        _ = FileManager.default.createFile(atPath: statePath(vol), contents: try JSONEncoder().encode(state), attributes: [.posixPermissions: 0o600])
        try await volumes.limit(vol, bytes: config.disk.map(Self.bytes))
        let extras = engine.extraEndpoints(config)
        let picked = try Exec.freePorts(1 + extras.count)
        let port = picked[0]
        var extraPorts: [String: Int] = [:]
        for (i, name) in extras.enumerated() { extraPorts[name] = picked[i + 1] }
        let script = engine.start(data: inside, run: runDir, port: port, extraPorts: extraPorts, config: config, state: state)
        let network = try await networks?.network(for: Self.envKey(projectId, environmentId))
        var argv = (network?.enter ?? []) + sandbox.command(script, app: hostData, writableApp: true, extraBinds: [(runDir, runDir)], asTenant: false)
        // An explicit size holds the server to Platform.sh's profile: databases HIGH_MEMORY, caches BALANCED.
        let profile: ResourceLimits.Profile = ["redis", "redis-persistent", "valkey", "memcached", "varnish"].contains(config.type.name) ? .balanced
            : config.type.name == "chrome-headless" ? .highCPU : .highMemory
        var limitNote = ""
        if let limits = ResourceLimits.forSize(config.size, profile: profile) {
            if cgroups.mode == .unavailable {
                limitNote = " (size \(config.size) not enforced: no writable cgroups)"
            } else {
                argv = try cgroups.prefix(Cgroups.name(for: "\(projectId)/\(environmentId)/service/\(config.name)"), limits) + argv
                limitNote = " (size \(config.size): \(limits))"
            }
        }
        let logDir = (dataDir as NSString).appendingPathComponent("logs/\(projectId)/\(environmentId)")
        try FileManager.default.createDirectory(atPath: logDir, withIntermediateDirectories: true)
        let logPath = logDir + "/\(config.name).service.log"
        let key = "\(projectId)/\(environmentId)/service/\(config.name)/\(port)"
        if let note = engine.versionNote { try await log("  W: \(note)") }
        try await log("  Starting service \(config.name) (\(config.type)) on port \(port)\(limitNote)")
        try await supervisor.start(key, .init(argv: argv, env: ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"],
                                              cwd: sandbox.mode == .plain ? hostData : nil, logPath: logPath))
        let startedAt = ContinuousClock.now
        let deadline = startedAt + .seconds(90)
        var ready = false
        while ContinuousClock.now < deadline {
            if Exec.accepts(port: port, host: network?.address ?? "127.0.0.1") { ready = true; break }
            if let n = await supervisor.restarts(key), n > 0 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let r = Running(name: config.name, type: config.type, port: port, volume: vol, runDir: runDir, state: state, engine: engine, key: key, config: config,
                        extraPorts: extraPorts)
        guard ready else {
            await stop(r)
            if let usage = await volumes.usage(vol), usage.full {
                throw ServiceFailure("Service \(config.name) (\(config.type)) did not start: its disk is full (\(usage.exclusive >> 20) MB of \(config.disk ?? 0) MB). "
                                     + "Raise disk in \(config.file) (line \(config.line)).\n\(tail(logPath))")
            }
            throw ServiceFailure("Service \(config.name) (\(config.type)) did not start:\n\(tail(logPath))")
        }
        let took = (ContinuousClock.now - startedAt).components
        try await log("  Service \(config.name) accepts connections (\(took.seconds * 1000 + took.attoseconds / 1_000_000_000_000_000) ms)")
        // Accepting TCP comes a moment before accepting logins; provisioning retries briefly.
        var lastError: (any Error)?
        for _ in 0..<40 {
            do {
                try await engine.provision(run: runDir, port: port, state: state, config: config)
                lastError = nil
                break
            } catch {
                lastError = error
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        if let lastError {
            await stop(r)
            throw ServiceFailure("Service \(config.name) (\(config.type)) started but could not be set up: \(lastError)")
        }
        return r
    }

    static func bytes(_ megabytes: Int) -> UInt64 { UInt64(max(megabytes, 0)) << 20 }

    /// Says in the deploy log when a service's disk is full or nearly so (writes fail with "Disk quota exceeded"),
    /// and when its size cannot be enforced here.
    func reportDisk(_ r: Running, started: Bool, log: @escaping @Sendable (String) async throws -> Void) async throws {
        guard let disk = r.config.disk else { return }
        guard volumes.quotas else {
            if started { try await log("  Service \(r.name): disk \(disk) MB is not enforced on the \(volumes.driver.rawValue) volume driver (btrfs as root enforces it)") }
            return
        }
        guard let usage = await volumes.usage(r.volume) else { return }
        let used = usage.exclusive >> 20
        if usage.full {
            try await log("  Service \(r.name)'s disk is full: \(used) MB of \(disk) MB used; its writes fail with \"Disk quota exceeded\". "
                          + "Raise disk in \(r.config.file) (line \(r.config.line)) or delete data.")
        } else if usage.exclusive * 10 >= Self.bytes(disk) * 9 {
            try await log("  Service \(r.name)'s disk is nearly full: \(used) MB of \(disk) MB used")
        }
    }

    func tail(_ path: String) -> String {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").suffix(15).joined(separator: "\n")
    }

    func stop(_ r: Running) async {
        await supervisor.stop(r.key, grace: .seconds(20))
        cgroups.remove(Cgroups.name(for: "\(r.volume.split(separator: "/").prefix(2).joined(separator: "/"))/service/\(r.name)"))
    }

    /// Stops an environment's services, keeping their data (pause).
    public func stop(projectId: String, environmentId: String) async {
        let key = Self.envKey(projectId, environmentId)
        for r in (running[key] ?? [:]).values { await stop(r) }
        running[key] = nil
    }

    /// Stops an environment's services and deletes their data (deactivate, delete).
    public func destroy(projectId: String, environmentId: String) async throws {
        await stop(projectId: projectId, environmentId: environmentId)
        let dir = volumes.path("\(projectId)/\(environmentId)")
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            try await volumes.delete("\(projectId)/\(environmentId)/\(name)")
        }
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Whether an environment has service data.
    public func hasData(projectId: String, environmentId: String) -> Bool {
        !((try? FileManager.default.contentsOfDirectory(atPath: volumes.path("\(projectId)/\(environmentId)"))) ?? []).isEmpty
    }

    /// The child's volumes become clones of the parent's (existing child data is replaced). Running parent
    /// services stay up: a btrfs snapshot is one atomic point in time; other drivers flush the server and hold
    /// it still (SIGSTOP) for the copy, so every clone is crash-consistent.
    public func clone(projectId: String, from parent: String, to child: String, log: @escaping @Sendable (String) async throws -> Void) async throws {
        await stop(projectId: projectId, environmentId: child)
        try await destroy(projectId: projectId, environmentId: child)
        _ = try await copyVolumes(projectId: projectId, environmentId: parent, from: "\(projectId)/\(parent)", to: "\(projectId)/\(child)",
                              holdStill: false, verb: "Cloned", origin: "from \(parent)", log: log)
    }

    /// Copies an environment's volumes under `prefix` (a backup). `safe` holds the servers still for the copy
    /// whatever the driver; otherwise only drivers without atomic snapshots do. Returns the bytes copied.
    @discardableResult
    public func snapshot(projectId: String, environmentId: String, to prefix: String, safe: Bool,
                         log: @escaping @Sendable (String) async throws -> Void) async throws -> UInt64 {
        try await copyVolumes(projectId: projectId, environmentId: environmentId, from: "\(projectId)/\(environmentId)", to: prefix,
                              holdStill: safe, verb: "Backed up", origin: "", log: log)
    }

    /// Replaces an environment's data with the volumes under `prefix` (the environment's services stop first;
    /// the next deploy starts them on the restored data).
    public func restore(projectId: String, environmentId: String, from prefix: String, log: @escaping @Sendable (String) async throws -> Void) async throws {
        await stop(projectId: projectId, environmentId: environmentId)
        try await destroy(projectId: projectId, environmentId: environmentId)
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: volumes.path(prefix))) ?? []).sorted() {
            try await volumes.clone(from: "\(prefix)/\(name)", to: "\(projectId)/\(environmentId)/\(name)")
            try await log("  Restored service \(name) (\(volumes.driver.rawValue))")
        }
    }

    /// Deletes the volumes under `prefix` and the prefix itself.
    public func deleteVolumes(under prefix: String) async throws {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: volumes.path(prefix))) ?? [] {
            try await volumes.delete("\(prefix)/\(name)")
        }
        try? FileManager.default.removeItem(atPath: volumes.path(prefix))
    }

    func copyVolumes(projectId: String, environmentId: String, from: String, to: String, holdStill: Bool, verb: String, origin: String,
                     log: @escaping @Sendable (String) async throws -> Void) async throws -> UInt64 {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: volumes.path(from))) ?? []).sorted()
        let live = running[Self.envKey(projectId, environmentId)] ?? [:]
        var total: UInt64 = 0
        for name in names {
            let src = "\(from)/\(name)", dst = "\(to)/\(name)"
            if let r = live[name] {
                // A flush keeps recovery short even where the copy is atomic.
                await r.engine.flush(run: r.runDir, port: r.port, state: r.state)
            }
            let started = ContinuousClock.now
            if let r = live[name], holdStill || !volumes.driver.atomic {
                let pids = await supervisor.pid(r.key).map { Exec.tree(of: $0) } ?? []
                for p in pids { kill(p, SIGSTOP) }
                do { try await volumes.clone(from: src, to: dst) } catch {
                    for p in pids.reversed() { kill(p, SIGCONT) }
                    throw error
                }
                for p in pids.reversed() { kill(p, SIGCONT) }
            } else {
                try await volumes.clone(from: src, to: dst)
            }
            total += volumes.size(dst)
            let ms = (ContinuousClock.now - started).components
            try await log("  \(verb) service \(name)\(origin.isEmpty ? "" : " " + origin) (\(volumes.driver.rawValue), \(ms.seconds * 1000 + ms.attoseconds / 1_000_000_000_000_000) ms)")
        }
        return total
    }

    /// `PLATFORM_RELATIONSHIPS` entries for an application's relationships to this environment's services.
    public func relationships(projectId: String, environmentId: String, cluster: String,
                              relationships: [String: ApplicationConfig.Relationship]) -> [String: JSON] {
        let envServices = running[Self.envKey(projectId, environmentId)] ?? [:]
        var out: [String: JSON] = [:]
        for (name, rel) in relationships {
            guard let r = envServices[rel.service] else { continue }
            let endpointName = rel.endpoint ?? r.config.endpoints.first ?? r.type.name
            let ep = r.engine.endpoint(endpointName, state: r.state, port: r.port)
            out[name] = .array([.object(JSONObject([
                ("username", JSON(ep.credential?.username)), ("password", JSON(ep.credential?.password)),
                ("scheme", .string(ep.scheme)), ("host", "127.0.0.1"), ("hostname", .string("\(r.name).internal")), ("ip", "127.0.0.1"),
                ("port", .int(Int64(r.extraPorts[endpointName] ?? r.port))), ("path", JSON(ep.credential?.path)), ("query", .object(ep.query)), ("fragment", .null),
                ("rel", .string(ep.rel)), ("service", .string(r.name)), ("type", .string(r.type.description)), ("cluster", .string(cluster)),
                ("public", false), ("host_mapped", false), ("epoch", 0), ("instance_ips", ["127.0.0.1"]),
            ]))])
        }
        return out
    }

    /// What runs for an environment: name -> (type, port).
    public func services(projectId: String, environmentId: String) -> [Running] {
        (running[Self.envKey(projectId, environmentId)] ?? [:]).values.sorted { $0.name < $1.name }
    }

    public func shutdown() async {
        await supervisor.stopAll(grace: .seconds(20))
        for r in running.values.flatMap(\.values) {
            cgroups.remove(Cgroups.name(for: "\(r.volume.split(separator: "/").prefix(2).joined(separator: "/"))/service/\(r.name)"))
        }
        running = [:]
        await volumes.close()
    }
}

/// A service engine that exited (and was restarted).
public struct ServiceExit: Sendable, Equatable {
    public let projectId: String
    public let environmentId: String
    public let service: String
    public let status: Int32
    public let exits: Int
}
