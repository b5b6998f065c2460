import Foundation
import GroveDriver
import GroveGit
import GroveOrchestrator
import GroveStore
import Logging

/// The worker half of `grove serve`: the runtime's drivers, the deployer that reconciles them to the deployment
/// records, the activity queue, crons and automated backups. One per runtime host (`--role worker` or `all`).
struct Worker: Sendable {
    let deployer: Deployer
    let orchestrator: Orchestrator
    let crons: CronScheduler
    let backups: BackupScheduler

    static func start(_ options: APIServer.Options, store: any Store, repositories: Repositories, logger: Logger) async throws -> Worker {
        let drivers = try await APIServer.openRuntime(options, repositories: repositories, logger: logger)
        var deployOptions = Deployer.Options(dataDir: options.dataDir)
        deployOptions.baseDomain = options.baseDomain
        deployOptions.buildLimits.processes = options.buildMaxProcesses
        deployOptions.buildLimits.outputBytes = Int64(options.buildMaxOutputMB) << 20
        let deployer = Deployer(store: store, repositories: repositories, drivers: drivers, options: deployOptions, logger: logger)
        await deployer.removeLeftovers()
        await deployer.restore()
        await deployer.startObserving()
        var orchestratorOptions = Orchestrator.Options()
        orchestratorOptions.stepDelay = options.stepDelay
        let orchestrator = Orchestrator(store: store, runners: DefaultRunners.all(repositories: repositories, deployer: deployer),
                                        options: orchestratorOptions, logger: logger)
        let crons = CronScheduler(store: store, deployer: deployer, logger: logger)
        await crons.start()
        let backups = BackupScheduler(store: store, logger: logger, period: options.backupCheckPeriod)
        await backups.start()
        return Worker(deployer: deployer, orchestrator: orchestrator, crons: crons, backups: backups)
    }

    func printRouter(_ options: APIServer.Options) async {
        let router = deployer.drivers.router
        guard await router.available else { return }
        let tls = await router.httpsPort.map { " and https://\(options.routerHost):\($0)" } ?? ""
        print("Grove router listening on http://\(options.routerHost):\(await router.httpPort)\(tls) (*.\(options.baseDomain))")
        fflush(nil)
    }

    func stop() async {
        await crons.stop()
        await backups.stop()
        await deployer.shutdown()
    }
}
