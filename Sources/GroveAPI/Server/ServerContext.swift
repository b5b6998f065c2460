import Foundation
import GroveGit
import GroveModel
import GroveOrchestrator
import GroveStore
import Logging
import Synchronization

/// Shared by every handler: the store, the orchestrator, the signing key and the public URL.
public final class ServerContext: Sendable {
    public let store: any Store
    /// This process's activity worker; nil in an API-only process (`--role api`).
    public let orchestrator: Orchestrator?
    public let signer: JWTSigner
    public let logger: Logger
    public let dataDir: String
    private let publicURLBox: PublicURL
    public let accessTokenLifetime: Int = 900
    public let refreshTokenLifetime: Int = 30 * 24 * 3600
    public let maxBodySize: Int = 1 << 20
    public let region: String
    let responseCache: ResponseCache?
    /// Rendered environments by their whole input (`EnvironmentRenderKey`); off with `grove serve --no-render-memo`.
    let environmentRenders: BoundedMemo<EnvironmentRenderKey, [UInt8]>
    let verifiedTokens = VerifiedTokenCache()
    /// Access tokens minted for web console sessions.
    let consoleTokens = ConsoleTokenCache()
    public let repositories: Repositories
    public let deployer: Deployer?
    /// `api`, `worker` or `all` (`grove serve --role`).
    public let role: String
    /// Environments are served under this domain; custom domains may not use it.
    public let baseDomain: String
    /// Where an environment's logs are, when this process can read them (the worker's data directory).
    let logLocator: (@Sendable (_ projectId: String, _ environmentId: String) -> String)?
    /// What environments run, from the store (any process answers for any worker's environments).
    public var deployments: DeploymentRecords { DeploymentRecords(store: store, repositories: repositories) }
    let pushSessions = PushSessions()
    public let hooks: GitHooks
    /// The binary git hooks call back (this one).
    public let groveExecutable = GitHooks.currentExecutable
    private let internalURLBox = PublicURL(nil, vendor: "grove")
    /// Invitations, MFA reminders.
    public let mailer: Mailer
    /// How long an invitation link stays valid.
    public let invitationLifetime: TimeInterval
    /// The SSH certificate authority and where the SSH server is (nil in contexts built without a store's authority).
    let ssh: SSHSettings?
    /// Where integrations may send requests.
    public let outbound: OutboundPolicy
    /// The SSH server's host key fingerprint, when this process runs it.
    let sshHostKey: String?
    /// Which SSH server this process runs (`openssh` or `builtin`), when it runs one.
    let sshServer: String?
    /// When this process started serving (the git server's `started_at`: it is this process).
    let startedAt = Timestamp.now()

    public init(store: any Store, orchestrator: Orchestrator?, signer: JWTSigner, logger: Logger, dataDir: String, publicURL: String?,
                region: String = "local", responseCache: Bool = true, repositories: Repositories? = nil, deployer: Deployer? = nil,
                mailer: Mailer? = nil, invitationLifetime: TimeInterval = 7 * 86400, vendor: String = "grove", role: String = "all",
                baseDomain: String = "localhost", logDirectory: (@Sendable (_ projectId: String, _ environmentId: String) -> String)? = nil,
                ssh: SSHSettings? = nil, sshHostKey: String? = nil, sshServer: String? = nil, outbound: OutboundPolicy = OutboundPolicy(allowPrivateTargets: false),
                sharedPublicURL: PublicURL? = nil, renderMemo: Bool = true) {
        self.environmentRenders = BoundedMemo(budget: renderMemo ? 8 << 20 : 0)
        self.outbound = outbound
        self.ssh = ssh
        self.sshHostKey = sshHostKey
        self.sshServer = sshServer
        self.deployer = deployer
        self.role = role
        self.baseDomain = baseDomain
        self.logLocator = logDirectory ?? deployer.map { d in { @Sendable (p: String, e: String) -> String in d.logDirectory(projectId: p, environmentId: e) } }
        self.mailer = mailer ?? (try? Mailer(url: nil, logger: logger)) ?? Self.logOnlyMailer(logger)
        self.invitationLifetime = invitationLifetime
        self.repositories = repositories ?? Repositories(dataDir: dataDir)
        self.hooks = GitHooks(dataDir: dataDir)
        self.responseCache = responseCache ? ResponseCache() : nil
        self.store = store
        self.orchestrator = orchestrator
        self.signer = signer
        self.logger = logger
        self.dataDir = dataDir
        self.publicURLBox = sharedPublicURL ?? PublicURL(publicURL, vendor: vendor)
        self.region = region
    }

    static func logOnlyMailer(_ logger: Logger) -> Mailer { Mailer(config: nil, logger: logger) }

    /// The base every `_links` href starts with, without a trailing slash.
    public var publicURL: String { publicURLBox.value }
    var render: Renderer { publicURLBox.renderer }
    func setPublicURLIfUnset(_ url: String) { publicURLBox.setIfUnset(url) }

    func url(_ path: String) -> String { publicURL + path }

    /// Deletes a project: first what runs for it (applications, services, routes, networks, their data), while its
    /// environments' records still name them, then its records and subscription, then its repository and build
    /// cache. Its unfinished activities are cancelled first, so none deploys again behind the deletion.
    func deleteProject(_ projectId: String, subscriptionId: String?) async throws {
        var filter = ActivityFilter()
        filter.states = [.pending, .inProgress, .scheduled, .staged]
        filter.limit = 1000
        for a in (try? await store.activities(projectId: projectId, filter: filter)) ?? [] where a.state.isCancellable {
            var cancelled = a
            cancelled.cancel(at: Timestamp.now())
            if a.state == .pending, (try? await store.cancelPendingActivity(cancelled)) == true { continue }
            try? await store.requestCancel(activityId: a.id)
        }
        // A running deploy stops at its next step; wait for it (bounded) so nothing starts after the teardown.
        let waitUntil = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < waitUntil {
            let version = store.changeVersion
            guard let open = try? await store.activities(projectId: projectId, filter: filter), !open.isEmpty else { break }
            try await store.nextChange(after: version, fallback: .milliseconds(100))
        }
        // A worker tears everything down, then removes the records; the answer waits for it.
        guard let project = try await store.project(id: projectId) else { return }
        var parameters = JSONObject()
        if let subscriptionId { parameters["subscription_id"] = .string(subscriptionId) }
        let a = makeActivity(type: "project.delete", project: project, environment: nil, user: nil, action: "deleted the project", parameters: parameters)
        _ = try await runOnWorker(a, timeout: .seconds(300))
        guard try await store.project(id: projectId) == nil else {
            throw APIError(.internalServerError, "The project is being deleted (activity \(a.id)) but this did not finish in time; it goes on.")
        }
    }

    /// Queues an activity a worker runs and waits until it ends (or `timeout`); nil when it went with its project.
    func runOnWorker(_ a: Activity, timeout: Duration = .seconds(60)) async throws -> Activity? {
        try await store.insertActivity(a)
        await orchestrator?.nudge()
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let version = store.changeVersion
            guard let current = try await store.activity(id: a.id) else { return nil }
            if current.state == .complete || current.state == .cancelled { return current }
            try await store.nextChange(after: version, fallback: .milliseconds(50))
        }
        return try await store.activity(id: a.id)
    }

    /// Where this process answers on loopback, for its own git hooks.
    var internalURL: String { internalURLBox.value }
    func setInternalURL(_ url: String) { internalURLBox.setIfUnset(url) }
}

/// The public URL, known at start or only once the listener has its port, with the renderer built on it.
public final class PublicURL: Sendable {
    private let state: Mutex<(value: String?, renderer: Renderer)>
    private let vendor: String
    init(_ v: String?, vendor: String) {
        self.vendor = vendor
        let value = v.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        state = Mutex((value, Renderer(base: value ?? "http://127.0.0.1", vendor: vendor)))
    }
    var value: String { state.withLock { $0.value ?? "http://127.0.0.1" } }
    var renderer: Renderer { state.withLock { $0.renderer } }
    func setIfUnset(_ v: String) {
        state.withLock { s in
            if s.value == nil { s = (v, Renderer(base: v, vendor: vendor)) }
        }
    }
}
