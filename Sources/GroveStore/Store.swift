import GroveModel

/// Filters for listing activities, as the API's query parameters express them.
public struct ActivityFilter: Sendable {
    public var environmentId: String?
    public var types: [String] = []
    public var states: [ActivityState] = []
    public var result: ActivityResult?
    /// Only activities created at or before this timestamp (clients page backwards with it).
    public var startsAt: String?
    /// Only activities of this integration (their `integration` parameter).
    public var integrationId: String?
    public var limit: Int = 100
    public init(environmentId: String? = nil) { self.environmentId = environmentId }
}

/// Everything the platform persists. One protocol; `SQLStore` implements it on SQLite and on PostgreSQL.
public protocol Store: Sendable {
    var backendName: String { get }
    /// See `SQLDatabase.changeVersion`.
    var changeVersion: UInt64? { get }
    /// See `SQLDatabase.waitForChange`.
    func waitForChange(since version: UInt64?, timeout: Duration) async
    /// See `SQLDatabase.answerVersion`.
    var answerVersion: UInt64? { get }
    /// See `SQLDatabase.answerVersion(project:)`.
    func answerVersion(project: String) -> UInt64?
    /// Runs `body` atomically against the same store.
    func transaction<T: Sendable>(_ body: @Sendable (any Store) async throws -> T) async throws -> T
    func close() async

    func meta(_ key: String) async throws -> String?
    /// Sets `key` only if it is unset; returns the value that is stored afterwards.
    func setMetaIfAbsent(_ key: String, _ value: String) async throws -> String
    /// A secret kept sealed under the store's secret key: generated and stored on first use, returned in plain.
    func secretMeta(_ key: String, generate: @Sendable () -> String) async throws -> String
    /// Seals a secret with the store's key for keeping in a record (integration tokens), and opens it again.
    func sealSecret(_ plain: String) throws -> String
    func openSecret(_ stored: String) throws -> String

    func insertUser(_ u: User) async throws
    func updateUser(_ u: User) async throws
    func user(id: String) async throws -> User?
    /// The users of `ids` that exist, by id, in one round trip.
    func users(ids: [String]) async throws -> [String: User]
    func user(email: String) async throws -> User?
    func user(username: String) async throws -> User?
    func userCount() async throws -> Int

    /// The user an access token names and whether the token's id was revoked, in one round trip.
    func userForAccessToken(userId: String, tokenId: String) async throws -> (user: User?, revoked: Bool)

    func insertAPIToken(_ t: APIToken) async throws
    func updateAPIToken(_ t: APIToken) async throws
    func apiTokens(userId: String) async throws -> [APIToken]
    func apiToken(id: String) async throws -> APIToken?
    func apiToken(hash: String) async throws -> APIToken?
    func deleteAPIToken(id: String) async throws

    func insertRefreshToken(_ t: RefreshToken) async throws
    func refreshToken(hash: String) async throws -> RefreshToken?
    func deleteRefreshToken(hash: String) async throws
    /// Ends every session of a user (after a password reset): their refresh tokens stop working.
    func deleteRefreshTokens(userId: String) async throws

    func insertOrganization(_ o: Organization) async throws
    func updateOrganization(_ o: Organization) async throws
    func deleteOrganization(id: String) async throws
    func organization(id: String) async throws -> Organization?
    func organization(name: String) async throws -> Organization?
    /// The organizations the user owns or is a member of, oldest first.
    func organizations(userId: String) async throws -> [Organization]

    func insertMember(_ m: OrganizationMember) async throws
    func updateMember(_ m: OrganizationMember) async throws
    func deleteMember(organizationId: String, userId: String) async throws
    func member(organizationId: String, userId: String) async throws -> OrganizationMember?
    func members(organizationId: String) async throws -> [OrganizationMember]
    func memberships(userId: String) async throws -> [OrganizationMember]

    func insertSubscription(_ s: Subscription) async throws
    func updateSubscription(_ s: Subscription) async throws
    func deleteSubscription(id: String) async throws
    func subscription(id: String) async throws -> Subscription?
    func subscriptions(organizationId: String) async throws -> [Subscription]

    func insertProject(_ p: Project) async throws
    func updateProject(_ p: Project) async throws
    /// Removes the project and everything under it.
    func deleteProject(id: String) async throws
    func project(id: String) async throws -> Project?
    func projects(organizationId: String?) async throws -> [Project]

    func insertEnvironment(_ e: Environment) async throws
    func updateEnvironment(_ e: Environment) async throws
    func deleteEnvironment(projectId: String, id: String) async throws
    func environment(projectId: String, id: String) async throws -> Environment?
    func environments(projectId: String) async throws -> [Environment]
    /// A project's environments with what their list renders from (deployments, which are busy), in one round trip.
    func environmentListing(projectId: String) async throws -> EnvironmentListing

    func insertVariable(_ v: Variable) async throws
    func updateVariable(_ v: Variable) async throws
    func deleteVariable(projectId: String, environmentId: String?, name: String) async throws
    func variable(projectId: String, environmentId: String?, name: String) async throws -> Variable?
    func variables(projectId: String, environmentId: String?) async throws -> [Variable]

    /// `environmentId` nil: the project's (production) domains.
    func insertDomain(_ d: Domain) async throws
    func updateDomain(_ d: Domain) async throws
    func deleteDomain(projectId: String, environmentId: String?, name: String) async throws
    func domain(projectId: String, environmentId: String?, name: String) async throws -> Domain?
    func domains(projectId: String, environmentId: String?) async throws -> [Domain]
    /// Every domain of the project, production and replacement.
    func allDomains(projectId: String) async throws -> [Domain]

    func insertCertificate(_ c: TLSCertificate) async throws
    func updateCertificate(_ c: TLSCertificate) async throws
    func deleteCertificate(projectId: String, id: String) async throws
    func certificate(projectId: String, id: String) async throws -> TLSCertificate?
    func certificates(projectId: String) async throws -> [TLSCertificate]

    /// Creates or replaces the environment's deployment record.
    func putDeployment(_ d: DeploymentRecord) async throws
    /// Replaces only what runs, when the record is still of `generation` (a newer deployment is left alone).
    func updateObservedDeployment(projectId: String, environmentId: String, generation: Int, observed: String, updatedAt: String) async throws
    func deployment(projectId: String, environmentId: String) async throws -> DeploymentRecord?
    /// Every record, or one project's.
    func deployments(projectId: String?) async throws -> [DeploymentRecord]
    func deleteDeployment(projectId: String, environmentId: String) async throws

    func insertBackup(_ b: Backup) async throws
    func deleteBackup(projectId: String, id: String) async throws
    func backup(projectId: String, id: String) async throws -> Backup?
    /// Newest first.
    func backups(projectId: String, environmentId: String) async throws -> [Backup]

    /// The organization, the user's membership in it and the user's grant on the project, in one round trip.
    func accessRecords(organizationId: String, projectId: String, userId: String) async throws -> AccessRecords
    /// What a project route checks before its handler runs, in one round trip: the token's user and whether the token
    /// was revoked (`userForAccessToken`), the project with the user's access records (nil when there is no such
    /// project) and, when `environmentId` is given, that environment of the project. Handlers that look up another
    /// project pass "" as `tokenId`: the request's token was checked already.
    func routeAccess(userId: String, tokenId: String, projectId: String, environmentId: String?) async throws -> RouteAccess

    func putGrant(_ g: ProjectGrant) async throws
    /// Account documents (see `DocumentRecord`): insert fails with `StoreError.conflict` when the id exists.
    func insertDocument(_ d: StoredDocument) async throws
    func putDocument(_ d: StoredDocument) async throws
    func deleteDocument(kind: String, id: String) async throws
    func document(kind: String, id: String) async throws -> StoredDocument?
    /// Oldest first, by parent and/or reference.
    func documents(kind: String, parent: String?, ref: String?) async throws -> [StoredDocument]
    func deleteGrant(projectId: String, userId: String) async throws
    func grant(projectId: String, userId: String) async throws -> ProjectGrant?
    func grants(projectId: String) async throws -> [ProjectGrant]
    func grants(userId: String) async throws -> [ProjectGrant]

    func insertActivity(_ a: Activity) async throws
    /// Writes the activity's state and data; never clears a pending cancellation request.
    func updateActivity(_ a: Activity) async throws
    func activity(id: String) async throws -> Activity?
    func activities(projectId: String, filter: ActivityFilter) async throws -> [Activity]
    /// Pending activities in queue order.
    func pendingActivities(limit: Int) async throws -> [Activity]
    /// The oldest pending activity of each queue: per project and environment, activities of `recordTypes` queued
    /// apart from the others. However long a queue is, its head is found.
    func pendingQueueHeads(recordTypes: [String], limit: Int) async throws -> [Activity]
    func activities(state: ActivityState) async throws -> [Activity]
    /// Moves a pending activity to in_progress; false when another worker (or a cancel) got there first.
    func claimActivity(_ a: Activity) async throws -> Bool
    /// Cancels a still-pending activity; false when it is no longer pending.
    func cancelPendingActivity(_ a: Activity) async throws -> Bool
    func requestCancel(activityId: String) async throws
    func isCancelRequested(activityId: String) async throws -> Bool
    /// Whether a pending or running activity works on the environment, and its deployment summary, in one round trip.
    func environmentState(projectId: String, environmentId: String) async throws -> EnvironmentState

    func appendLog(_ item: ActivityLogItem) async throws
    func logItems(activityId: String, afterSeq: Int64) async throws -> [ActivityLogItem]
}

extension Store {
    public func hasUnfinishedActivity(projectId: String, environmentId: String) async throws -> Bool {
        try await environmentState(projectId: projectId, environmentId: environmentId).busy
    }
    public func logItems(activityId: String) async throws -> [ActivityLogItem] { try await logItems(activityId: activityId, afterSeq: -1) }
}

extension Store {
    /// The variables of an environment and of each ancestor up to the root (nearest first), with their ids:
    /// what `VariableResolver.effective` takes as `ancestors` and `environmentIds`.
    public func variableAncestry(projectId: String, environment: Environment) async throws -> (chain: [[Variable]], ids: [String]) {
        var chain: [[Variable]] = []
        var ids: [String] = []
        var cursor: Environment? = environment
        var seen = Set<String>()
        while let c = cursor, seen.insert(c.id).inserted {
            chain.append(try await variables(projectId: projectId, environmentId: c.id))
            ids.append(c.id)
            if let parent = c.parent { cursor = try await self.environment(projectId: projectId, id: parent) } else { cursor = nil }
        }
        return (chain, ids)
    }
}

/// What decides one user's access to one project, read in one round trip: the organization, the user's membership,
/// their grant, whether the organization enforces MFA, and whether the user is in any team (only then are team
/// grants looked up).
/// See `Store.routeAccess`. Only `user` and `revoked` are read when there is no such user.
public struct RouteAccess: Sendable {
    public var user: User?
    public var revoked: Bool
    public var project: (Project, AccessRecords)?
    public var environment: Environment?
    public init(user: User?, revoked: Bool, project: (Project, AccessRecords)?, environment: Environment?) {
        self.user = user; self.revoked = revoked; self.project = project; self.environment = environment
    }
}

public struct AccessRecords: Sendable {
    public var organization: Organization?
    public var member: OrganizationMember?
    public var grant: ProjectGrant?
    public var mfaEnforced: Bool
    public var inTeams: Bool
    public init(organization: Organization?, member: OrganizationMember?, grant: ProjectGrant?, mfaEnforced: Bool, inTeams: Bool) {
        self.organization = organization; self.member = member; self.grant = grant; self.mfaEnforced = mfaEnforced; self.inTeams = inTeams
    }
}
