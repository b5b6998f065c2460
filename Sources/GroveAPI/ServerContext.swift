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
    public let orchestrator: Orchestrator
    public let signer: JWTSigner
    public let logger: Logger
    public let dataDir: String
    private let publicURLBox: PublicURL
    public let accessTokenLifetime: Int = 900
    public let refreshTokenLifetime: Int = 30 * 24 * 3600
    public let maxBodySize: Int = 1 << 20
    public let region: String
    let responseCache: ResponseCache?
    let verifiedTokens = VerifiedTokenCache()
    public let repositories: Repositories
    public let deployer: Deployer?
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

    public init(store: any Store, orchestrator: Orchestrator, signer: JWTSigner, logger: Logger, dataDir: String, publicURL: String?,
                region: String = "local", responseCache: Bool = true, repositories: Repositories? = nil, deployer: Deployer? = nil,
                mailer: Mailer? = nil, invitationLifetime: TimeInterval = 7 * 86400, vendor: String = "grove") {
        self.deployer = deployer
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
        self.publicURLBox = PublicURL(publicURL, vendor: vendor)
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
        for _ in 0..<300 {
            guard let open = try? await store.activities(projectId: projectId, filter: filter), !open.isEmpty else { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        if let deployer {
            // What the records name and what the runtime still runs (a deployment whose record went first included).
            var environments = Set(((try? await store.environments(projectId: projectId)) ?? []).map(\.id))
            environments.formUnion(await deployer.deployedEnvironments(projectId: projectId))
            for e in environments.sorted() {
                await deployer.undeploy(projectId: projectId, environmentId: e, keepData: false)
            }
            await deployer.forgetProject(projectId)
        }
        try await store.transaction { tx in
            try await tx.deleteProject(id: projectId)
            if let subscriptionId { try await tx.deleteSubscription(id: subscriptionId) }
        }
        repositories.delete(projectId)
        try? FileManager.default.removeItem(atPath: dataDir + "/build-cache/" + projectId)
    }

    /// Where this process answers on loopback, for its own git hooks.
    var internalURL: String { internalURLBox.value }
    func setInternalURL(_ url: String) { internalURLBox.setIfUnset(url) }
}

/// The public URL, known at start or only once the listener has its port, with the renderer built on it.
final class PublicURL: Sendable {
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
