import GroveModel

/// Versioned schema changes, applied in order and recorded in `schema_migrations`.
/// Every record keeps its full JSON in `data`; the other columns exist for lookups, uniqueness and ordering.
enum Migrations {
    struct Migration: Sendable {
        let version: Int
        let name: String
        let statements: [String]
    }

    static let all: [Migration] = [
        Migration(version: 1, name: "initial schema", statements: [
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            "CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, username TEXT NOT NULL UNIQUE, data TEXT NOT NULL)",
            "CREATE TABLE api_tokens (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, data TEXT NOT NULL)",
            "CREATE INDEX api_tokens_user ON api_tokens (user_id)",
            "CREATE TABLE refresh_tokens (id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL, data TEXT NOT NULL)",
            "CREATE TABLE organizations (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, owner_id TEXT NOT NULL, created_at TEXT NOT NULL, data TEXT NOT NULL)",
            "CREATE TABLE org_members (id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, user_id TEXT NOT NULL, created_at TEXT NOT NULL, data TEXT NOT NULL, UNIQUE (organization_id, user_id))",
            "CREATE INDEX org_members_user ON org_members (user_id)",
            "CREATE TABLE subscriptions (id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, project_id TEXT, created_at TEXT NOT NULL, data TEXT NOT NULL)",
            "CREATE INDEX subscriptions_org ON subscriptions (organization_id)",
            "CREATE TABLE projects (id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, created_at TEXT NOT NULL, data TEXT NOT NULL)",
            "CREATE INDEX projects_org ON projects (organization_id)",
            "CREATE TABLE environments (project_id TEXT NOT NULL, id TEXT NOT NULL, created_at TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (project_id, id))",
            "CREATE TABLE variables (project_id TEXT NOT NULL, environment_id TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (project_id, environment_id, name))",
            "CREATE TABLE project_grants (project_id TEXT NOT NULL, user_id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (project_id, user_id))",
            "CREATE INDEX project_grants_user ON project_grants (user_id)",
            "CREATE TABLE activities (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, environment_id TEXT NOT NULL, type TEXT NOT NULL, state TEXT NOT NULL, seq BIGINT NOT NULL, created_at TEXT NOT NULL, cancel_requested BIGINT NOT NULL DEFAULT 0, data TEXT NOT NULL)",
            "CREATE INDEX activities_queue ON activities (state, seq)",
            "CREATE INDEX activities_project ON activities (project_id, created_at)",
            "CREATE TABLE activity_log (activity_id TEXT NOT NULL, seq BIGINT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (activity_id, seq))",
        ]),
        Migration(version: 2, name: "domains and certificates", statements: [
            "CREATE TABLE domains (project_id TEXT NOT NULL, environment_id TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (project_id, environment_id, name))",
            "CREATE TABLE certificates (project_id TEXT NOT NULL, id TEXT NOT NULL, created_at TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (project_id, id))",
        ]),
        Migration(version: 3, name: "backups", statements: [
            "CREATE TABLE backups (project_id TEXT NOT NULL, environment_id TEXT NOT NULL, id TEXT NOT NULL, created_at TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (project_id, id))",
            "CREATE INDEX backups_environment ON backups (project_id, environment_id, created_at)",
        ]),
        // Accounts records (teams, members, team access, SSH keys, invitations, MFA, addresses) share one table:
        // each is looked up by id, by its parent (a team, an organization, a project) or by one reference (a user).
        Migration(version: 4, name: "account documents", statements: [
            "CREATE TABLE documents (kind TEXT NOT NULL, id TEXT NOT NULL, parent TEXT NOT NULL, ref TEXT NOT NULL, created_at TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, id))",
            "CREATE INDEX documents_parent ON documents (kind, parent, created_at)",
            "CREATE INDEX documents_ref ON documents (kind, ref, created_at)",
        ]),
        // What each environment should run and what runs, written by the worker, read by every API process.
        Migration(version: 5, name: "deployment records", statements: [
            "CREATE TABLE deployments (project_id TEXT NOT NULL, environment_id TEXT NOT NULL, generation BIGINT NOT NULL, commit_sha TEXT NOT NULL, deployed_at TEXT NOT NULL, updated_at TEXT NOT NULL, desired TEXT NOT NULL, observed TEXT NOT NULL, PRIMARY KEY (project_id, environment_id))",
        ]),
        // The applications a deployment runs with their SSH role, readable without unsealing it (environment links).
        Migration(version: 6, name: "deployment ssh access", statements: [
            "ALTER TABLE deployments ADD COLUMN ssh_access TEXT NOT NULL DEFAULT '{}'",
        ]),
        // Which environments an unfinished activity works on (every environment list and GET asks): without it the
        // project's whole activity history is read to find the few open ones.
        Migration(version: 7, name: "open activities index", statements: [
            "CREATE INDEX activities_open ON activities (project_id, state, environment_id)",
        ]),
        // A user's organizations (every `/me`, `/organizations` and project list asks) by owner as well as by membership:
        // without it each of those requests read every tenant's organization.
        Migration(version: 8, name: "organization owner index", statements: [
            "CREATE INDEX organizations_owner ON organizations (owner_id)",
        ]),
    ]

    static func apply(to db: any SQLDatabase) async throws {
        try await db.query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)", [])
        let done = Set(try await db.query("SELECT version FROM schema_migrations", []).compactMap { $0["version"]?.int })
        for m in all where !done.contains(Int64(m.version)) {
            try await db.transaction { tx in
                for s in m.statements { try await tx.query(s, []) }
                try await tx.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                                   [.int(Int64(m.version)), .text(m.name), .text(Timestamp.now())])
            }
        }
    }

    static var latestVersion: Int { all.map(\.version).max() ?? 0 }
}
