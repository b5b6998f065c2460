import Foundation
import GroveConfig
import GroveDriver
import GroveGit
import GroveModel
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
        /// Build limits before a project's `build_resources` (operator flags of `grove serve`).
        public var buildLimits = BuildLimits()
        public init(dataDir: String) { self.dataDir = dataDir }
    }

    typealias Deployment = DesiredDeployment
    public typealias Cron = ScheduledCron
    public typealias View = DeploymentView

    let store: any Store
    let repositories: Repositories
    /// The runtime: the only way to the machines environments run on.
    public nonisolated let drivers: RuntimeDrivers
    let options: Options
    let logger: Logger
    var current: [EnvironmentKey: Deployment] = [:]
    /// Follows the runtime's instance events into the records' observed state.
    var observer: Task<Void, Never>?

    var builds: any BuildExecutor { drivers.builds }
    var apps: any AppRuntime { drivers.apps }
    var services: (any ServiceRuntime)? { drivers.services }
    var volumes: any VolumeDriver { drivers.volumes }
    var router: any RouterDriver { drivers.router }

    public init(store: any Store, repositories: Repositories, drivers: RuntimeDrivers, options: Options, logger: Logger) {
        self.store = store
        self.repositories = repositories
        self.drivers = drivers
        self.options = options
        self.logger = logger
        (health, healthSink) = AsyncStream.makeStream(of: HealthEvent.self, bufferingPolicy: .bufferingNewest(1000))
    }

    /// Crash loops and services going down, as the runtime reports them (see `DeployerHealth`).
    public nonisolated let health: AsyncStream<HealthEvent>
    let healthSink: AsyncStream<HealthEvent>.Continuation
    var healthWatch = HealthWatch()
    var serviceObserver: Task<Void, Never>?

    /// Environments are served under this domain; custom domains may not use it.
    public nonisolated var baseDomain: String { options.baseDomain }

    static func envKey(_ projectId: String, _ envId: String) -> EnvironmentKey { EnvironmentKey(projectId: projectId, environmentId: envId) }

    /// The host an environment's `{default}` routes use: `<environment>-<project>.<base domain>`.
    public func host(projectId: String, environment: String) -> String {
        let slug = environment.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
        return "\(slug)-\(projectId).\(options.baseDomain)"
    }

    public func clearBuildCache() async { await builds.clearCache() }

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
        let userVars = try await userVariables(project: project, env: env)
        if !config.services.isEmpty {
            guard let services else {
                throw ActivityFailure("This server runs without managed services; \(config.services.map(\.name).joined(separator: ", ")) cannot start.")
            }
            try await services.check(config.services)
        }
        // Build every application first: nothing starts unless all builds succeed.
        var artifacts: [String: Artifact] = [:]
        for app in config.applications {
            let tree = try await git.treeId(commit: commit, path: app.root) ?? commit
            let vars = variables(userVars, app: app, visibility: .build)
            let request = BuildRequest(app: app, projectId: projectId, entropy: project.entropy, commit: commit, treeId: tree,
                                       variables: vars.platform, envVariables: vars.env, limits: BuildLimits.from(settings: project.settings, defaults: options.buildLimits))
            artifacts[app.name] = try await builds.build(request, log: log)
        }
        guard !config.applications.isEmpty else {
            try await log("No applications are configured (no .platform.app.yaml, .platform/applications.yaml or .upsun/config.yaml): nothing to deploy.")
            await stopAll(key)
            return
        }
        guard await router.available else { throw ActivityFailure("Cannot serve applications: \(router.unavailableReason).") }
        if !apps.mountsWritable, config.applications.contains(where: { !$0.mounts.isEmpty }) {
            try await log("W: mounts need the bubblewrap sandbox (apt-get install bubblewrap); they are not writable in plain mode.")
        }
        let (table, certificates) = try await routing(project: project, env: env, routes: config.routes)
        let routesJSON = Data(table.platformRoutes.bytes).base64EncodedString()

        try await log("Redeploying environment \(environmentId)")
        // Application ports are chosen before services start: varnish names them as its backends.
        var ports: [String: Int] = [:]
        let served = config.applications.filter { $0.web.commands.start != nil || $0.type.name == "php" }
        for (app, port) in zip(served, try await apps.reservePorts(served.count)) { ports[app.name] = port }
        if let services {
            try await services.ensure(key, services: Self.serviceConfigs(config, ports: ports), log: log)
        }
        var serviceRelationships: [String: [String: JSON]] = [:]
        for app in config.applications {
            serviceRelationships[app.name] = await services?.relationships(key, cluster: "\(projectId)-\(env.machineName)", relationships: app.relationships) ?? [:]
        }
        var started: [InstanceSpec] = []
        var observed: [ObservedInstance] = []
        do {
            var upstreams = await serviceUpstreams(key)
            for app in config.applications {
                guard let artifact = artifacts[app.name] else { continue }
                let baseEnv = runtimeEnvironment(project: project, env: env, app: app, artifact: artifact, routes: routesJSON, ports: ports, user: userVars,
                                                 services: serviceRelationships[app.name] ?? [:])
                let mounts = Self.mountRequests(app)
                if let port = ports[app.name] {
                    let listener: InstanceListener
                    if app.web.commands.start == nil {
                        listener = .fastCGI(port: port)
                    } else if app.web.socketFamily == "unix" {
                        listener = .socket(port: port)
                    } else {
                        listener = .port(port)
                    }
                    let script = Self.withEnvironmentFile(app.web.commands.preStart.map { $0 + "\n" } ?? "") + (app.web.commands.start ?? "")
                    let spec = InstanceSpec(id: "\(key)/\(app.name)/web/\(generation)", environment: key, app: app.name, kind: "web", artifact: artifact,
                                            script: script, variables: baseEnv, mounts: mounts, size: app.size, runtime: app.type.name, logName: app.name,
                                            listener: listener, generation: generation)
                    let endpoint = try await apps.start(spec, waitUntilReady: true)
                    started.append(spec)
                    observed.append(ObservedInstance(spec, endpoint: endpoint))
                    try await log("  Starting \(app.name) (web) on \(endpoint.socket.map { "socket " + $0 } ?? "port \(port)")\(endpoint.note)")
                    upstreams[app.name] = Self.upstream(app, artifact: artifact, endpoint: endpoint, port: port)
                }
                for (name, worker) in app.workers.sorted(by: { $0.key < $1.key }) {
                    guard let start = worker.commands.start else { continue }
                    var e = baseEnv
                    for (k, v) in worker.variables["env"] ?? [:] { e[k] = v.stringValue ?? v.serialized() }
                    let spec = InstanceSpec(id: "\(key)/\(app.name)/worker-\(name)/\(generation)", environment: key, app: app.name, kind: "worker:\(name)",
                                            artifact: artifact, script: Self.withEnvironmentFile("") + start, variables: e, mounts: mounts, size: worker.size,
                                            runtime: app.type.name, logName: "\(app.name)--\(name)", listener: .none, generation: generation)
                    let endpoint = try await apps.start(spec, waitUntilReady: false)
                    started.append(spec)
                    observed.append(ObservedInstance(spec, endpoint: endpoint))
                    try await log("  Starting worker \(app.name)--\(name)\(endpoint.note)")
                }
                if let hook = app.hooks.deploy, deployHooks {
                    try await log("  Executing deploy hook for application \(app.name)")
                    let status = try await apps.run(hookCommand(hook, app: app, artifact: artifact, env: baseEnv, key: key, logName: "deploy"), log: log)
                    if status != 0 { throw ActivityFailure("Environment redeployment failed: the deploy hook of \(app.name) exited with status \(status)") }
                }
            }
            try await router.publish(key, RouterSite(routes: table.routes, upstreams: upstreams, certificates: certificates, logDir: apps.logDirectory(key)))
        } catch {
            for s in started { await apps.stop(s.id, grace: .seconds(2)) }
            throw error
        }
        // The new version serves; retire the old one.
        for old in previous?.apps ?? [] { await apps.stop(old.id, grace: .seconds(10)) }
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
        await save(key, deployment, observed: observed)
        for app in config.applications {
            guard let hook = app.hooks.postDeploy, let artifact = artifacts[app.name] else { continue }
            try await log("  Executing post_deploy hook for application \(app.name)")
            let e = runtimeEnvironment(project: project, env: env, app: app, artifact: artifact, routes: routesJSON, ports: [:], user: userVars,
                                       services: serviceRelationships[app.name] ?? [:])
            let status = try await apps.run(hookCommand(hook, app: app, artifact: artifact, env: e, key: key, logName: "post-deploy"), log: log)
            if status != 0 { try await log("  W: the post_deploy hook of \(app.name) exited with status \(status)") }
        }
        try await log("Environment routes")
        for line in routeLines { try await log(line) }
    }

    /// A deploy or post_deploy hook: beside the application, with its runtime variables and mounts, no time limit.
    func hookCommand(_ hook: String, app: ApplicationConfig, artifact: Artifact, env: [String: String], key: EnvironmentKey, logName: String) -> CommandSpec {
        CommandSpec(environment: key, app: app.name, artifact: artifact, script: Self.withEnvironmentFile("set -e\n" + hook), variables: env,
                    mounts: Self.mountRequests(app), size: app.size, runtime: app.type.name, timeout: nil, logName: logName, indent: "    ")
    }

    /// The services as the runtime starts them: varnish's backends are the applications' ports, and endpoints the
    /// applications ask for are offered.
    static func serviceConfigs(_ config: ProjectConfig, ports: [String: Int]) -> [ServiceConfig] {
        config.services.map { s -> ServiceConfig in
            var s = s
            for (name, rel) in s.relationships { if let port = ports[rel.service] { s.backendPorts[name] = port } }
            s.requestedEndpoints = Set(config.applications.flatMap { $0.relationships.values.filter { $0.service == s.name }.compactMap(\.endpoint) })
            return s
        }
    }

    /// Routes to `varnish:http` reach the varnish service, which passes to the applications.
    func serviceUpstreams(_ key: EnvironmentKey) async -> [String: RouterUpstream] {
        var upstreams: [String: RouterUpstream] = [:]
        let address = await apps.address(of: key)
        for svc in await services?.running(key) ?? [] where svc.type.name == "varnish" {
            upstreams[svc.name] = .init(port: svc.port, host: address)
        }
        return upstreams
    }

    /// How the router reaches an application's web instance and serves its static files.
    static func upstream(_ app: ApplicationConfig, artifact: Artifact, endpoint: InstanceEndpoint, port: Int) -> RouterUpstream {
        let php = app.web.commands.start == nil
        let docRoot = app.web.locations.first(where: { $0.path == "/" })?.location.root.map { artifact.appDir + "/" + $0 } ?? artifact.appDir
        return RouterUpstream(port: endpoint.port ?? port, hostDir: artifact.hostPath, locations: WebLocation.from(app.web, php: php),
                              phpDocumentRoot: php ? docRoot : nil, socket: endpoint.socket, host: endpoint.host)
    }

    static func mountRequests(_ app: ApplicationConfig) -> [MountRequest] {
        app.mounts.sorted(by: { $0.key < $1.key }).map { MountRequest(path: $0.key, source: $0.value.source, sourcePath: $0.value.sourcePath, service: $0.value.service) }
    }

    /// Stops an environment's applications and removes its routes (deactivate, delete).
    public func undeploy(projectId: String, environmentId: String, keepData: Bool = true) async {
        let key = Self.envKey(projectId, environmentId)
        await stopAll(key)
        if keepData {
            await services?.stop(key)
        } else {
            await volumes.destroy(key)
            do { try await services?.destroy(key) } catch {
                logger.error("cannot delete the data of \(key): \(error)")
            }
        }
        await apps.release(key)
    }

    func stopAll(_ key: EnvironmentKey) async {
        for a in current[key]?.apps ?? [] { await apps.stop(a.id, grace: .seconds(5)) }
        current[key] = nil
        try? await router.publish(key, nil)
        do { try await store.deleteDeployment(projectId: key.projectId, environmentId: key.environmentId) } catch {
            logger.error("cannot delete the deployment record of \(key): \(error)")
        }
    }

    /// The environments of a project that have a deployment (running or kept for the next start).
    public func deployedEnvironments(projectId: String) -> [String] {
        current.keys.filter { $0.projectId == projectId }.map(\.environmentId).sorted()
    }

    /// Every deployed environment's crons: (project, environment, cron).
    public func scheduledCrons() -> [(String, String, Cron)] {
        current.flatMap { key, d in (d.crons ?? []).map { (key.projectId, key.environmentId, $0) } }
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
        var env = running.variables
        for (k, v) in extraEnvironment { env[k] = v }
        let config = try await appConfig(projectId: projectId, commit: d.commit, app: app)
        // Crons and operations are held like the application's instances (its size, else the AUTO ceiling).
        let command = CommandSpec(environment: key, app: app, artifact: running.artifact, script: Self.withEnvironmentFile("set -e\n" + command),
                                  variables: env, mounts: Self.mountRequests(config), size: config.size, runtime: config.type.name, timeout: timeout,
                                  logName: logName, indent: "    ")
        return try await apps.run(command, log: log)
    }

    /// The minimum role a user needs on the environment's type to open an SSH session into `app` (its `access.ssh`),
    /// or nil when the application does not run there.
    public func sshAccess(projectId: String, environmentId: String, app: String) async throws -> String? {
        guard let d = current[Self.envKey(projectId, environmentId)], d.apps.contains(where: { $0.app == app }) else { return nil }
        return try await appConfig(projectId: projectId, commit: d.commit, app: app).sshAccess
    }

    /// The applications deployed on an environment, for SSH targets.
    public func deployedApps(projectId: String, environmentId: String) -> [String] {
        Array(Set(current[Self.envKey(projectId, environmentId)]?.apps.map(\.app) ?? [])).sorted()
    }

    /// The workers of an application deployed on an environment.
    public func deployedWorkers(projectId: String, environmentId: String, app: String) -> [String] {
        (current[Self.envKey(projectId, environmentId)]?.apps ?? []).filter { $0.app == app && $0.kind.hasPrefix("worker:") }
            .map { String($0.kind.dropFirst(7)) }.sorted()
    }

    /// Starts an interactive session (an SSH shell, command or file transfer) beside a deployed application or one of
    /// its workers: that instance's artifact, mounts, runtime variables (and `.environment`), network and size, as the
    /// tenant user.
    public func openSession(projectId: String, environmentId: String, app: String, worker: String? = nil, script: String,
                            extraEnvironment: [String: String], io: SessionIO) async throws -> RunningSession {
        let key = Self.envKey(projectId, environmentId)
        let kind = worker.map { "worker:" + $0 } ?? "web"
        guard let d = current[key], let running = d.apps.first(where: { $0.app == app && $0.kind == kind }) ?? (worker == nil ? d.apps.first(where: { $0.app == app }) : nil) else {
            throw ActivityFailure("Application \(app)\(worker.map { " worker \($0)" } ?? "") is not deployed on \(environmentId).")
        }
        var env = running.variables
        for (k, v) in extraEnvironment { env[k] = v }
        let command = CommandSpec(environment: key, app: app, artifact: running.artifact, script: Self.withEnvironmentFile(script),
                                  variables: env, mounts: running.mounts, size: running.size, runtime: running.runtime, timeout: nil,
                                  logName: "ssh")
        return try await apps.session(command, io: io)
    }

    func appConfig(projectId: String, commit: String, app: String) async throws -> ApplicationConfig {
        let config = try await ProjectConfig.load(from: CommitFiles(repositories: repositories, projectId: projectId, commit: commit))
        guard let a = config.application(app) else { throw ActivityFailure("Application \(app) is not in \(commit.prefix(7)).") }
        return a
    }

    /// What the store says the environment runs (any process can answer from it).
    public var records: DeploymentRecords { DeploymentRecords(store: store, repositories: repositories) }

    /// Stops everything the runtime runs (server shutdown); deployments are restored at the next start.
    public func shutdown() async {
        observer?.cancel()
        serviceObserver?.cancel()
        healthSink.finish()
        await drivers.shutdown()
    }

    /// From now on, what the runtime reports about instances (a crash and its restart) reaches their records.
    public func startObserving() {
        guard observer == nil else { return }
        let events = drivers.apps.events
        observer = Task { for await e in events { await self.record(e) } }
        if let downs = services?.downs {
            serviceObserver = Task { for await d in downs { await self.serviceWentDown(d) } }
        }
    }

    /// Writes an instance event into the observed state of the deployment that started the instance (only while that
    /// deployment is still the environment's).
    func record(_ e: InstanceEvent) async {
        guard let (key, d) = current.first(where: { $0.value.apps.contains { $0.id == e.instanceId } }) else { return }
        if e.state == "restarted", let spec = d.apps.first(where: { $0.id == e.instanceId }) { instanceRestarted(spec, error: e.error) }
        do {
            guard let r = try await store.deployment(projectId: key.projectId, environmentId: key.environmentId), r.generation == d.generation else { return }
            var observed = ObservedInstance.decode(r.observed)
            guard let i = observed.firstIndex(where: { $0.id == e.instanceId }) else { return }
            observed[i].state = e.state
            observed[i].error = e.error
            try await store.updateObservedDeployment(projectId: key.projectId, environmentId: key.environmentId, generation: d.generation,
                                                    observed: try ObservedInstance.encode(observed), updatedAt: Timestamp.now())
        } catch {
            logger.error("cannot record what happened to \(e.instanceId): \(error)")
        }
    }

    // MARK: routing

    /// The environment's route table on the router's ports with the project's domains, and the certificates it may serve.
    func routing(project: Project, env: Environment, routes: [RouteConfig]) async throws -> (RouteTable, [SiteCertificate]) {
        var hosts = RouteHosts(envHost: host(projectId: project.id, environment: env.id), isProduction: env.type == .production,
                               httpPort: await router.httpPort, httpsPort: await router.httpsPort)
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

    func siteCertificates(projectId: String) async throws -> [SiteCertificate] {
        try await store.certificates(projectId: projectId).filter { !$0.isInvalid }.map {
            SiteCertificate(id: $0.id, fullChain: ([$0.certificate] + $0.chain).map { $0.hasSuffix("\n") ? $0 : $0 + "\n" }.joined(),
                            key: $0.key, domains: $0.domains)
        }
    }

    /// After a certificate change: every deployed environment of the project serves the current set.
    public func refreshCertificates(projectId: String) async throws {
        let certificates = try await siteCertificates(projectId: projectId)
        for key in current.keys.sorted(by: { $0.description < $1.description }) where key.projectId == projectId {
            guard var site = await router.site(key), site.certificates != certificates else { continue }
            site.certificates = certificates
            try await router.publish(key, site)
        }
    }

    // MARK: records

    /// Writes the environment's record: what should run and what was observed running.
    func save(_ key: EnvironmentKey, _ d: Deployment, observed: [ObservedInstance]) async {
        do {
            // Web applications (as deployments/current lists them) and the role their access.ssh asks for.
            var ssh: [String: String] = [:]
            if let webapps = d.webappsJSON, case .object(let apps) = try? JSON.parse(webapps) {
                for (name, config) in apps { ssh[name] = config["access"]?["ssh"]?.stringValue ?? "contributor" }
            }
            let record = DeploymentRecord(projectId: key.projectId, environmentId: key.environmentId, generation: d.generation, commit: d.commit,
                                          deployedAt: d.createdAt ?? Timestamp.now(), desired: try d.encoded(), observed: try ObservedInstance.encode(observed),
                                          updatedAt: Timestamp.now(), sshAccess: ssh)
            try await store.putDeployment(record)
        } catch {
            logger.error("cannot write the deployment record of \(key): \(error)")
        }
    }

    static func withEnvironmentFile(_ rest: String) -> String {
        "if [ -f \"$PLATFORM_APP_DIR/.environment\" ]; then . \"$PLATFORM_APP_DIR/.environment\"; fi\n" + rest
    }
}
