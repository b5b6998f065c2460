import Foundation
import GroveBuild
import GroveConfig
import GroveGit
import GroveModel
import GroveRouter
import GroveRuntime
import GroveServices
import GroveStore
import Logging

/// Brings an environment's applications to a commit: build (or reuse) each artifact, start the new
/// instances beside the old ones, wait until they accept connections, run deploy hooks, switch the router,
/// stop the old instances, run post_deploy hooks. Any failure before the switch stops what was started and
/// leaves the previous version serving.
public actor Deployer {
    public struct Options: Sendable {
        public var dataDir: String
        public var baseDomain = "localhost"
        /// Seals deployment records: they hold the environment's variables, sensitive ones included.
        public var sealer: SecretSealer?
        /// Build limits before a project's `build_resources` (operator flags of `grove serve`).
        public var buildLimits = BuildLimits()
        /// What an application or worker of size AUTO may use at most (its /tmp counts as memory), and the processes
        /// any instance may hold.
        public var instanceMaxMemoryMB = 2048
        public var instanceMaxProcesses = 1024
        public init(dataDir: String) { self.dataDir = dataDir }
    }

    struct RunningApp: Codable, Sendable {
        var app: String
        var kind: String  // web | worker:<name>
        var key: String
        var port: Int?
        var artifact: String
        var spec: [String]
        var env: [String: String]
        var cwd: String?
        var logPath: String
        /// The size limits its cgroup holds it to (re-created when a deployment is restored).
        var limits: ResourceLimits? = nil
        /// It runs in its environment's network namespace (entered anew when restored: `spec` holds no namespace).
        var networked: Bool? = nil
    }

    struct Deployment: Codable, Sendable {
        var commit: String
        var generation: Int
        var apps: [RunningApp]
        var routes: [String]
        /// `PLATFORM_ROUTES` as served, the applications' configurations, when it went live.
        var routesJSON: String?
        var webappsJSON: String?
        var servicesJSON: String? = nil
        var createdAt: String?
        var crons: [Cron]?
    }

    /// A scheduled command of a deployed application.
    public struct Cron: Codable, Sendable {
        public var app: String
        public var name: String
        public var spec: String
        public var start: String
        public var timeout: Int
        public var timezone: String
    }

    /// What an environment serves, for the deployments and routes API.
    public struct View: Sendable {
        public let commit: String
        public let createdAt: String
        /// URL -> route, as in `PLATFORM_ROUTES`.
        public let routes: JSON
        /// Application name -> its configuration with the build's tree id.
        public let webapps: JSON
        /// Service name -> type, disk, size, configuration.
        public let services: JSON
    }

    let store: any Store
    let repositories: Repositories
    let builder: Builder
    let sandbox: Sandbox
    let supervisor: AppSupervisor
    public let router: NginxRouter
    let options: Options
    let logger: Logger
    var current: [String: Deployment] = [:]

    let cgroups: Cgroups

    /// The environments' managed services; nil when the server runs without volumes.
    public let services: ServiceManager?
    /// One network namespace per environment (shared with the services); nil or host mode: the host's network.
    let networks: EnvironmentNetworks?

    /// How an environment's processes enter its network, and where the host reaches their ports.
    func network(_ key: String) async throws -> (enter: [String], address: String) {
        guard let n = try await networks?.network(for: key) else { return ([], "127.0.0.1") }
        return (n.enter, n.address)
    }

    public init(store: any Store, repositories: Repositories, sandbox: Sandbox, router: NginxRouter, options: Options, logger: Logger,
                cgroups: Cgroups = .detect(), services: ServiceManager? = nil, networks: EnvironmentNetworks? = nil) {
        self.cgroups = cgroups
        self.services = services
        self.networks = networks
        if cgroups.mode == .unavailable {
            logger.notice("resources: no writable cgroups on this host; applications' size limits are not enforced")
        } else {
            logger.info("resources: cgroup \(cgroups.mode.rawValue) limits applications to their size")
        }
        self.store = store
        self.repositories = repositories
        self.sandbox = sandbox
        self.builder = Builder(dataDir: options.dataDir, repositories: repositories, sandbox: sandbox, cgroups: cgroups, networks: networks)
        self.supervisor = AppSupervisor(logger: logger)
        self.router = router
        self.options = options
        self.logger = logger
    }

    /// Environments are served under this domain; custom domains may not use it.
    public nonisolated var baseDomain: String { options.baseDomain }

    static func envKey(_ projectId: String, _ envId: String) -> String { projectId + "/" + envId }

    /// The host an environment's `{default}` routes use: `<environment>-<project>.<base domain>`.
    public func host(projectId: String, environment: String) -> String {
        let slug = environment.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
        return "\(slug)-\(projectId).\(options.baseDomain)"
    }

    public func clearBuildCache() { builder.clear() }

    /// Deploys `commit` to the environment. `log` receives the activity log lines.
    /// `deployHooks: false` is a redeploy of the same code: only post_deploy hooks run, as on Platform.sh.
    public func deploy(projectId: String, environmentId: String, commit: String, config: ProjectConfig, deployHooks: Bool = true,
                       log: @escaping @Sendable (String) async throws -> Void) async throws {
        guard let project = try await store.project(id: projectId),
              let env = try await store.environment(projectId: projectId, id: environmentId) else {
            throw ActivityFailure("The environment no longer exists.")
        }
        let key = Self.envKey(projectId, environmentId)
        let git = GitWriter(repositories: repositories, projectId: projectId)
        let previous = current[key]
        let generation = (previous?.generation ?? 0) + 1
        let logDir = (options.dataDir as NSString).appendingPathComponent("logs/\(projectId)/\(environmentId)")
        try FileManager.default.createDirectory(atPath: logDir, withIntermediateDirectories: true)

        let userVars = try await userVariables(project: project, env: env)
        if !config.services.isEmpty {
            guard services != nil else { throw ActivityFailure("This server runs without managed services; \(config.services.map(\.name).joined(separator: ", ")) cannot start.") }
            do { try await ServiceManager.check(config.services) } catch { throw ActivityFailure("\(error)") }
        }
        // Build every application first: nothing starts unless all builds succeed.
        var artifacts: [String: Builder.Artifact] = [:]
        for app in config.applications {
            let tree = try await git.treeId(commit: commit, path: app.root) ?? commit
            let vars = variables(userVars, app: app, visibility: .build)
            let request = Builder.Request(app: app, projectId: projectId, entropy: project.entropy, commit: commit, treeId: tree,
                                          variables: vars.platform, envVariables: vars.env, limits: BuildLimits.from(settings: project.settings, defaults: options.buildLimits))
            artifacts[app.name] = try await builder.build(request, log: log)
        }
        guard !config.applications.isEmpty else {
            try await log("No applications are configured (no .platform.app.yaml, .platform/applications.yaml or .upsun/config.yaml): nothing to deploy.")
            await stopAll(key)
            return
        }
        guard await router.available else {
            throw ActivityFailure("Cannot serve applications: nginx is not installed on this host (apt-get install nginx-light).")
        }
        if sandbox.mode == .plain, config.applications.contains(where: { !$0.mounts.isEmpty }) {
            try await log("W: mounts need the bubblewrap sandbox (apt-get install bubblewrap); they are not writable in plain mode.")
        }
        let (table, certificates) = try await routing(project: project, env: env, routes: config.routes)
        let routesJSON = Data(table.platformRoutes.bytes).base64EncodedString()

        try await log("Redeploying environment \(environmentId)")
        // Application ports are chosen before services start: varnish names them as its backends.
        var ports: [String: Int] = [:]
        let served = config.applications.filter { $0.web.commands.start != nil || $0.type.name == "php" }
        for (app, port) in zip(served, try Exec.freePorts(served.count)) { ports[app.name] = port }
        let serviceConfigs = config.services.map { s -> ServiceConfig in
            var s = s
            for (name, rel) in s.relationships { if let port = ports[rel.service] { s.backendPorts[name] = port } }
            s.requestedEndpoints = Set(config.applications.flatMap { $0.relationships.values.filter { $0.service == s.name }.compactMap(\.endpoint) })
            return s
        }
        if let services {
            do {
                try await services.ensure(projectId: projectId, environmentId: environmentId, services: serviceConfigs, log: log)
            } catch let e as ServiceFailure { throw ActivityFailure(e.description) }
        }
        var serviceRelationships: [String: [String: JSON]] = [:]
        for app in config.applications {
            serviceRelationships[app.name] = await services?.relationships(projectId: projectId, environmentId: environmentId,
                                                                           cluster: "\(projectId)-\(env.machineName)", relationships: app.relationships) ?? [:]
        }
        var started: [RunningApp] = []
        let net = try await network(key)
        do {
            var upstreams: [String: NginxRouter.Upstream] = [:]
            // Routes to `varnish:http` reach the varnish service, which passes to the applications.
            for svc in await services?.services(projectId: projectId, environmentId: environmentId) ?? [] where svc.type.name == "varnish" {
                upstreams[svc.name] = .init(port: svc.port, host: net.address)
            }
            for app in config.applications {
                guard let artifact = artifacts[app.name] else { continue }
                let baseEnv = runtimeEnvironment(project: project, env: env, app: app, artifact: artifact, routes: routesJSON, ports: ports, user: userVars,
                                                 services: serviceRelationships[app.name] ?? [:])
                let mounts = try mountBinds(projectId: projectId, environmentId: environmentId, app: app)
                let logPath = logDir + "/\(app.name).log"
                handToTenant(log: logPath)
                if let port = ports[app.name] {
                    var e = baseEnv
                    e["PORT"] = String(port)
                    var binds: [(host: String, inside: String)] = []
                    // socket_family unix: the app listens on $SOCKET, in a run directory nginx and the sandbox share.
                    var socketPath: String?
                    if app.web.socketFamily == "unix", app.web.commands.start != nil {
                        let runDir = try tenantRunDirectory(projectId: projectId, environmentId: environmentId, name: "\(app.name)-\(generation)")
                        let path = runDir + "/app.sock"
                        try? FileManager.default.removeItem(atPath: path)
                        binds.append((runDir, runDir))
                        e["SOCKET"] = path
                        socketPath = path
                    }
                    let start: String
                    let inside = sandbox.appPath(hostPath: artifact.path)
                    let docRoot = app.web.locations.first(where: { $0.path == "/" })?.location.root.map { inside + "/" + $0 } ?? inside
                    if let s = app.web.commands.start {
                        start = s
                    } else {
                        // PHP without a start command: PHP-FPM on the port, speaking FastCGI to the router.
                        let runDir = try tenantRunDirectory(projectId: projectId, environmentId: environmentId, name: "\(app.name)-\(generation)")
                        try Self.phpFPMConfig(port: port).write(toFile: runDir + "/php-fpm.conf", atomically: true, encoding: .utf8)
                        guard let fpm = Self.phpFPM else {
                            throw ActivityFailure("Unable to build application '\(app.name)': php-fpm is not installed on this host (apt-get install php-fpm)")
                        }
                        binds.append((runDir, runDir))
                        start = "\(fpm) --nodaemonize --allow-to-run-as-root --fpm-config \(runDir)/php-fpm.conf"
                    }
                    let script = Self.withEnvironmentFile(app.web.commands.preStart.map { $0 + "\n" } ?? "") + start
                    let instKey = "\(key)/\(app.name)/web/\(generation)"
                    let (limitArgv, limitNote, limits) = try limited(instKey, size: app.size, runtime: app.type.name)
                    let argv = limitArgv + sandbox.command(script, app: artifact.path, writableApp: false, mounts: mounts, extraBinds: binds)
                    let php = app.web.commands.start == nil
                    upstreams[app.name] = .init(port: port, hostDir: artifact.path, locations: WebLocation.from(app.web, php: php),
                                                phpDocumentRoot: php ? docRoot : nil, socket: socketPath, host: net.address)
                    try await log("  Starting \(app.name) (web) on \(socketPath.map { "socket " + $0 } ?? "port \(port)")\(limitNote)")
                    let spec = AppSupervisor.Spec(argv: net.enter + argv, env: e, cwd: sandbox.mode == .plain ? artifact.path : nil, logPath: logPath)
                    try await supervisor.start(instKey, spec)
                    started.append(RunningApp(app: app.name, kind: "web", key: instKey, port: port, artifact: artifact.key, spec: argv, env: e,
                                              cwd: spec.cwd, logPath: logPath, limits: limits, networked: !net.enter.isEmpty))
                    try await waitForPort(port, host: net.address, socket: socketPath, key: instKey, app: app.name, logPath: logPath)
                }
                for (name, worker) in app.workers.sorted(by: { $0.key < $1.key }) {
                    guard let start = worker.commands.start else { continue }
                    var e = baseEnv
                    for (k, v) in worker.variables["env"] ?? [:] { e[k] = v.stringValue ?? v.serialized() }
                    let instKey = "\(key)/\(app.name)/worker-\(name)/\(generation)"
                    let (limitArgv, limitNote, limits) = try limited(instKey, size: worker.size, runtime: app.type.name)
                    let argv = limitArgv + sandbox.command(Self.withEnvironmentFile("") + start, app: artifact.path, writableApp: false, mounts: mounts)
                    let wlog = logDir + "/\(app.name)--\(name).log"
                    handToTenant(log: wlog)
                    try await log("  Starting worker \(app.name)--\(name)\(limitNote)")
                    let spec = AppSupervisor.Spec(argv: net.enter + argv, env: e, cwd: sandbox.mode == .plain ? artifact.path : nil, logPath: wlog)
                    try await supervisor.start(instKey, spec)
                    started.append(RunningApp(app: app.name, kind: "worker:\(name)", key: instKey, port: nil, artifact: artifact.key, spec: argv, env: e,
                                              cwd: spec.cwd, logPath: wlog, limits: limits, networked: !net.enter.isEmpty))
                }
                if let hook = app.hooks.deploy, deployHooks {
                    try await log("  Executing deploy hook for application \(app.name)")
                    let status = try await runHook(hook, app: app, artifact: artifact, env: baseEnv, mounts: mounts, enter: net.enter,
                                                   logPath: logDir + "/deploy.log", log: log)
                    if status != 0 { throw ActivityFailure("Environment redeployment failed: the deploy hook of \(app.name) exited with status \(status)") }
                }
            }
            try await router.set(key, .init(routes: table.routes, upstreams: upstreams, certificates: certificates, logDir: logDir))
        } catch {
            for s in started { await stopInstance(s.key, grace: .seconds(2)) }
            throw error
        }
        // The new version serves; retire the old one.
        for old in previous?.apps ?? [] { await stopInstance(old.key, grace: .seconds(10)) }
        let routeLines = table.routes.map { r -> String in
            switch r.target {
            case .upstream(let app): return "  \(r.url) is served by application `\(app)`"
            case .redirect(let to, _): return "  \(r.url) redirects to \(to)"
            case .proxy(let to): return "  \(r.url) proxies to \(to)"
            }
        }
        var webapps = JSONObject()
        for app in config.applications {
            var doc = app.document.objectValue ?? JSONObject()
            doc["name"] = .string(app.name)
            doc["type"] = .string(app.type.description)
            doc["tree_id"] = JSON(artifacts[app.name]?.key)
            webapps[app.name] = .object(doc)
        }
        var deployment = Deployment(commit: commit, generation: generation, apps: started, routes: routeLines,
                                    routesJSON: table.platformRoutes.serialized(), webappsJSON: JSON.object(webapps).serialized(),
                                    createdAt: Timestamp.now(),
                                    crons: config.applications.flatMap { app in
                                        app.crons.values.sorted { $0.name < $1.name }.map {
                                            Cron(app: app.name, name: $0.name, spec: $0.spec, start: $0.start, timeout: $0.timeout, timezone: app.timezone)
                                        }
                                    })
        var serviceDocs = JSONObject()
        for svc in config.services {
            serviceDocs[svc.name] = .object(JSONObject([("type", .string(svc.type.description)), ("disk", svc.disk.map { JSON.int(Int64($0)) } ?? .null),
                                                        ("size", .string(svc.size)), ("configuration", svc.configuration)]))
        }
        deployment.servicesJSON = JSON.object(serviceDocs).serialized()
        current[key] = deployment
        save(key, deployment)
        for app in config.applications {
            guard let hook = app.hooks.postDeploy, let artifact = artifacts[app.name] else { continue }
            try await log("  Executing post_deploy hook for application \(app.name)")
            let e = runtimeEnvironment(project: project, env: env, app: app, artifact: artifact, routes: routesJSON, ports: [:], user: userVars,
                                       services: serviceRelationships[app.name] ?? [:])
            let status = try await runHook(hook, app: app, artifact: artifact, env: e, mounts: try mountBinds(projectId: projectId, environmentId: environmentId, app: app),
                                           enter: net.enter, logPath: logDir + "/post-deploy.log", log: log)
            if status != 0 { try await log("  W: the post_deploy hook of \(app.name) exited with status \(status)") }
        }
        try await log("Environment routes")
        for line in routeLines { try await log(line) }
    }

    /// Stops an environment's applications and removes its routes (deactivate, delete).
    public func undeploy(projectId: String, environmentId: String, keepData: Bool = true) async {
        let key = Self.envKey(projectId, environmentId)
        await stopAll(key)
        if keepData {
            await services?.stop(projectId: projectId, environmentId: environmentId)
        } else {
            deleteMounts(projectId: projectId, environmentId: environmentId)
            do { try await services?.destroy(projectId: projectId, environmentId: environmentId) } catch {
                logger.error("cannot delete the data of \(key): \(error)")
            }
        }
        await networks?.remove(key)
    }

    func stopAll(_ key: String) async {
        for a in current[key]?.apps ?? [] { await stopInstance(a.key, grace: .seconds(5)) }
        current[key] = nil
        try? await router.set(key, nil)
        try? FileManager.default.removeItem(atPath: statePath(key))
    }

    /// Every deployed environment's crons: (project, environment, cron).
    public func scheduledCrons() -> [(String, String, Cron)] {
        current.flatMap { key, d -> [(String, String, Cron)] in
            let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return [] }
            return (d.crons ?? []).map { (parts[0], parts[1], $0) }
        }
    }

    /// Runs one cron command beside the application, with its runtime environment; output to `log` and
    /// the environment's cron.log. Returns the exit status (124 on timeout).
    public func runCron(projectId: String, environmentId: String, app: String, command: String, timeout: Int,
                        log: @escaping @Sendable (String) async throws -> Void) async throws -> Int32 {
        try await runInInstance(projectId: projectId, environmentId: environmentId, app: app, command: command, timeout: timeout,
                                logName: "cron", extraEnvironment: [:], log: log)
    }

    /// Runs a one-off command beside a deployed application: its artifact, mounts and runtime variables, no port.
    /// Output goes to `log` and is appended to `<logName>.log` in the environment's log directory.
    func runInInstance(projectId: String, environmentId: String, app: String, command: String, timeout: Int, logName: String,
                       extraEnvironment: [String: String], log: @escaping @Sendable (String) async throws -> Void) async throws -> Int32 {
        let key = Self.envKey(projectId, environmentId)
        guard let d = current[key], let running = d.apps.first(where: { $0.app == app }) else {
            throw ActivityFailure("Application \(app) is not deployed on \(environmentId).")
        }
        let artifact = (builder.root as NSString).appendingPathComponent("\(running.artifact)/app")
        var env = running.env
        env["PORT"] = nil
        for (k, v) in extraEnvironment { env[k] = v }
        let config = try await appConfig(projectId: projectId, commit: d.commit, app: app)
        let mounts = try mountBinds(projectId: projectId, environmentId: environmentId, app: config)
        // Crons and operations are held like the application's instances (its size, else the AUTO ceiling).
        let group = "\(key)/\(app)/\(logName)-\(UInt32.random(in: 0...UInt32.max))"
        let (limit, _, _) = try limited(group, size: config.size, runtime: config.type.name)
        defer { cgroups.remove(Cgroups.name(for: group)) }
        let argv = try await network(key).enter + limit + sandbox.command(Self.withEnvironmentFile("set -e\n" + command), app: artifact, writableApp: false, mounts: mounts)
        let logDir = (running.logPath as NSString).deletingLastPathComponent
        return try await runTimed(argv, env: env, cwd: sandbox.mode == .plain ? artifact : nil, timeout: timeout,
                                  stepLog: logDir + "/\(logName)-step.log", logFile: logDir + "/\(logName).log", log: log)
    }

    /// Runs `argv` streaming its output, stopped after `timeout` seconds (status 124); the output is appended to `logFile`.
    func runTimed(_ argv: [String], env: [String: String], cwd: String?, timeout: Int, stepLog: String, logFile: String,
                  log: @escaping @Sendable (String) async throws -> Void) async throws -> Int32 {
        try? FileManager.default.removeItem(atPath: stepLog)
        let builder = self.builder
        let status = try await withThrowingTaskGroup(of: Int32?.self) { group in
            group.addTask { try await builder.runStreaming(argv, env: env, cwd: cwd, logFile: stepLog, log: log).code }
            group.addTask { try await Task.sleep(for: .seconds(timeout)); return nil }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first ?? 124
        }
        if let text = try? String(contentsOfFile: stepLog, encoding: .utf8) { Self.append(text, to: logFile) }
        return status
    }

    static func append(_ text: String, to path: String) {
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: path) else { return }
        defer { try? h.close() }
        h.seekToEndOfFile()
        h.write(Data(text.utf8))
    }

    func appConfig(projectId: String, commit: String, app: String) async throws -> ApplicationConfig {
        let config = try await ProjectConfig.load(from: CommitFiles(repositories: repositories, projectId: projectId, commit: commit))
        guard let a = config.application(app) else { throw ActivityFailure("Application \(app) is not in \(commit.prefix(7)).") }
        return a
    }

    public func view(projectId: String, environmentId: String) -> View? {
        guard let d = current[Self.envKey(projectId, environmentId)] else { return nil }
        return View(commit: d.commit, createdAt: d.createdAt ?? Timestamp.now(),
                    routes: d.routesJSON.flatMap { try? JSON.parse($0) } ?? .object(JSONObject()),
                    webapps: d.webappsJSON.flatMap { try? JSON.parse($0) } ?? .object(JSONObject()),
                    services: d.servicesJSON.flatMap { try? JSON.parse($0) } ?? .object(JSONObject()))
    }

    /// Each running application's `PLATFORM_RELATIONSHIPS`, decoded: app -> relationship -> endpoints.
    /// Each entry also says where Grove's host reaches it (`grove_host`): the environment's network address when
    /// environments have their own networks (the `host` applications use is their namespace's loopback).
    public func relationships(projectId: String, environmentId: String) async -> [String: JSON] {
        var out: [String: JSON] = [:]
        let key = Self.envKey(projectId, environmentId)
        let address = current[key] == nil ? "127.0.0.1" : ((try? await network(key))?.address ?? "127.0.0.1")
        for a in current[key]?.apps ?? [] where a.kind == "web" || out[a.app] == nil {
            guard let b64 = a.env["PLATFORM_RELATIONSHIPS"], let data = Data(base64Encoded: b64), case .object(let rels)? = try? JSON.parse(Array(data)) else { continue }
            out[a.app] = .object(JSONObject(rels.map { name, value in
                (name, .array((value.arrayValue ?? []).map { entry in
                    guard case .object(var o) = entry else { return entry }
                    o["grove_host"] = .string(address)
                    return .object(o)
                }))
            }))
        }
        return out
    }

    /// The URLs an environment serves, for the API and CLI.
    public func routes(projectId: String, environmentId: String) -> [String] { current[Self.envKey(projectId, environmentId)]?.routes ?? [] }

    /// Starts what was serving before the server stopped (same artifacts, no hooks).
    public func restore() async {
        let dir = (options.dataDir as NSString).appendingPathComponent("deployments")
        guard let projects = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
        for p in projects {
            for f in (try? FileManager.default.contentsOfDirectory(atPath: dir + "/" + p)) ?? [] where f.hasSuffix(".json") {
                let stem = String(f.dropLast(5))
                let key = p + "/" + (stem.removingPercentEncoding ?? stem)
                guard let sealed = FileManager.default.contents(atPath: dir + "/" + p + "/" + f),
                      let data = try? options.sealer.map({ try $0.unseal(data: sealed) }) ?? sealed,
                      var d = try? JSONDecoder().decode(Deployment.self, from: data) else { continue }
                guard let envId = key.split(separator: "/", maxSplits: 1).last.map(String.init),
                      let env = try? await store.environment(projectId: p, id: envId), env.status == .active else {
                    try? FileManager.default.removeItem(atPath: dir + "/" + p + "/" + f)
                    continue
                }
                // The routes as this start serves them (the router's ports may have changed): the applications
                // get them in PLATFORM_ROUTES, the deployment API shows them.
                let config = try? await ProjectConfig.load(from: CommitFiles(repositories: repositories, projectId: p, commit: d.commit))
                var routing: (RouteTable, [NginxRouter.SiteCertificate])?
                if let config, let project = try? await store.project(id: p) {
                    routing = try? await self.routing(project: project, env: env, routes: config.routes)
                }
                if let (table, _) = routing {
                    let routes = Data(table.platformRoutes.bytes).base64EncodedString()
                    for i in d.apps.indices where d.apps[i].env["PLATFORM_ROUTES"] != nil { d.apps[i].env["PLATFORM_ROUTES"] = routes }
                    d.routesJSON = table.platformRoutes.serialized()
                }
                // Services first (their data kept), then the applications with relationships to where they now listen.
                if let services, let config, let project = try? await store.project(id: p) {
                    var ports: [String: Int] = [:]
                    for a in d.apps { if let port = a.port { ports[a.app] = port } }
                    let serviceConfigs = config.services.map { s -> ServiceConfig in
                        var s = s
                        for (name, rel) in s.relationships { if let port = ports[rel.service] { s.backendPorts[name] = port } }
                        s.requestedEndpoints = Set(config.applications.flatMap { $0.relationships.values.filter { $0.service == s.name }.compactMap(\.endpoint) })
                        return s
                    }
                    do {
                        try await services.ensure(projectId: p, environmentId: envId, services: serviceConfigs) { _ in }
                    } catch {
                        logger.error("cannot restore the services of \(key): \(error)")
                    }
                    for i in d.apps.indices where d.apps[i].env["PLATFORM_RELATIONSHIPS"] != nil {
                        guard let app = config.application(d.apps[i].app) else { continue }
                        let rels = await services.relationships(projectId: p, environmentId: envId, cluster: "\(p)-\(env.machineName)",
                                                                relationships: app.relationships)
                        d.apps[i].env["PLATFORM_RELATIONSHIPS"] = Self.relationships(project: project, env: env, app: app, ports: ports, services: rels)
                    }
                }
                var upstreams: [String: NginxRouter.Upstream] = [:]
                var ok = true
                let net = (try? await network(key)) ?? (enter: [], address: "127.0.0.1")
                for svc in await services?.services(projectId: p, environmentId: envId) ?? [] where svc.type.name == "varnish" {
                    upstreams[svc.name] = .init(port: svc.port, host: net.address)
                }
                for a in d.apps {
                    // Same ports as before the stop (PHP-FPM's configuration names its port); they were freed with the processes.
                    if let port = a.port { upstreams[a.app] = .init(port: port, host: net.address) }
                    if let limits = a.limits { _ = try? cgroups.prefix(Cgroups.name(for: a.key), limits) }
                    if let sock = a.env["SOCKET"] { try? FileManager.default.removeItem(atPath: sock) }
                    do { try await supervisor.start(a.key, .init(argv: net.enter + a.spec, env: a.env, cwd: a.cwd, logPath: a.logPath)) } catch {
                        logger.error("cannot restore \(a.key): \(error)")
                        ok = false
                    }
                }
                current[key] = d
                save(key, d)
                if let config {
                    for a in d.apps where a.port != nil {
                        guard let app = config.application(a.app), let port = a.port else { continue }
                        let hostDir = (builder.root as NSString).appendingPathComponent("\(a.artifact)/app")
                        let inside = sandbox.appPath(hostPath: hostDir)
                        let php = app.web.commands.start == nil
                        let docRoot = app.web.locations.first(where: { $0.path == "/" })?.location.root.map { inside + "/" + $0 } ?? inside
                        upstreams[a.app] = .init(port: port, hostDir: hostDir, locations: WebLocation.from(app.web, php: php), phpDocumentRoot: php ? docRoot : nil,
                                                 socket: a.env["SOCKET"], host: net.address)
                    }
                    if let (table, certificates) = routing {
                        let logDir = (options.dataDir as NSString).appendingPathComponent("logs/\(p)/\(envId)")
                        try? await router.set(key, .init(routes: table.routes, upstreams: upstreams, certificates: certificates, logDir: logDir))
                    }
                }
                logger.info("restored deployment", metadata: ["environment": "\(key)", "ok": "\(ok)"])
            }
        }
    }

    public func shutdown() async {
        await supervisor.stopAll()
        await services?.shutdown()
        await networks?.removeAll()
        for d in current.values { for a in d.apps { cgroups.remove(Cgroups.name(for: a.key)) } }
        await router.stop()
    }

    // MARK: resources

    /// The argv prefix that holds an instance to its `size` (nothing for AUTO or without cgroups), and a log note.
    /// Every instance has a cgroup: an explicit `size` holds it to Platform.sh's profile; `AUTO` still has the
    /// operator's ceiling (`--app-max-memory`, memory that includes its /tmp) and no instance may fork without bound.
    func limited(_ instanceKey: String, size: String, runtime: String) throws -> ([String], String, ResourceLimits?) {
        guard cgroups.mode != .unavailable else {
            return ([], ResourceLimits.forSize(size, profile: .highCPU) == nil ? "" : " (size \(size) not enforced: no writable cgroups)", nil)
        }
        if var limits = ResourceLimits.forSize(size, profile: ResourceLimits.profile(forRuntime: runtime)) {
            limits.pids = options.instanceMaxProcesses
            return (try cgroups.prefix(Cgroups.name(for: instanceKey), limits), " (size \(size): \(limits))", limits)
        }
        let ceiling = ResourceLimits(cpu: Double(ProcessInfo.processInfo.activeProcessorCount), memoryMB: options.instanceMaxMemoryMB,
                                     pids: options.instanceMaxProcesses)
        return (try cgroups.prefix(Cgroups.name(for: instanceKey), ceiling), "", ceiling)
    }

    func stopInstance(_ key: String, grace: Duration) async {
        await supervisor.stop(key, grace: grace)
        cgroups.remove(Cgroups.name(for: key))
    }

    // MARK: routing

    /// The environment's route table on the router's ports with the project's domains, and the certificates it may serve.
    func routing(project: Project, env: Environment, routes: [RouteConfig]) async throws -> (RouteTable, [NginxRouter.SiteCertificate]) {
        var hosts = RouteHosts(envHost: host(projectId: project.id, environment: env.id), isProduction: env.type == .production,
                               httpPort: await router.port, httpsPort: await router.tlsPort)
        // Previews need the production domains too: their own domains are named by the one they replace.
        let production = try await store.domains(projectId: project.id, environmentId: nil)
        hosts.domains = production.map(\.name)
        hosts.defaultDomain = production.first(where: \.isDefault)?.name
        if env.type != .production {
            for d in try await store.domains(projectId: project.id, environmentId: env.id) {
                if let prod = d.replacementFor { hosts.replacements[prod, default: []].append(d.name) }
            }
        }
        return (RouteTable(config: routes, hosts: hosts), try await siteCertificates(projectId: project.id))
    }

    func siteCertificates(projectId: String) async throws -> [NginxRouter.SiteCertificate] {
        try await store.certificates(projectId: projectId).filter { !$0.isInvalid }.map {
            NginxRouter.SiteCertificate(id: $0.id, fullChain: ([$0.certificate] + $0.chain).map { $0.hasSuffix("\n") ? $0 : $0 + "\n" }.joined(),
                                        key: $0.key, domains: $0.domains)
        }
    }

    /// After a certificate change: every deployed environment of the project serves the current set.
    public func refreshCertificates(projectId: String) async throws {
        let certificates = try await siteCertificates(projectId: projectId)
        for key in current.keys.sorted() where key.hasPrefix(projectId + "/") {
            guard var site = await router.site(key), site.certificates != certificates else { continue }
            site.certificates = certificates
            try await router.set(key, site)
        }
    }

    // MARK: helpers

    func statePath(_ key: String) -> String {
        let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
        let env = parts.count > 1 ? parts[1].addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? parts[1] : ""
        return (options.dataDir as NSString).appendingPathComponent("deployments/\(parts[0])/\(env).json")
    }

    func save(_ key: String, _ d: Deployment) {
        let path = statePath(key)
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if let plain = try? JSONEncoder().encode(d), let data = try? options.sealer.map({ try $0.seal(data: plain) }) ?? plain {
            _ = FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o600])
        }
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

    static func withEnvironmentFile(_ rest: String) -> String {
        "if [ -f \"$PLATFORM_APP_DIR/.environment\" ]; then . \"$PLATFORM_APP_DIR/.environment\"; fi\n" + rest
    }

    func waitForPort(_ port: Int, host: String = "127.0.0.1", socket: String? = nil, key: String, app: String, logPath: String) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        let what = socket.map { "socket \($0) (SOCKET)" } ?? "port \(port) (PORT)"
        while ContinuousClock.now < deadline {
            if let socket { if Exec.accepts(socket: socket) { return } } else if Exec.accepts(port: port, host: host) { return }
            if let r = await supervisor.restarts(key), r > 0 {
                throw ActivityFailure("Environment redeployment failed: \(app)'s start command exited before it listened on \(what):\n\(tail(logPath))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ActivityFailure("Environment redeployment failed: \(app) did not listen on \(what) within 60 s:\n\(tail(logPath))")
    }

    func tail(_ path: String, lines: Int = 15) -> String {
        guard let s = try? String(contentsOfFile: path, encoding: .utf8) else { return "" }
        return s.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    func runHook(_ hook: String, app: ApplicationConfig, artifact: Builder.Artifact, env: [String: String], mounts: [(host: String, inApp: String)],
                 enter: [String], logPath: String, log: @escaping @Sendable (String) async throws -> Void) async throws -> Int32 {
        // Hooks are held like the application's instances (its size, else the AUTO ceiling).
        let group = "hook-\(app.name)-\(UInt32.random(in: 0...UInt32.max))"
        let (limit, _, _) = try limited(group, size: app.size, runtime: app.type.name)
        defer { cgroups.remove(Cgroups.name(for: group)) }
        let argv = limit + enter + sandbox.command(Self.withEnvironmentFile("set -e\n" + hook), app: artifact.path, writableApp: false, mounts: mounts)
        let before = (try? FileManager.default.attributesOfItem(atPath: logPath)[.size] as? Int) ?? 0
        let status = try await Exec.run(argv, env: env, cwd: sandbox.mode == .plain ? artifact.path : nil, logPath: logPath)
        if let h = FileHandle(forReadingAtPath: logPath) {
            defer { try? h.close() }
            try? h.seek(toOffset: UInt64(before))
            for line in String(decoding: h.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n") { try await log("    " + line) }
        }
        return status
    }

    /// The user tenant code runs as (nil when Grove is not root).
    public var tenant: SandboxUser? { sandbox.mode == .bubblewrap ? sandbox.tenant : nil }

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
    func tenantRunDirectory(projectId: String, environmentId: String, name: String) throws -> String {
        let base = (options.dataDir as NSString).appendingPathComponent("run/\(projectId)/\(environmentId)")
        do { return try ContainedDirectory.make(name, under: base, owner: tenant) } catch { throw ActivityFailure("\(error)") }
    }

    func mountBinds(projectId: String, environmentId: String, app: ApplicationConfig) throws -> [(host: String, inApp: String)] {
        guard sandbox.mode == .bubblewrap else { return [] }
        var out: [(String, String)] = []
        for (path, m) in app.mounts.sorted(by: { $0.key < $1.key }) {
            var base = (options.dataDir as NSString).appendingPathComponent("mounts/\(projectId)/\(environmentId)/\(app.name)/\(m.source)")
            if m.source == "service", let name = m.service {
                guard let storage = services?.storagePath(projectId: projectId, environmentId: environmentId, service: name) else {
                    throw ActivityFailure("Mount \(path) of \(app.name): service \(name) has no storage on this environment yet")
                }
                base = storage
            }
            do {
                out.append((try ContainedDirectory.make(m.sourcePath, under: base, owner: tenant), path))
            } catch {
                throw ActivityFailure("Mount \(path) of \(app.name): \(error)")
            }
        }
        return out
    }

    /// User variables visible at build or runtime: `env:` ones as process variables, the rest in `PLATFORM_VARIABLES`.
    /// The user variables an environment sees, read once per deployment.
    struct UserVariables: Sendable {
        let project: [Variable]
        let chain: [[Variable]]
        let ids: [String]
    }

    func userVariables(project: Project, env: Environment) async throws -> UserVariables {
        let (chain, ids) = try await store.variableAncestry(projectId: project.id, environment: env)
        return UserVariables(project: try await store.variables(projectId: project.id, environmentId: nil), chain: chain, ids: ids)
    }

    func variables(_ user: UserVariables, app: ApplicationConfig, visibility: VariableVisibility) -> (platform: JSONObject, env: [String: String]) {
        var platform = JSONObject()
        var envVars: [String: String] = [:]
        // The app's own `variables:` are the lowest level.
        for (prefix, group) in app.variables.sorted(by: { $0.key < $1.key }) {
            for (name, value) in group.sorted(by: { $0.key < $1.key }) {
                if prefix == "env" { envVars[name] = value.stringValue ?? value.serialized() } else { platform["\(prefix):\(name)"] = value }
            }
        }
        for ev in VariableResolver.effective(project: user.project, ancestors: user.chain, environmentIds: user.ids, visibility: visibility,
                                             application: app.name) {
            let v = ev.variable
            if v.name.hasPrefix("env:") {
                envVars[String(v.name.dropFirst(4))] = v.value
            } else {
                platform[v.name] = v.isJson ? ((try? JSON.parse(v.value)) ?? .string(v.value)) : .string(v.value)
            }
        }
        return (platform, envVars)
    }

    func runtimeEnvironment(project: Project, env: Environment, app: ApplicationConfig, artifact: Builder.Artifact, routes: String,
                            ports: [String: Int], user: UserVariables, services: [String: JSON]) -> [String: String] {
        let inside = sandbox.appPath(hostPath: artifact.path)
        var e = artifact.runtime.environment(app: inside)
        let vars = variables(user, app: app, visibility: .runtime)
        for (k, v) in vars.env { e[k] = v }
        e["HOME"] = inside
        e["LANG"] = "C.UTF-8"
        e["TMPDIR"] = "/tmp"
        e["PLATFORM_APP_DIR"] = inside
        e["PLATFORM_APPLICATION"] = Data(app.document.bytes).base64EncodedString()
        e["PLATFORM_APPLICATION_NAME"] = app.name
        e["PLATFORM_BRANCH"] = env.id
        let docRoot = app.web.locations.first(where: { $0.path == "/" })?.location.root.map { inside + "/" + $0 } ?? inside
        e["PLATFORM_DOCUMENT_ROOT"] = docRoot
        e["PLATFORM_ENVIRONMENT"] = env.machineName
        e["PLATFORM_ENVIRONMENT_TYPE"] = env.type.rawValue
        e["PLATFORM_PROJECT"] = project.id
        e["PLATFORM_PROJECT_ENTROPY"] = project.entropy
        e["PLATFORM_TREE_ID"] = artifact.key
        e["PLATFORM_ROUTES"] = routes
        e["PLATFORM_VARIABLES"] = Data(JSON.object(vars.platform).bytes).base64EncodedString()
        e["PLATFORM_SMTP_HOST"] = ""
        e["PLATFORM_RELATIONSHIPS"] = Self.relationships(project: project, env: env, app: app, ports: ports, services: services)
        return e
    }

    /// `PLATFORM_RELATIONSHIPS` (base64 JSON): the app's relationships to services and to the environment's other applications.
    static func relationships(project: Project, env: Environment, app: ApplicationConfig, ports: [String: Int], services: [String: JSON]) -> String {
        var rels = JSONObject()
        for (name, value) in services.sorted(by: { $0.key < $1.key }) { rels[name] = value }
        for (name, r) in app.relationships.sorted(by: { $0.key < $1.key }) where services[name] == nil {
            guard let port = ports[r.service] else { continue }
            rels[name] = .array([.object(JSONObject([
                ("scheme", "http"), ("host", "127.0.0.1"), ("hostname", "127.0.0.1"), ("ip", "127.0.0.1"), ("instance_ips", ["127.0.0.1"]),
                ("port", .int(Int64(port))), ("username", .null), ("password", .null), ("path", .null), ("query", .object(JSONObject())),
                ("fragment", .null), ("rel", "http"), ("service", .string(r.service)), ("type", .string(app.type.description)),
                ("cluster", .string("\(project.id)-\(env.machineName)")), ("public", false), ("host_mapped", false), ("epoch", 0),
            ]))])
        }
        return Data(JSON.object(rels).bytes).base64EncodedString()
    }
}
