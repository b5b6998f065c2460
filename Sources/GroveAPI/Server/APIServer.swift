import Foundation
import GroveDriver
import GroveLocalDriver
import GroveGit
import GroveModel
import GroveRuntime
import GroveOrchestrator
import GroveStore
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `grove serve`: the store, the activity workers and the HTTP API in one process.
public struct APIServer {
    public enum SSHServerKind: String, Sendable, CaseIterable { case auto, openssh, builtin }

    public struct Options: Sendable {
        public var host = "127.0.0.1"
        public var port = 8000
        public var dataDir: String
        public var databaseURL: String?
        public var publicURL: String?
        public var stepDelay: Duration = .zero
        /// Serve repeated GETs from rendered answers while the store is unchanged (SQLite only).
        public var responseCache = true
        /// Remember decoded records and rendered environments by their content (off only to measure rendering).
        public var renderMemo = true
        /// The router's HTTP address (port 0: a free one) and the domain environment hosts are made under.
        public var routerHost = "127.0.0.1"
        public var routerPort = 8080
        /// The router's HTTPS port on the same host; nil: https routes are served over http.
        public var routerTLSPort: Int? = 8443
        public var baseDomain = "localhost"
        /// Bytes of a btrfs image to loop-mount for volumes when the data dir's filesystem has no copy-on-write (root only).
        public var volumeImageSize: UInt64?
        /// How often automated backup schedules are checked.
        public var backupCheckPeriod: Duration = .seconds(60)
        /// smtp://[user:password@]host[:port][?from=address] for invitations and reminders; nil: mail goes to the log.
        public var smtpURL: String?
        public var invitationLifetime: TimeInterval = 7 * 86400
        /// The `vendor` of projects, subscriptions and organizations.
        public var vendor = "grove"
        /// `isolated`: a network namespace per environment (root, with iproute2 and nftables); `host`: shared.
        public var network: EnvironmentNetworks.Mode = .isolated
        /// Private IPv4 networks environments may still reach (`--egress-allow`); the rest of them are closed.
        public var egressAllowed: [IPv4Network] = []
        /// Where environments run (`--runtime`): one of `APIServer.runtimes`.
        public var runtime = "local"
        /// What this process does (`--role`): answer the API, run the runtime and activities, or both.
        public var role: Role = .all
        /// The key sealing secrets in the store (default: `GROVE_SECRET_KEY`, else `<data dir>/secret.key`).
        public var secretKeyFile: String?
        /// Processes one build may run at once, and MB its application directory and cache may hold.
        public var buildMaxProcesses = BuildLimits.defaultProcesses
        public var buildMaxOutputMB = Int(BuildLimits.defaultOutputBytes >> 20)
        /// The memory an application instance of size AUTO may use, and the processes any instance may hold.
        public var appMaxMemoryMB = 2048
        public var appMaxProcesses = 1024
        /// Where the worker's SSH server listens (port 0: a free one); nil: no SSH server.
        public var sshListen: (host: String, port: Int)? = ("127.0.0.1", 2222)
        /// Which SSH server runs: OpenSSH's sshd driven by Grove (every key type, RSA included), the built-in one
        /// (Ed25519 and ECDSA keys only), or sshd when this host can run it (root, openssh-server, bubblewrap).
        public var sshServer: SSHServerKind = .auto
        /// Seconds the SSH certificates `POST /ssh` signs are valid.
        public var sshCertificateLifetime = 3600
        /// `host:port` clients reach the SSH server at, for links (default: the listen address, with the port it got).
        public var sshPublicEndpoint: String?
        /// Let integrations send to loopback, private and link-local addresses (`--allow-private-targets`).
        public var allowPrivateTargets = false
        /// How often services' disks are checked for health notifications.
        public var diskCheckInterval: Duration = .seconds(60)
        /// Where health.slack and health.pagerduty integrations send (Slack's Web API, PagerDuty's Events API v2).
        public var slackAPIURL = "https://slack.com/api"
        public var pagerDutyEventsURL = "https://events.pagerduty.com/v2/enqueue"
        /// Bitbucket Cloud's API and git hosts (bitbucket integrations).
        public var bitbucketAPIURL = "https://api.bitbucket.org/2.0"
        public var bitbucketURL = "https://bitbucket.org"
        public init(dataDir: String) { self.dataDir = dataDir }
    }

    /// `api`: requests and git only (any number of them on one PostgreSQL); `worker`: the runtime, activities, crons
    /// and automated backups, no HTTP (one per runtime host); `all`: both in one process (the default).
    public enum Role: String, Sendable, CaseIterable { case api, worker, all }

    /// The runtimes this Grove can drive.
    public static let runtimes = ["local"]

    /// The drivers of `--runtime`: the one place a runtime is chosen.
    static func openRuntime(_ options: Options, repositories: Repositories, logger: Logger) async throws -> RuntimeDrivers {
        switch options.runtime {
        case "local":
            var runtimeOptions = LocalRuntime.Options(dataDir: options.dataDir)
            runtimeOptions.routerHost = options.routerHost
            runtimeOptions.routerPort = options.routerPort
            runtimeOptions.routerTLSPort = options.routerTLSPort
            runtimeOptions.baseDomain = options.baseDomain
            runtimeOptions.volumeImageSize = options.volumeImageSize
            runtimeOptions.network = options.network
            runtimeOptions.egressAllowed = options.egressAllowed
            runtimeOptions.instanceLimits.maxMemoryMB = options.appMaxMemoryMB
            runtimeOptions.instanceLimits.maxProcesses = options.appMaxProcesses
            runtimeOptions.diskCheckInterval = options.diskCheckInterval
            return try await LocalRuntime.open(runtimeOptions, repositories: repositories, logger: logger)
        default:
            throw DriverFailure("No runtime named \(options.runtime): this Grove has \(runtimes.joined(separator: ", ")).")
        }
    }

    public static func run(_ options: Options, logger: Logger) async throws {
        try DataDirectory.prepare(options.dataDir, logger: logger)
        let sealer = try SecretSealer.load(keyFile: options.secretKeyFile, dataDir: options.dataDir)
        let dbURL = options.databaseURL ?? "sqlite:" + (options.dataDir as NSString).appendingPathComponent("grove.sqlite")
        let store = try await StoreFactory.open(url: dbURL, logger: logger, sealer: sealer, records: RecordMemo(budget: options.renderMemo ? 8 << 20 : 0))
        try DataDirectory.restrict(options.dataDir)
        logger.info("store ready", metadata: ["backend": "\(store.backendName)", "role": "\(options.role.rawValue)"])
        if let created = try await Bootstrap.firstStart(store: store, dataDir: options.dataDir) {
            print("First start: created user \(created.user.email) and organization '\(created.organization.name)'.")
            print("A one-time API token for it is in \(created.tokenPath) (mode 0600).")
        }
        let secret = try await store.secretMeta("jwt_secret") { Identifier.secret(bytes: 48) }
        // An API process apart from the worker links to the SSH server it is told of (--ssh-host), else to the listen
        // address when it names a port; the worker (and `all`) fills in the port its server got.
        let apiEndpoint = options.sshListen.flatMap { $0.port > 0 ? "\($0.host):\($0.port)" : nil }
        let ssh = try await SSHSettings.load(store: store, endpoint: options.sshPublicEndpoint ?? (options.role == .api ? apiEndpoint : nil),
                                             certificateLifetime: TimeInterval(options.sshCertificateLifetime))
        let repositories = Repositories(dataDir: options.dataDir)
        let publicURL = PublicURL(options.publicURL, vendor: options.vendor)
        let outbound = OutboundPolicy(allowPrivateTargets: options.allowPrivateTargets)
        let mailer = try Mailer(url: options.smtpURL, logger: logger)

        // The worker half: the runtime, the activity queue, crons and automated backups.
        let worker: Worker?
        if options.role != .api {
            var integrations = IntegrationRuntime(repositories: repositories, outbound: outbound, publicURL: publicURL, mailer: mailer, logger: logger)
            integrations.health = HealthEndpoints(slackAPI: options.slackAPIURL, pagerDutyEvents: options.pagerDutyEventsURL)
            integrations.providers = SourceProvider.Endpoints(bitbucketAPI: options.bitbucketAPIURL, bitbucket: options.bitbucketURL)
            do { worker = try await Worker.start(options, store: store, repositories: repositories, ssh: ssh, integrations: integrations, logger: logger) } catch {
                await store.close()
                throw error
            }
        } else {
            worker = nil
        }
        if options.role == .worker, let worker {
            // No HTTP: activities come through the store from the API processes.
            print("Grove worker running (runtime \(options.runtime), store \(store.backendName))")
            await worker.printRouter(options)
            worker.printSSH(ssh)
            fflush(nil)
            let group = ServiceGroup(configuration: .init(services: [.init(service: OrchestratorService(orchestrator: worker.orchestrator))],
                                                          gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        } else {
            // The API half: requests and git; an API-only process reads logs where a local worker beside it writes them.
            let logs: (@Sendable (String, String) -> String)? = worker == nil && options.runtime == "local"
                ? { @Sendable [dataDir = options.dataDir] (p: String, e: String) -> String in LocalRuntime.logDirectory(dataDir: dataDir, projectId: p, environmentId: e) } : nil
            let context = ServerContext(store: store, orchestrator: worker?.orchestrator, signer: JWTSigner(secret: secret), logger: logger,
                                        dataDir: options.dataDir, publicURL: options.publicURL, responseCache: options.responseCache,
                                        repositories: repositories, deployer: worker?.deployer,
                                        mailer: mailer, invitationLifetime: options.invitationLifetime,
                                        vendor: options.vendor, role: options.role.rawValue, baseDomain: options.baseDomain, logDirectory: logs,
                                        ssh: ssh, sshHostKey: worker?.hostKey?.fingerprint, sshServer: worker?.sshServerName, outbound: outbound, sharedPublicURL: publicURL,
                                        renderMemo: options.renderMemo)
            try context.hooks.install()
            ssh.setContext(context)
            let routes = makeRoutes(context)
            // A handler bound to an undeclared operation is a programming error: refuse to serve an API whose document lies.
            guard routes.problems.isEmpty else { throw RouteDeclarationError(problems: routes.problems) }
            let responder = GroveResponder(routes: routes, server: context)
            let app = Application(
                responder: responder,
                configuration: .init(address: .hostname(options.host, port: options.port), serverName: "grove"),
                services: worker.map { [OrchestratorService(orchestrator: $0.orchestrator)] } ?? [],
                onServerRunning: { channel in
                    let port = channel.localAddress?.port ?? options.port
                    let host = options.host.contains(":") ? "[\(options.host)]" : options.host
                    context.setPublicURLIfUnset("http://\(host):\(port)")
                    let loopback = ["0.0.0.0", "::", ""].contains(options.host) ? "127.0.0.1" : host
                    context.setInternalURL("http://\(loopback):\(port)")
                    print("Grove API listening on http://\(host):\(port) (public URL \(context.publicURL))")
                    print("Web console: \(context.publicURL)/console/")
                    fflush(nil)
                    Task {
                        await worker?.printRouter(options)
                        worker?.printSSH(ssh)
                    }
                },
                logger: logger
            )
            try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        }
        await worker?.stop()
        // A fresh task: the service group may leave this one cancelled, and the drivers refuse work from cancelled tasks.
        await Task { await store.close() }.value
        logger.info("grove stopped")
    }

    /// Every route, each bound to its declared operation; `/openapi.json` describes exactly these.
    public static func makeRoutes(_ s: ServerContext) -> Routes {
        var r = Routes()
        r.add("get-service-root") { _ in
            .json(.ok, .object(JSONObject([("name", "grove"), ("version", .string(GroveVersion.string)), ("openapi", .string(s.publicURL + "/openapi.json"))])))
        }
        OAuthHandlers.register(&r, s)
        UserHandlers.register(&r, s)
        OrganizationHandlers.register(&r, s)
        ProjectHandlers.register(&r, s)
        EnvironmentHandlers.register(&r, s)
        VariableHandlers.register(&r, s)
        ActivityHandlers.register(&r, s)
        DiscoveryHandlers.register(&r, s)
        GitReadHandlers.register(&r, s)
        DeploymentHandlers.register(&r, s)
        DomainHandlers.register(&r, s)
        CertificateHandlers.register(&r, s)
        OperationHandlers.register(&r, s)
        RouteWriteHandlers.register(&r, s)
        LogHandlers.register(&r, s)
        BackupHandlers.register(&r, s)
        SystemHandlers.register(&r, s)
        AccessHandlers.register(&r, s)
        TeamHandlers.register(&r, s)
        SSHKeyHandlers.register(&r, s)
        MFAHandlers.register(&r, s)
        InvitationHandlers.register(&r, s)
        AccountLinkHandlers.register(&r, s)
        ProfileHandlers.register(&r, s)
        SSHCertificateHandlers.register(&r, s)
        IntegrationHandlers.register(&r, s)
        // The document lists the served operations, itself included.
        let document = ByteBuffer(bytes: OpenAPIDocument.bytes(r.operations + (OperationCatalog.operations["get-openapi-document"].map { [$0] } ?? [])))
        r.add("get-openapi-document") { _ in .raw(.ok, contentType: "application/json", document) }
        return r
    }
}

public enum GroveVersion {
    public static let string = "0.1.0"
}

/// Runs the activity workers for the life of the server; on shutdown running activities are left for the next start.
struct OrchestratorService: Service {
    let orchestrator: Orchestrator
    func run() async throws {
        try await orchestrator.start()
        try? await gracefulShutdown()
        await orchestrator.stop()
    }
}
