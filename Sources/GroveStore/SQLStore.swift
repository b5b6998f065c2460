import Foundation
import GroveModel

/// The `Store` on any `SQLDatabase`. Records are kept as JSON documents beside the columns used to find them.
public struct SQLStore: Store {
    public let db: any SQLDatabase
    /// Seals secrets before they are written; nil only for tools that never touch them.
    public let sealer: SecretSealer?

    /// Decoded records by their stored text: lists decode only the rows that changed since they were last read.
    public let records: RecordMemo

    public init(db: any SQLDatabase, sealer: SecretSealer? = nil, records: RecordMemo = RecordMemo()) {
        self.db = db; self.sealer = sealer; self.records = records
    }

    public var backendName: String { db.dialect.rawValue }
    public var changeVersion: UInt64? { db.changeVersion }
    public var answerVersion: UInt64? { db.answerVersion }
    public func answerVersion(project: String) -> UInt64? { db.answerVersion(project: project) }
    public func waitForChange(since version: UInt64?, timeout: Duration) async { await db.waitForChange(since: version, timeout: timeout) }

    public func transaction<T: Sendable>(_ body: @Sendable (any Store) async throws -> T) async throws -> T {
        try await db.transaction { tx in try await body(SQLStore(db: tx, sealer: sealer, records: records)) }
    }

    public func close() async { await db.close() }

    // MARK: helpers

    private func encode<T: Encodable>(_ v: T) throws -> SQLValue {
        .text(String(decoding: try JSONEncoder().encode(v), as: UTF8.self))
    }

    private func decode<T: Decodable & Sendable>(_ rows: [SQLRow]) throws -> [T] {
        try rows.map { row in
            guard let text = row["data"]?.string else { throw StoreError.engine("row without data") }
            return try records.decode(T.self, from: text)
        }
    }

    private func one<T: Decodable & Sendable>(_ sql: String, _ binds: [SQLValue]) async throws -> T? {
        let rows: [T] = try decode(try await db.query(sql, binds))
        return rows.first
    }

    private func many<T: Decodable & Sendable>(_ sql: String, _ binds: [SQLValue]) async throws -> [T] {
        try decode(try await db.query(sql, binds))
    }

    private func exec(_ sql: String, _ binds: [SQLValue]) async throws {
        try await db.query(sql, binds)
    }

    /// A write of rows that belong to one project: it invalidates that project's cached answers only
    /// (`SQLDatabase.answerVersion(project:)`). Only for rows no other project's answers show.
    private func exec(_ sql: String, _ binds: [SQLValue], project: String) async throws {
        try await WriteScope.$project.withValue(project) { try await db.query(sql, binds) }
    }

    /// Runs an UPDATE/DELETE with RETURNING on one project's rows and reports whether any row matched.
    private func changed(_ sql: String, _ binds: [SQLValue], project: String) async throws -> Bool {
        try await WriteScope.$project.withValue(project) { !(try await db.query(sql, binds)).isEmpty }
    }

    // MARK: meta

    public func meta(_ key: String) async throws -> String? {
        try await db.query("SELECT value FROM meta WHERE key = ?", [.text(key)]).first?["value"]?.string
    }

    public func setMetaIfAbsent(_ key: String, _ value: String) async throws -> String {
        try await exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", [.text(key), .text(value)])
        return try await meta(key) ?? value
    }

    public func secretMeta(_ key: String, generate: @Sendable () -> String) async throws -> String {
        let sealer = try requireSealer()
        let stored = try await setMetaIfAbsent(key, try sealer.seal(generate()))
        let plain = try sealer.unseal(stored)
        if !SecretSealer.isSealed(stored) {
            // Written in plain text by an older Grove: sealed in place.
            try await exec("UPDATE meta SET value = ? WHERE key = ?", [.text(try sealer.seal(plain)), .text(key)])
        }
        return plain
    }

    public func sealSecret(_ plain: String) throws -> String { try requireSealer().seal(plain) }
    public func openSecret(_ stored: String) throws -> String {
        SecretSealer.isSealed(stored) ? try requireSealer().unseal(stored) : stored
    }

    private func requireSealer() throws -> SecretSealer {
        guard let sealer else { throw StoreError.engine("this store was opened without the secret key") }
        return sealer
    }

    /// A record as stored: its secret field sealed (`when` false: kept as it is, e.g. a variable that is not sensitive).
    private func stored<T: Encodable>(_ record: T, sealing field: WritableKeyPath<T, String>, when: Bool = true) throws -> SQLValue {
        guard when, !SecretSealer.isSealed(record[keyPath: field]) else { return try encode(record) }
        var sealed = record
        sealed[keyPath: field] = try requireSealer().seal(record[keyPath: field])
        return try encode(sealed)
    }

    /// A record as read: its secret field opened.
    private func opened<T>(_ record: T, _ field: WritableKeyPath<T, String>) throws -> T {
        guard SecretSealer.isSealed(record[keyPath: field]) else { return record }
        var plain = record
        plain[keyPath: field] = try requireSealer().unseal(record[keyPath: field])
        return plain
    }

    // MARK: users

    public func insertUser(_ u: User) async throws {
        try await exec("INSERT INTO users (id, email, username, data) VALUES (?, ?, ?, ?)",
                       [.text(u.id), .text(u.email.lowercased()), .text(u.username.lowercased()), try encode(u)])
    }
    public func updateUser(_ u: User) async throws {
        try await exec("UPDATE users SET email = ?, username = ?, data = ? WHERE id = ?",
                       [.text(u.email.lowercased()), .text(u.username.lowercased()), try encode(u), .text(u.id)])
    }
    public func user(id: String) async throws -> User? { try await one("SELECT data FROM users WHERE id = ?", [.text(id)]) }
    public func users(ids: [String]) async throws -> [String: User] {
        // No stored id holds NUL, which PostgreSQL's text cannot carry.
        let ids = ids.filter { !$0.contains("\u{0}") }
        guard !ids.isEmpty else { return [:] }
        // The ids travel as one JSON array: one statement (and one prepared plan) whatever their number.
        let list = JSON.array(ids.map { JSON.string($0) }).serialized()
        let sql = db.dialect == .postgres
            ? "SELECT data FROM users WHERE id IN (SELECT jsonb_array_elements_text(CAST(? AS jsonb)))"
            : "SELECT data FROM users WHERE id IN (SELECT value FROM json_each(?))"
        let found: [User] = try await many(sql, [.text(list)])
        return Dictionary(found.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    }
    public func user(email: String) async throws -> User? {
        try await one("SELECT data FROM users WHERE email = ?", [.text(email.lowercased())])
    }
    public func user(username: String) async throws -> User? {
        try await one("SELECT data FROM users WHERE username = ?", [.text(username.lowercased())])
    }
    public func userCount() async throws -> Int {
        Int(try await db.query("SELECT COUNT(*) AS n FROM users", []).first?["n"]?.int ?? 0)
    }

    public func userForAccessToken(userId: String, tokenId: String) async throws -> (user: User?, revoked: Bool) {
        let rows = try await db.query("SELECT data, (SELECT value FROM meta WHERE key = ?) AS revoked FROM users WHERE id = ?",
                                      [.text("revoked:" + tokenId), .text(userId)])
        guard let row = rows.first else { return (nil, false) }
        let users: [User] = try decode([row])
        return (users.first, row["revoked"].map { $0 != .null } ?? false)
    }

    // MARK: API tokens

    public func insertAPIToken(_ t: APIToken) async throws {
        try await exec("INSERT INTO api_tokens (id, user_id, token_hash, data) VALUES (?, ?, ?, ?)",
                       [.text(t.id), .text(t.userId), .text(t.tokenHash), try encode(t)])
    }
    public func updateAPIToken(_ t: APIToken) async throws {
        try await exec("UPDATE api_tokens SET data = ? WHERE id = ?", [try encode(t), .text(t.id)])
    }
    public func apiTokens(userId: String) async throws -> [APIToken] {
        try await many("SELECT data FROM api_tokens WHERE user_id = ? ORDER BY id", [.text(userId)])
    }
    public func apiToken(id: String) async throws -> APIToken? { try await one("SELECT data FROM api_tokens WHERE id = ?", [.text(id)]) }
    public func apiToken(hash: String) async throws -> APIToken? {
        try await one("SELECT data FROM api_tokens WHERE token_hash = ?", [.text(hash)])
    }
    public func deleteAPIToken(id: String) async throws { try await exec("DELETE FROM api_tokens WHERE id = ?", [.text(id)]) }

    // MARK: refresh tokens

    public func insertRefreshToken(_ t: RefreshToken) async throws {
        try await exec("INSERT INTO refresh_tokens (id, token_hash, user_id, data) VALUES (?, ?, ?, ?)",
                       [.text(t.id), .text(t.tokenHash), .text(t.userId), try encode(t)])
    }
    public func refreshToken(hash: String) async throws -> RefreshToken? {
        try await one("SELECT data FROM refresh_tokens WHERE token_hash = ?", [.text(hash)])
    }
    public func deleteRefreshToken(hash: String) async throws {
        try await exec("DELETE FROM refresh_tokens WHERE token_hash = ?", [.text(hash)])
    }

    public func deleteRefreshTokens(userId: String) async throws {
        try await exec("DELETE FROM refresh_tokens WHERE user_id = ?", [.text(userId)])
    }

    // MARK: organizations

    public func insertOrganization(_ o: Organization) async throws {
        try await exec("INSERT INTO organizations (id, name, owner_id, created_at, data) VALUES (?, ?, ?, ?, ?)",
                       [.text(o.id), .text(o.name), .text(o.ownerId), .text(o.createdAt), try encode(o)])
    }
    public func updateOrganization(_ o: Organization) async throws {
        try await exec("UPDATE organizations SET name = ?, owner_id = ?, data = ? WHERE id = ?",
                       [.text(o.name), .text(o.ownerId), try encode(o), .text(o.id)])
    }
    public func deleteOrganization(id: String) async throws {
        try await exec("DELETE FROM org_members WHERE organization_id = ?", [.text(id)])
        try await exec("DELETE FROM organizations WHERE id = ?", [.text(id)])
    }
    public func organization(id: String) async throws -> Organization? {
        try await one("SELECT data FROM organizations WHERE id = ?", [.text(id)])
    }
    public func organization(name: String) async throws -> Organization? {
        try await one("SELECT data FROM organizations WHERE name = ?", [.text(name)])
    }
    public func organizations(userId: String) async throws -> [Organization] {
        try await many("""
            SELECT data FROM organizations WHERE owner_id = ? \
            OR id IN (SELECT organization_id FROM org_members WHERE user_id = ?) ORDER BY created_at, id
            """, [.text(userId), .text(userId)])
    }

    // MARK: members

    public func insertMember(_ m: OrganizationMember) async throws {
        try await exec("INSERT INTO org_members (id, organization_id, user_id, created_at, data) VALUES (?, ?, ?, ?, ?)",
                       [.text(m.id), .text(m.organizationId), .text(m.userId), .text(m.createdAt), try encode(m)])
    }
    public func updateMember(_ m: OrganizationMember) async throws {
        try await exec("UPDATE org_members SET data = ? WHERE organization_id = ? AND user_id = ?",
                       [try encode(m), .text(m.organizationId), .text(m.userId)])
    }
    public func deleteMember(organizationId: String, userId: String) async throws {
        try await exec("DELETE FROM org_members WHERE organization_id = ? AND user_id = ?", [.text(organizationId), .text(userId)])
    }
    public func member(organizationId: String, userId: String) async throws -> OrganizationMember? {
        try await one("SELECT data FROM org_members WHERE organization_id = ? AND user_id = ?", [.text(organizationId), .text(userId)])
    }
    public func members(organizationId: String) async throws -> [OrganizationMember] {
        try await many("SELECT data FROM org_members WHERE organization_id = ? ORDER BY created_at, id", [.text(organizationId)])
    }
    public func memberships(userId: String) async throws -> [OrganizationMember] {
        try await many("SELECT data FROM org_members WHERE user_id = ? ORDER BY created_at, id", [.text(userId)])
    }

    // MARK: subscriptions

    public func insertSubscription(_ s: Subscription) async throws {
        try await exec("INSERT INTO subscriptions (id, organization_id, project_id, created_at, data) VALUES (?, ?, ?, ?, ?)",
                       [.text(s.id), .text(s.organizationId), SQLValue(s.projectId), .text(s.createdAt), try encode(s)])
    }
    public func updateSubscription(_ s: Subscription) async throws {
        try await exec("UPDATE subscriptions SET project_id = ?, data = ? WHERE id = ?", [SQLValue(s.projectId), try encode(s), .text(s.id)])
    }
    public func deleteSubscription(id: String) async throws { try await exec("DELETE FROM subscriptions WHERE id = ?", [.text(id)]) }
    public func subscription(id: String) async throws -> Subscription? {
        try await one("SELECT data FROM subscriptions WHERE id = ?", [.text(id)])
    }
    public func subscriptions(organizationId: String) async throws -> [Subscription] {
        try await many("SELECT data FROM subscriptions WHERE organization_id = ? ORDER BY created_at, id", [.text(organizationId)])
    }

    // MARK: projects

    public func insertProject(_ p: Project) async throws {
        try await exec("INSERT INTO projects (id, organization_id, created_at, data) VALUES (?, ?, ?, ?)",
                       [.text(p.id), .text(p.organizationId), .text(p.createdAt), try encode(p)], project: p.id)
    }
    public func updateProject(_ p: Project) async throws {
        try await exec("UPDATE projects SET organization_id = ?, data = ? WHERE id = ?", [.text(p.organizationId), try encode(p), .text(p.id)], project: p.id)
    }
    public func deleteProject(id: String) async throws {
        let p: [SQLValue] = [.text(id)]
        try await exec("DELETE FROM activity_log WHERE activity_id IN (SELECT id FROM activities WHERE project_id = ?)", p, project: id)
        for table in ["activities", "variables", "environments", "project_grants", "domains", "certificates", "backups", "deployments"] {
            try await exec("DELETE FROM \(table) WHERE project_id = ?", p, project: id)
        }
        try await exec("DELETE FROM projects WHERE id = ?", p, project: id)
    }
    public func project(id: String) async throws -> Project? { try await one("SELECT data FROM projects WHERE id = ?", [.text(id)]) }
    public func projects(organizationId: String?) async throws -> [Project] {
        if let organizationId {
            return try await many("SELECT data FROM projects WHERE organization_id = ? ORDER BY created_at, id", [.text(organizationId)])
        }
        return try await many("SELECT data FROM projects ORDER BY created_at, id", [])
    }

    // MARK: environments

    public func insertEnvironment(_ e: Environment) async throws {
        try await exec("INSERT INTO environments (project_id, id, created_at, data) VALUES (?, ?, ?, ?)",
                       [.text(e.projectId), .text(e.id), .text(e.createdAt), try encode(e)], project: e.projectId)
    }
    public func updateEnvironment(_ e: Environment) async throws {
        try await exec("UPDATE environments SET data = ? WHERE project_id = ? AND id = ?", [try encode(e), .text(e.projectId), .text(e.id)], project: e.projectId)
    }
    public func deleteEnvironment(projectId: String, id: String) async throws {
        try await exec("DELETE FROM variables WHERE project_id = ? AND environment_id = ?", [.text(projectId), .text(id)], project: projectId)
        try await exec("DELETE FROM environments WHERE project_id = ? AND id = ?", [.text(projectId), .text(id)], project: projectId)
    }
    public func environment(projectId: String, id: String) async throws -> Environment? {
        try await one("SELECT data FROM environments WHERE project_id = ? AND id = ?", [.text(projectId), .text(id)])
    }
    public func environments(projectId: String) async throws -> [Environment] {
        try await many("SELECT data FROM environments WHERE project_id = ? ORDER BY created_at, id", [.text(projectId)])
    }
    public func environmentListing(projectId: String) async throws -> EnvironmentListing {
        // Open activities and environments (each with its deployment, if any) as one result: on PostgreSQL each query
        // is a round trip that costs more than reading the rows, and the list is read far more often than written.
        let sql = """
            SELECT 'a' AS kind, data, NULL AS deployed_at, NULL AS ssh_access, created_at, id FROM activities \
            WHERE project_id = ? AND state IN (?, ?) \
            UNION ALL \
            SELECT 'e', e.data, d.deployed_at, d.ssh_access, e.created_at, e.id FROM environments e \
            LEFT JOIN deployments d ON d.project_id = e.project_id AND d.environment_id = e.id WHERE e.project_id = ? \
            ORDER BY kind, created_at, id
            """
        let rows = try await db.query(sql, [.text(projectId), .text(ActivityState.pending.rawValue), .text(ActivityState.inProgress.rawValue),
                                             .text(projectId)])
        var listing = EnvironmentListing()
        for row in rows {
            guard let text = row["data"]?.string else { throw StoreError.engine("row without data") }
            if row["kind"]?.string == "a" {
                listing.busy.formUnion(try records.decode(Activity.self, from: text).environments)
                continue
            }
            let e = try records.decode(Environment.self, from: text)
            listing.environments.append(e)
            if let at = row["deployed_at"]?.string {
                listing.deployments[e.id] = DeploymentSummary(deployedAt: at, sshAccess: Self.stringMap(row["ssh_access"]?.string))
            }
        }
        return listing
    }

    // MARK: domains

    public func insertDomain(_ d: Domain) async throws {
        try await exec("INSERT INTO domains (project_id, environment_id, name, data) VALUES (?, ?, ?, ?)",
                       [.text(d.projectId), .text(d.environmentId ?? ""), .text(d.name), try encode(d)], project: d.projectId)
    }
    public func updateDomain(_ d: Domain) async throws {
        try await exec("UPDATE domains SET data = ? WHERE project_id = ? AND environment_id = ? AND name = ?",
                       [try encode(d), .text(d.projectId), .text(d.environmentId ?? ""), .text(d.name)], project: d.projectId)
    }
    public func deleteDomain(projectId: String, environmentId: String?, name: String) async throws {
        try await exec("DELETE FROM domains WHERE project_id = ? AND environment_id = ? AND name = ?",
                       [.text(projectId), .text(environmentId ?? ""), .text(name)], project: projectId)
    }
    public func domain(projectId: String, environmentId: String?, name: String) async throws -> Domain? {
        try await one("SELECT data FROM domains WHERE project_id = ? AND environment_id = ? AND name = ?",
                      [.text(projectId), .text(environmentId ?? ""), .text(name)])
    }
    public func domains(projectId: String, environmentId: String?) async throws -> [Domain] {
        try await many("SELECT data FROM domains WHERE project_id = ? AND environment_id = ? ORDER BY name",
                       [.text(projectId), .text(environmentId ?? "")])
    }
    public func allDomains(projectId: String) async throws -> [Domain] {
        try await many("SELECT data FROM domains WHERE project_id = ? ORDER BY environment_id, name", [.text(projectId)])
    }

    // MARK: deployments

    public func putDeployment(_ d: DeploymentRecord) async throws {
        let desired = try sealer.map { try $0.seal(d.desired) } ?? d.desired
        let ssh = JSON.object(JSONObject(d.sshAccess.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) })).serialized()
        try await exec("INSERT INTO deployments (project_id, environment_id, generation, commit_sha, deployed_at, updated_at, desired, observed, ssh_access) "
                       + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, environment_id) DO UPDATE SET generation = excluded.generation, "
                       + "commit_sha = excluded.commit_sha, deployed_at = excluded.deployed_at, updated_at = excluded.updated_at, "
                       + "desired = excluded.desired, observed = excluded.observed, ssh_access = excluded.ssh_access",
                       [.text(d.projectId), .text(d.environmentId), .int(Int64(d.generation)), .text(d.commit), .text(d.deployedAt), .text(d.updatedAt),
                        .text(desired), .text(d.observed), .text(ssh)], project: d.projectId)
    }

    public func updateObservedDeployment(projectId: String, environmentId: String, generation: Int, observed: String, updatedAt: String) async throws {
        try await exec("UPDATE deployments SET observed = ?, updated_at = ? WHERE project_id = ? AND environment_id = ? AND generation = ?",
                       [.text(observed), .text(updatedAt), .text(projectId), .text(environmentId), .int(Int64(generation))], project: projectId)
    }

    public func deployment(projectId: String, environmentId: String) async throws -> DeploymentRecord? {
        try deploymentRecords(try await db.query("SELECT * FROM deployments WHERE project_id = ? AND environment_id = ?",
                                                 [.text(projectId), .text(environmentId)])).first
    }

    public func deployments(projectId: String?) async throws -> [DeploymentRecord] {
        if let projectId {
            return try deploymentRecords(try await db.query("SELECT * FROM deployments WHERE project_id = ? ORDER BY environment_id", [.text(projectId)]))
        }
        return try deploymentRecords(try await db.query("SELECT * FROM deployments ORDER BY project_id, environment_id", []))
    }

    public func deleteDeployment(projectId: String, environmentId: String) async throws {
        try await exec("DELETE FROM deployments WHERE project_id = ? AND environment_id = ?", [.text(projectId), .text(environmentId)], project: projectId)
    }

    static func stringMap(_ text: String?) -> [String: String] {
        guard let text, case .object(let o) = try? JSON.parse(text) else { return [:] }
        var out: [String: String] = [:]
        for (k, v) in o { if let s = v.stringValue { out[k] = s } }
        return out
    }

    private func deploymentRecords(_ rows: [SQLRow]) throws -> [DeploymentRecord] {
        try rows.map { r in
            guard let p = r["project_id"]?.string, let e = r["environment_id"]?.string, let g = r["generation"]?.int, let c = r["commit_sha"]?.string,
                  let at = r["deployed_at"]?.string, let up = r["updated_at"]?.string, let desired = r["desired"]?.string, let observed = r["observed"]?.string
            else { throw StoreError.engine("a deployment record is incomplete") }
            return DeploymentRecord(projectId: p, environmentId: e, generation: Int(g), commit: c, deployedAt: at,
                                    desired: try sealer.map { try $0.unseal(desired) } ?? desired, observed: observed, updatedAt: up,
                                    sshAccess: Self.stringMap(r["ssh_access"]?.string))
        }
    }

    // MARK: backups

    public func insertBackup(_ b: Backup) async throws {
        try await exec("INSERT INTO backups (project_id, environment_id, id, created_at, data) VALUES (?, ?, ?, ?, ?)",
                       [.text(b.projectId), .text(b.environmentId), .text(b.id), .text(b.createdAt), try encode(b)], project: b.projectId)
    }
    public func deleteBackup(projectId: String, id: String) async throws {
        try await exec("DELETE FROM backups WHERE project_id = ? AND id = ?", [.text(projectId), .text(id)], project: projectId)
    }
    public func backup(projectId: String, id: String) async throws -> Backup? {
        try await one("SELECT data FROM backups WHERE project_id = ? AND id = ?", [.text(projectId), .text(id)])
    }
    public func backups(projectId: String, environmentId: String) async throws -> [Backup] {
        try await many("SELECT data FROM backups WHERE project_id = ? AND environment_id = ? ORDER BY created_at DESC, id DESC",
                       [.text(projectId), .text(environmentId)])
    }

    // MARK: certificates

    public func insertCertificate(_ c: TLSCertificate) async throws {
        try await exec("INSERT INTO certificates (project_id, id, created_at, data) VALUES (?, ?, ?, ?)",
                       [.text(c.projectId), .text(c.id), .text(c.createdAt), try stored(c, sealing: \.key)], project: c.projectId)
    }
    public func updateCertificate(_ c: TLSCertificate) async throws {
        try await exec("UPDATE certificates SET data = ? WHERE project_id = ? AND id = ?", [try stored(c, sealing: \.key), .text(c.projectId), .text(c.id)], project: c.projectId)
    }
    public func deleteCertificate(projectId: String, id: String) async throws {
        try await exec("DELETE FROM certificates WHERE project_id = ? AND id = ?", [.text(projectId), .text(id)], project: projectId)
    }
    public func certificate(projectId: String, id: String) async throws -> TLSCertificate? {
        let c: TLSCertificate? = try await one("SELECT data FROM certificates WHERE project_id = ? AND id = ?", [.text(projectId), .text(id)])
        return try c.map { try opened($0, \.key) }
    }
    public func certificates(projectId: String) async throws -> [TLSCertificate] {
        let cs: [TLSCertificate] = try await many("SELECT data FROM certificates WHERE project_id = ? ORDER BY created_at, id", [.text(projectId)])
        return try cs.map { try opened($0, \.key) }
    }

    // MARK: variables

    public func insertVariable(_ v: Variable) async throws {
        try await exec("INSERT INTO variables (project_id, environment_id, name, data) VALUES (?, ?, ?, ?)",
                       [.text(v.projectId), .text(v.environmentId ?? ""), .text(v.name), try stored(v, sealing: \.value, when: v.isSensitive)], project: v.projectId)
    }
    public func updateVariable(_ v: Variable) async throws {
        try await exec("UPDATE variables SET data = ? WHERE project_id = ? AND environment_id = ? AND name = ?",
                       [try stored(v, sealing: \.value, when: v.isSensitive), .text(v.projectId), .text(v.environmentId ?? ""), .text(v.name)], project: v.projectId)
    }
    public func deleteVariable(projectId: String, environmentId: String?, name: String) async throws {
        try await exec("DELETE FROM variables WHERE project_id = ? AND environment_id = ? AND name = ?",
                       [.text(projectId), .text(environmentId ?? ""), .text(name)], project: projectId)
    }
    public func variable(projectId: String, environmentId: String?, name: String) async throws -> Variable? {
        let v: Variable? = try await one("SELECT data FROM variables WHERE project_id = ? AND environment_id = ? AND name = ?",
                                         [.text(projectId), .text(environmentId ?? ""), .text(name)])
        return try v.map { try opened($0, \.value) }
    }
    public func variables(projectId: String, environmentId: String?) async throws -> [Variable] {
        let vs: [Variable] = try await many("SELECT data FROM variables WHERE project_id = ? AND environment_id = ? ORDER BY name",
                                            [.text(projectId), .text(environmentId ?? "")])
        return try vs.map { try opened($0, \.value) }
    }

    public func routeAccess(userId: String, tokenId: String, projectId: String, environmentId: String?) async throws -> RouteAccess {
        // Every authenticated project route runs this before its handler; on PostgreSQL a round trip costs more than
        // the lookups, so the token's user, the access records and the environment come as one row. An id that matches
        // no environment ("" for project routes) leaves its column NULL.
        let rows = try await db.query("""
            SELECT u.data AS data, (SELECT value FROM meta WHERE key = ?) AS revoked,
                   p.data AS project, o.data AS org, m.data AS member, g.data AS grantdata, e.data AS mfa,
                   (SELECT COUNT(*) FROM documents t WHERE t.kind = 'team_member' AND t.ref = u.id) AS teams,
                   en.data AS environment
            FROM users u
            LEFT JOIN projects p ON p.id = ?
            LEFT JOIN organizations o ON o.id = p.organization_id
            LEFT JOIN org_members m ON m.organization_id = p.organization_id AND m.user_id = u.id
            LEFT JOIN project_grants g ON g.project_id = p.id AND g.user_id = u.id
            LEFT JOIN documents e ON e.kind = 'mfa_enforcement' AND e.id = p.organization_id
            LEFT JOIN environments en ON en.project_id = p.id AND en.id = ?
            WHERE u.id = ?
            """, [.text("revoked:" + tokenId), .text(projectId), .text(environmentId ?? ""), .text(userId)])
        guard let row = rows.first, let userText = row["data"]?.string else { return RouteAccess(user: nil, revoked: false, project: nil, environment: nil) }
        let revoked = row["revoked"].map { $0 != .null } ?? false
        let user = try records.decode(User.self, from: userText)
        guard let projectText = row["project"]?.string else { return RouteAccess(user: user, revoked: revoked, project: nil, environment: nil) }
        let project = (try records.decode(Project.self, from: projectText), try accessRecords(row))
        let environment = try row["environment"]?.string.map { try records.decode(Environment.self, from: $0) }
        return RouteAccess(user: user, revoked: revoked, project: project, environment: environment)
    }

    /// The access columns of `routeAccess` and `accessRecords`.
    private func accessRecords(_ row: SQLRow) throws -> AccessRecords {
        func field<T: Decodable & Sendable>(_ name: String, _ type: T.Type) throws -> T? {
            guard let text = row[name]?.string else { return nil }
            return try records.decode(T.self, from: text)
        }
        return AccessRecords(organization: try field("org", Organization.self), member: try field("member", OrganizationMember.self),
                             grant: try field("grantdata", ProjectGrant.self), mfaEnforced: try field("mfa", MFAEnforcement.self)?.enforced ?? false,
                             inTeams: (row["teams"]?.int ?? 0) > 0)
    }

    public func accessRecords(organizationId: String, projectId: String, userId: String) async throws -> AccessRecords {
        let rows = try await db.query("""
            SELECT o.data AS org, m.data AS member, g.data AS grantdata, e.data AS mfa,
                   (SELECT COUNT(*) FROM documents t WHERE t.kind = 'team_member' AND t.ref = ?) AS teams
            FROM organizations o
            LEFT JOIN org_members m ON m.organization_id = o.id AND m.user_id = ?
            LEFT JOIN project_grants g ON g.project_id = ? AND g.user_id = ?
            LEFT JOIN documents e ON e.kind = 'mfa_enforcement' AND e.id = o.id
            WHERE o.id = ?
            """, [.text(userId), .text(userId), .text(projectId), .text(userId), .text(organizationId)])
        guard let row = rows.first else {
            return AccessRecords(organization: nil, member: nil, grant: try await grant(projectId: projectId, userId: userId), mfaEnforced: false,
                                 inTeams: !(try await documents(kind: TeamMember.kind, parent: nil, ref: userId)).isEmpty)
        }
        return try accessRecords(row)
    }

    // MARK: grants

    public func putGrant(_ g: ProjectGrant) async throws {
        try await exec("INSERT INTO project_grants (project_id, user_id, data) VALUES (?, ?, ?) ON CONFLICT (project_id, user_id) DO UPDATE SET data = excluded.data",
                       [.text(g.projectId), .text(g.userId), try encode(g)], project: g.projectId)
    }
    public func deleteGrant(projectId: String, userId: String) async throws {
        try await exec("DELETE FROM project_grants WHERE project_id = ? AND user_id = ?", [.text(projectId), .text(userId)], project: projectId)
    }
    public func grant(projectId: String, userId: String) async throws -> ProjectGrant? {
        try await one("SELECT data FROM project_grants WHERE project_id = ? AND user_id = ?", [.text(projectId), .text(userId)])
    }
    public func grants(projectId: String) async throws -> [ProjectGrant] {
        try await many("SELECT data FROM project_grants WHERE project_id = ? ORDER BY user_id", [.text(projectId)])
    }
    public func grants(userId: String) async throws -> [ProjectGrant] {
        try await many("SELECT data FROM project_grants WHERE user_id = ? ORDER BY project_id", [.text(userId)])
    }

    // MARK: account documents

    public func insertDocument(_ d: StoredDocument) async throws {
        try await exec("INSERT INTO documents (kind, id, parent, ref, created_at, data) VALUES (?, ?, ?, ?, ?, ?)",
                       [.text(d.kind), .text(d.id), .text(d.parent), .text(d.ref), .text(d.createdAt), .text(d.data)])
    }
    public func putDocument(_ d: StoredDocument) async throws {
        try await exec("""
            INSERT INTO documents (kind, id, parent, ref, created_at, data) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (kind, id) DO UPDATE SET parent = excluded.parent, ref = excluded.ref, data = excluded.data
            """, [.text(d.kind), .text(d.id), .text(d.parent), .text(d.ref), .text(d.createdAt), .text(d.data)])
    }
    public func deleteDocument(kind: String, id: String) async throws {
        try await exec("DELETE FROM documents WHERE kind = ? AND id = ?", [.text(kind), .text(id)])
    }
    public func document(kind: String, id: String) async throws -> StoredDocument? {
        try await db.query("SELECT kind, id, parent, ref, created_at, data FROM documents WHERE kind = ? AND id = ?", [.text(kind), .text(id)])
            .first.flatMap(StoredDocument.init(row:))
    }
    public func documents(kind: String, parent: String?, ref: String?) async throws -> [StoredDocument] {
        var sql = "SELECT kind, id, parent, ref, created_at, data FROM documents WHERE kind = ?"
        var binds: [SQLValue] = [.text(kind)]
        if let parent { sql += " AND parent = ?"; binds.append(.text(parent)) }
        if let ref { sql += " AND ref = ?"; binds.append(.text(ref)) }
        return try await db.query(sql + " ORDER BY created_at, id", binds).compactMap(StoredDocument.init(row:))
    }

    // MARK: activities

    public func insertActivity(_ a: Activity) async throws {
        try await exec("INSERT INTO activities (id, project_id, environment_id, type, state, seq, created_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       [.text(a.id), .text(a.projectId), .text(a.environments.first ?? ""), .text(a.type), .text(a.state.rawValue),
                        .int(a.seq), .text(a.createdAt), try encode(a)], project: a.projectId)
    }
    public func updateActivity(_ a: Activity) async throws {
        try await exec("UPDATE activities SET state = ?, data = ? WHERE id = ?", [.text(a.state.rawValue), try encode(a), .text(a.id)], project: a.projectId)
    }
    public func activity(id: String) async throws -> Activity? {
        try withCancelFlag(try await db.query("SELECT data, cancel_requested FROM activities WHERE id = ?", [.text(id)])).first
    }
    public func activities(projectId: String, filter: ActivityFilter) async throws -> [Activity] {
        var sql = "SELECT data, cancel_requested FROM activities WHERE project_id = ?"
        var binds: [SQLValue] = [.text(projectId)]
        if let env = filter.environmentId { sql += " AND environment_id = ?"; binds.append(.text(env)) }
        if !filter.types.isEmpty {
            sql += " AND type IN (" + filter.types.map { _ in "?" }.joined(separator: ",") + ")"
            binds += filter.types.map { .text($0) }
        }
        if !filter.states.isEmpty {
            sql += " AND state IN (" + filter.states.map { _ in "?" }.joined(separator: ",") + ")"
            binds += filter.states.map { .text($0.rawValue) }
        }
        if let s = filter.startsAt { sql += " AND created_at <= ?"; binds.append(.text(s)) }
        sql += " ORDER BY created_at DESC, seq DESC"
        var out = try withCancelFlag(try await db.query(sql, binds))
        if let r = filter.result { out = out.filter { $0.result == r } }
        if let i = filter.integrationId { out = out.filter { $0.parameters["integration"]?.stringValue == i } }
        return Array(out.prefix(max(0, filter.limit)))
    }
    public func pendingActivities(limit: Int) async throws -> [Activity] {
        try withCancelFlag(try await db.query("SELECT data, cancel_requested FROM activities WHERE state = ? ORDER BY seq LIMIT ?",
                                              [.text(ActivityState.pending.rawValue), .int(Int64(limit))]))
    }
    public func pendingQueueHeads(recordTypes: [String], limit: Int) async throws -> [Activity] {
        let pending = SQLValue.text(ActivityState.pending.rawValue)
        // Lanes of one queue that do not wait for each other: record-only activities, integration deliveries, the rest.
        let records = recordTypes.isEmpty ? "" : "WHEN type IN (\(recordTypes.map { _ in "?" }.joined(separator: ", "))) THEN 1 "
        let lane = "CASE \(records)WHEN type LIKE 'integration.%' THEN 2 ELSE 0 END"
        let sql = "SELECT data, cancel_requested FROM activities WHERE state = ? AND seq IN "
            + "(SELECT MIN(seq) FROM activities WHERE state = ? GROUP BY project_id, environment_id, \(lane)) ORDER BY seq LIMIT ?"
        return try withCancelFlag(try await db.query(sql, [pending, pending] + recordTypes.map { .text($0) } + [.int(Int64(limit))]))
    }
    public func activities(state: ActivityState) async throws -> [Activity] {
        try withCancelFlag(try await db.query("SELECT data, cancel_requested FROM activities WHERE state = ? ORDER BY seq", [.text(state.rawValue)]))
    }
    public func claimActivity(_ a: Activity) async throws -> Bool {
        try await changed("UPDATE activities SET state = ?, data = ? WHERE id = ? AND state = ? RETURNING id",
                          [.text(a.state.rawValue), try encode(a), .text(a.id), .text(ActivityState.pending.rawValue)], project: a.projectId)
    }
    public func cancelPendingActivity(_ a: Activity) async throws -> Bool {
        try await changed("UPDATE activities SET state = ?, data = ? WHERE id = ? AND state = ? RETURNING id",
                          [.text(a.state.rawValue), try encode(a), .text(a.id), .text(ActivityState.pending.rawValue)], project: a.projectId)
    }
    public func requestCancel(activityId: String) async throws {
        try await exec("UPDATE activities SET cancel_requested = 1 WHERE id = ?", [.text(activityId)])
    }
    public func isCancelRequested(activityId: String) async throws -> Bool {
        (try await db.query("SELECT cancel_requested FROM activities WHERE id = ?", [.text(activityId)]).first?["cancel_requested"]?.int ?? 0) != 0
    }
    public func environmentState(projectId: String, environmentId: String) async throws -> EnvironmentState {
        let rows = try await db.query("""
            SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM activities WHERE project_id = ? AND environment_id = ? AND state IN (?, ?) LIMIT 1) a) AS busy,
                   d.deployed_at, d.ssh_access
            FROM (SELECT 1 AS one) x LEFT JOIN deployments d ON d.project_id = ? AND d.environment_id = ?
            """, [.text(projectId), .text(environmentId), .text(ActivityState.pending.rawValue), .text(ActivityState.inProgress.rawValue),
                  .text(projectId), .text(environmentId)])
        guard let row = rows.first else { return EnvironmentState(busy: false, deployment: nil) }
        let deployment = row["deployed_at"]?.string.map { DeploymentSummary(deployedAt: $0, sshAccess: Self.stringMap(row["ssh_access"]?.string)) }
        return EnvironmentState(busy: (row["busy"]?.int ?? 0) > 0, deployment: deployment)
    }

    private func withCancelFlag(_ rows: [SQLRow]) throws -> [Activity] {
        var out: [Activity] = try decode(rows)
        for i in out.indices where (rows[i]["cancel_requested"]?.int ?? 0) != 0 { out[i].cancelRequested = true }
        return out
    }

    // MARK: activity log

    public func appendLog(_ item: ActivityLogItem) async throws {
        try await exec("INSERT INTO activity_log (activity_id, seq, data) VALUES (?, ?, ?)", [.text(item.activityId), .int(item.seq), try encode(item)])
    }
    public func logItems(activityId: String, afterSeq: Int64) async throws -> [ActivityLogItem] {
        try await many("SELECT data FROM activity_log WHERE activity_id = ? AND seq > ? ORDER BY seq", [.text(activityId), .int(afterSeq)])
    }
}
