import Foundation
import GroveBuild
import GroveDriver
import GroveModel
import GroveRuntime
import GroveServices
import Logging

/// Applications, workers and commands as processes on this host: bubblewrap (or plain) sandboxes as the tenant
/// user, a cgroup per instance holding it to its size, the environment's network namespace, supervised restarts.
public actor LocalAppRuntime: AppRuntime {
    public struct Limits: Sendable {
        /// What an application or worker of size AUTO may use at most (its /tmp counts as memory), and the
        /// processes any instance may hold.
        public var maxMemoryMB = 2048
        public var maxProcesses = 1024
        public init() {}
    }

    let dataDir: String
    nonisolated let sandbox: Sandbox
    let cgroups: Cgroups
    let networks: EnvironmentNetworks?
    let supervisor: AppSupervisor
    let services: ServiceManager?
    let limits: Limits
    let logger: Logger
    /// Runs timed commands with their output streamed (the builder's step runner).
    let stepRunner: Builder

    public nonisolated let events: AsyncStream<InstanceEvent>

    init(dataDir: String, sandbox: Sandbox, cgroups: Cgroups, networks: EnvironmentNetworks?, services: ServiceManager?, builder: Builder,
         limits: Limits, logger: Logger) {
        let (events, continuation) = AsyncStream.makeStream(of: InstanceEvent.self, bufferingPolicy: .bufferingNewest(1000))
        self.events = events
        self.dataDir = dataDir
        self.sandbox = sandbox
        self.cgroups = cgroups
        self.networks = networks
        self.services = services
        self.stepRunner = builder
        self.limits = limits
        self.logger = logger
        self.supervisor = AppSupervisor(logger: logger) { key, status, exits in
            continuation.yield(InstanceEvent(instanceId: key, state: "restarted", error: "exited with status \(status) (\(exits) time\(exits == 1 ? "" : "s")); restarted"))
        }
    }

    public nonisolated var mountsWritable: Bool { sandbox.mode == .bubblewrap }

    /// The user tenant code runs as (nil when Grove is not root).
    var tenant: SandboxUser? { sandbox.mode == .bubblewrap ? sandbox.tenant : nil }

    public nonisolated func logDirectory(_ environment: EnvironmentKey) -> String { Self.logDirectory(dataDir: dataDir, environment) }

    static func logDirectory(dataDir: String, _ environment: EnvironmentKey) -> String {
        (dataDir as NSString).appendingPathComponent("logs/\(environment.projectId)/\(environment.environmentId)")
    }

    /// How an environment's processes enter its network, and where the host reaches their ports.
    func network(_ key: String) async throws -> (enter: [String], address: String) {
        guard let n = try await networks?.network(for: key) else { return ([], "127.0.0.1") }
        return (n.enter, n.address)
    }

    public func address(of environment: EnvironmentKey) async -> String {
        (try? await network(environment.description))?.address ?? "127.0.0.1"
    }

    public func release(_ environment: EnvironmentKey) async { await networks?.remove(environment.description) }

    public func start(_ s: InstanceSpec, waitUntilReady: Bool) async throws -> InstanceEndpoint {
        let net = try await network(s.environment.description)
        let logDir = logDirectory(s.environment)
        try FileManager.default.createDirectory(atPath: logDir, withIntermediateDirectories: true)
        let logPath = logDir + "/\(s.logName).log"
        handToTenant(log: logPath)
        let mounts = try await mountBinds(s.environment, app: s.app, mounts: s.mounts)
        var env = s.variables
        var binds: [(host: String, inside: String)] = []
        var socketPath: String?
        var script = s.script
        if let port = s.listener.port { env["PORT"] = String(port) }
        switch s.listener {
        case .none, .port: break
        case .socket:
            // The app listens on $SOCKET, in a run directory nginx and the sandbox share.
            let runDir = try tenantRunDirectory(s.environment, name: "\(s.app)-\(s.generation)")
            let path = runDir + "/app.sock"
            try? FileManager.default.removeItem(atPath: path)
            binds.append((runDir, runDir))
            env["SOCKET"] = path
            socketPath = path
        case .fastCGI(let port):
            let runDir = try tenantRunDirectory(s.environment, name: "\(s.app)-\(s.generation)")
            try Self.phpFPMConfig(port: port).write(toFile: runDir + "/php-fpm.conf", atomically: true, encoding: .utf8)
            guard let fpm = Self.phpFPM else {
                throw DriverFailure("Unable to build application '\(s.app)': php-fpm is not installed on this host (apt-get install php-fpm)")
            }
            binds.append((runDir, runDir))
            script += "\(fpm) --nodaemonize --allow-to-run-as-root --fpm-config \(runDir)/php-fpm.conf"
        }
        let (limitArgv, note) = try limited(s.id, size: s.size, runtime: s.runtime)
        let argv = limitArgv + sandbox.command(script, app: s.artifact.hostPath, writableApp: false, mounts: mounts, extraBinds: binds)
        let spec = AppSupervisor.Spec(argv: net.enter + argv, env: env, cwd: sandbox.mode == .plain ? s.artifact.hostPath : nil, logPath: logPath)
        try await supervisor.start(s.id, spec)
        if waitUntilReady, let port = s.listener.port {
            do {
                try await waitForPort(port, host: net.address, socket: socketPath, id: s.id, app: s.app, logPath: logPath)
            } catch {
                await stop(s.id, grace: .seconds(2))
                throw error
            }
        }
        return InstanceEndpoint(host: net.address, port: s.listener.port, socket: socketPath, note: note)
    }

    public func stop(_ id: String, grace: Duration) async {
        await supervisor.stop(id, grace: grace)
        cgroups.remove(Cgroups.name(for: id))
    }

    public func reservePorts(_ count: Int) async throws -> [Int] { try Exec.freePorts(count) }

    public func session(_ c: CommandSpec, io: SessionIO) async throws -> RunningSession {
        let key = c.environment.description
        // Held like the application's instances, in the environment's network, with its mounts: what a runtime
        // operation sees.
        let group = "\(key)/\(c.app)/ssh-\(UInt32.random(in: 0...UInt32.max))"
        let (limit, _) = try limited(group, size: c.size, runtime: c.runtime)
        let enter = try await network(key).enter
        let mounts = try await mountBinds(c.environment, app: c.app, mounts: c.mounts)
        let argv = enter + limit + sandbox.command(c.script, app: c.artifact.hostPath, writableApp: false, mounts: mounts, ownTerminal: io.terminal)
        let cwd = sandbox.mode == .plain ? c.artifact.hostPath : nil
        let pid: pid_t
        do {
            pid = try Exec.spawnSession(argv, env: c.variables, cwd: cwd, stdin: io.stdin, stdout: io.stdout, stderr: io.stderr, terminal: io.terminal)
        } catch {
            cgroups.remove(Cgroups.name(for: group))
            throw error
        }
        let cgroups = self.cgroups
        return RunningSession(wait: {
            let status = await Exec.wait(pid)
            cgroups.remove(Cgroups.name(for: group))
            return status
        }, signal: { sig in _ = kill(-pid, sig) })
    }

    public func run(_ c: CommandSpec, log: @escaping LogSink) async throws -> Int32 {
        let key = c.environment.description
        let logDir = logDirectory(c.environment)
        try FileManager.default.createDirectory(atPath: logDir, withIntermediateDirectories: true)
        // Commands are held like the application's instances (its size, else the AUTO ceiling).
        let group = "\(key)/\(c.app)/\(c.logName)-\(UInt32.random(in: 0...UInt32.max))"
        let (limit, _) = try limited(group, size: c.size, runtime: c.runtime)
        defer { cgroups.remove(Cgroups.name(for: group)) }
        var netKey: String?
        let enter: [String]
        switch c.network {
        case .environment: enter = try await network(key).enter
        case .isolatedWorld:
            // Like a build: the world through the host, nothing of the host or the environments.
            let k = "source-operation/\(key)/\(UInt32.random(in: 0...UInt32.max))"
            netKey = k
            enter = try await networks?.network(for: k)?.enter ?? []
        }
        defer { if let netKey { Task { [networks] in await networks?.remove(netKey) } } }
        let mounts = try await mountBinds(c.environment, app: c.app, mounts: c.mounts)
        let argv = enter + limit + sandbox.command(c.script, app: c.artifact.hostPath, writableApp: false, mounts: mounts,
                                                   extraBinds: c.writable.map { ($0, $0) })
        let cwd = sandbox.mode == .plain ? (c.writable.first ?? c.artifact.hostPath) : nil
        let logFile = logDir + "/\(c.logName).log"
        guard let timeout = c.timeout else {
            // A hook: its output is appended to its log and relayed once it ends.
            let before = (try? FileManager.default.attributesOfItem(atPath: logFile)[.size] as? Int) ?? 0
            let status = try await Exec.run(argv, env: c.variables, cwd: cwd, logPath: logFile)
            if let h = FileHandle(forReadingAtPath: logFile) {
                defer { try? h.close() }
                try? h.seek(toOffset: UInt64(before))
                for line in String(decoding: h.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n") { try await log(c.indent + line) }
            }
            return status
        }
        let stepLog = logDir + "/\(c.logName)-step.log"
        try? FileManager.default.removeItem(atPath: stepLog)
        let runner = stepRunner
        let indent = c.indent
        let status = try await withThrowingTaskGroup(of: Int32?.self) { group in
            group.addTask {
                try await runner.runStreaming(argv, env: c.variables, cwd: cwd, logFile: stepLog, log: { try await log(indent + $0.dropFirst(4)) }).code
            }
            group.addTask { try await Task.sleep(for: .seconds(timeout)); return nil }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first ?? 124
        }
        if let text = try? String(contentsOfFile: stepLog, encoding: .utf8) { Self.append(text, to: logFile) }
        return status
    }

    public func prepareCheckout(_ directory: String) async throws -> String? {
        guard let tenant else { return nil }
        try await tenant.own(directory)
        // The checkout is the tenant's after the operation ran: git reads it only from inside the sandbox, as the tenant.
        return sandbox.wrap(["git-upload-pack"], app: directory, writableApp: false, extraBinds: [(directory, directory)])
            .map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
    }

    public func info() async -> JSONObject {
        JSONObject([("sandbox", .string(sandbox.mode.rawValue)), ("cgroups", .string(cgroups.mode.rawValue)),
                    ("network", .string(networks?.mode.rawValue ?? EnvironmentNetworks.Mode.host.rawValue))])
    }

    public func shutdown() async {
        let ids = await supervisor.keys
        await supervisor.stopAll()
        for id in ids { cgroups.remove(Cgroups.name(for: id)) }
        await networks?.removeAll()
    }

    // MARK: resources

    /// The argv prefix that holds an instance to its `size` (nothing without cgroups), and a log note.
    /// Every instance has a cgroup: an explicit `size` holds it to Platform.sh's profile; `AUTO` still has the
    /// operator's ceiling (memory that includes its /tmp) and no instance may fork without bound.
    func limited(_ id: String, size: String, runtime: String) throws -> ([String], String) {
        guard cgroups.mode != .unavailable else {
            return ([], ResourceLimits.forSize(size, profile: .highCPU) == nil ? "" : " (size \(size) not enforced: no writable cgroups)")
        }
        if var l = ResourceLimits.forSize(size, profile: ResourceLimits.profile(forRuntime: runtime)) {
            l.pids = limits.maxProcesses
            return (try cgroups.prefix(Cgroups.name(for: id), l), " (size \(size): \(l))")
        }
        let ceiling = ResourceLimits(cpu: Double(ProcessInfo.processInfo.activeProcessorCount), memoryMB: limits.maxMemoryMB, pids: limits.maxProcesses)
        return (try cgroups.prefix(Cgroups.name(for: id), ceiling), "")
    }

    // MARK: files

    /// An application's log file belongs to the tenant user: programs that reopen their standard error by path
    /// (PHP-FPM's `/proc/self/fd/2`) must be allowed to. The logs directory itself is not in any sandbox.
    func handToTenant(log path: String) {
        guard let tenant else { return }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0o640)
        guard fd >= 0 else { return }
        fchown(fd, tenant.uid, tenant.gid)
        close(fd)
    }

    /// A directory the router and an application share (its unix socket, PHP-FPM's configuration), owned by the tenant.
    func tenantRunDirectory(_ environment: EnvironmentKey, name: String) throws -> String {
        let base = (dataDir as NSString).appendingPathComponent("run/\(environment.projectId)/\(environment.environmentId)")
        do { return try ContainedDirectory.make(name, under: base, owner: tenant) } catch { throw DriverFailure("\(error)") }
    }

    /// The host directories behind an application's mounts (none without bubblewrap: nothing to bind them with).
    func mountBinds(_ environment: EnvironmentKey, app: String, mounts: [MountRequest]) async throws -> [(host: String, inApp: String)] {
        guard sandbox.mode == .bubblewrap else { return [] }
        var out: [(String, String)] = []
        for m in mounts {
            var base = LocalVolumeDriver.mountsDirectory(dataDir: dataDir, environment) + "/\(app)/\(m.source)"
            if m.source == "service", let name = m.service {
                guard let storage = services?.storagePath(projectId: environment.projectId, environmentId: environment.environmentId, service: name) else {
                    throw DriverFailure("Mount \(m.path) of \(app): service \(name) has no storage on this environment yet")
                }
                base = storage
            }
            do {
                out.append((try ContainedDirectory.make(m.sourcePath, under: base, owner: tenant), m.path))
            } catch {
                throw DriverFailure("Mount \(m.path) of \(app): \(error)")
            }
        }
        return out
    }

    static func append(_ text: String, to path: String) {
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: path) else { return }
        defer { try? h.close() }
        h.seekToEndOfFile()
        h.write(Data(text.utf8))
    }

    func waitForPort(_ port: Int, host: String, socket: String?, id: String, app: String, logPath: String) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        let what = socket.map { "socket \($0) (SOCKET)" } ?? "port \(port) (PORT)"
        while ContinuousClock.now < deadline {
            if let socket { if Exec.accepts(socket: socket) { return } } else if Exec.accepts(port: port, host: host) { return }
            if let r = await supervisor.restarts(id), r > 0 {
                throw DriverFailure("Environment redeployment failed: \(app)'s start command exited before it listened on \(what):\n\(Self.tail(logPath))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw DriverFailure("Environment redeployment failed: \(app) did not listen on \(what) within 60 s:\n\(Self.tail(logPath))")
    }

    static func tail(_ path: String, lines: Int = 15) -> String {
        guard let s = try? String(contentsOfFile: path, encoding: .utf8) else { return "" }
        return s.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    static let phpFPM: String? = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/sbin")) ?? [])
        .filter { $0.hasPrefix("php-fpm") }.sorted().last.map { "/usr/sbin/" + $0 }

    /// One pool on 127.0.0.1:port that keeps the environment (PLATFORM_* reach PHP's getenv and $_ENV).
    static func phpFPMConfig(port: Int) -> String {
        """
        [global]
        error_log = /proc/self/fd/2
        daemonize = no
        [web]
        listen = 127.0.0.1:\(port)
        pm = dynamic
        pm.max_children = 8
        pm.start_servers = 2
        pm.min_spare_servers = 1
        pm.max_spare_servers = 4
        clear_env = no
        catch_workers_output = yes
        decorate_workers_output = no
        """
    }
}
