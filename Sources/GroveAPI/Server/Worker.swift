import Foundation
import GroveDriver
import GroveGit
import GroveOrchestrator
import GroveStore
import GroveSSH
import Logging

/// The worker half of `grove serve`: the runtime's drivers, the deployer that reconciles them to the deployment
/// records, the activity queue, crons and automated backups. One per runtime host (`--role worker` or `all`).
struct Worker: Sendable {
    let deployer: Deployer
    let orchestrator: Orchestrator
    let crons: CronScheduler
    let backups: BackupScheduler
    let ssh: (any SSHListener)?
    /// Keeps sshd's accounts in step with projects, environments and deployments (OpenSSH only).
    let sshAccounts: Task<Void, Never>?

    static func start(_ options: APIServer.Options, store: any Store, repositories: Repositories, ssh settings: SSHSettings,
                      integrations configured: IntegrationRuntime, logger: Logger) async throws -> Worker {
        let drivers = try await APIServer.openRuntime(options, repositories: repositories, logger: logger)
        var deployOptions = Deployer.Options(dataDir: options.dataDir)
        deployOptions.baseDomain = options.baseDomain
        deployOptions.buildLimits.processes = options.buildMaxProcesses
        deployOptions.buildLimits.outputBytes = Int64(options.buildMaxOutputMB) << 20
        let deployer = Deployer(store: store, repositories: repositories, drivers: drivers, options: deployOptions, logger: logger)
        var withRuntime = configured
        withRuntime.apps = drivers.apps
        withRuntime.scriptDirectory = (options.dataDir as NSString).appendingPathComponent("integration-scripts")
        let integrations = withRuntime
        await deployer.removeLeftovers()
        await deployer.restore()
        await deployer.startObserving()
        var orchestratorOptions = Orchestrator.Options()
        orchestratorOptions.stepDelay = options.stepDelay
        orchestratorOptions.observer = { @Sendable a in await integrations.observe(a, store: store) }
        let epilogue = ActivityEpilogue()
        var all = DefaultRunners.all(repositories: repositories, deployer: deployer).merging(integrations.runners()) { a, _ in a }
        all["environment.initialize"] = EnvironmentInitializeRunner(repositories: repositories, outbound: configured.outbound, deployer: deployer)
        let runners = epilogue.wrap(all)
        let orchestrator = Orchestrator(store: store, runners: runners, options: orchestratorOptions, logger: logger)
        // Crash loops and services going down reach the projects' health integrations.
        let healthRelay = Task { for await e in deployer.health { await integrations.health(e, store: store) } }
        let logs = LogForwarder(store: store, runtime: integrations) { p, e in deployer.logDirectory(projectId: p, environmentId: e) }
        await logs.start()
        let crons = CronScheduler(store: store, deployer: deployer, logger: logger)
        await crons.start()
        let backups = BackupScheduler(store: store, logger: logger, period: options.backupCheckPeriod)
        await backups.start()
        var ssh: (any SSHListener)?
        var hostKey: SSHHostKey?
        var sshAccounts: Task<Void, Never>?
        if let listen = options.sshListen {
            let key = try SSHHostKey.loadOrCreate(at: (options.dataDir as NSString).appendingPathComponent("ssh/host_ed25519"))
            hostKey = key
            let gate = SSHAccessGate(store: store, deployer: deployer, settings: settings, logger: logger)
            do {
                (ssh, sshAccounts) = try await SSHStartup.start(options, listen: listen, hostKey: key, gate: gate, authority: settings.authority,
                                                                store: store, epilogue: epilogue, logger: logger)
            } catch {
                healthRelay.cancel()
                await logs.stop()
                await crons.stop()
                await backups.stop()
                await deployer.shutdown()
                throw SSHRefusal("cannot listen for SSH on \(listen.host):\(listen.port) (\(error)); choose another --ssh-listen, or 'off'")
            }
            if settings.endpoint == nil, let ssh { settings.setEndpoint("\(listen.host):\(ssh.port)") }
        }
        return Worker(deployer: deployer, orchestrator: orchestrator, crons: crons, backups: backups, ssh: ssh, sshAccounts: sshAccounts, hostKey: hostKey,
                      healthRelay: healthRelay, logs: logs)
    }

    /// Which SSH server runs, for `system:info`.
    var sshServerName: String? { ssh.map { $0 is OpenSSHServer ? "openssh" : "builtin" } }

    /// The SSH server's host key, for `system:info` and the startup line.
    let hostKey: SSHHostKey?
    let healthRelay: Task<Void, Never>
    let logs: LogForwarder

    func printSSH(_ settings: SSHSettings) {
        guard let hostKey, let endpoint = settings.endpoint else { return }
        print("Grove SSH listening on ssh://\(endpoint) (host key \(hostKey.fingerprint))")
        fflush(nil)
    }

    func printRouter(_ options: APIServer.Options) async {
        let router = deployer.drivers.router
        guard await router.available else { return }
        let tls = await router.httpsPort.map { " and https://\(options.routerHost):\($0)" } ?? ""
        print("Grove router listening on http://\(options.routerHost):\(await router.httpPort)\(tls) (*.\(options.baseDomain))")
        fflush(nil)
    }

    func stop() async {
        sshAccounts?.cancel()
        await ssh?.stop()
        await crons.stop()
        await backups.stop()
        await logs.stop()
        await deployer.shutdown()
        healthRelay.cancel()
    }
}
