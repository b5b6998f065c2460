import Foundation
import GroveModel
import GroveStore
import Logging

/// First start and administrative actions that work straight on the store (safe while a server runs).
public enum Bootstrap {
    public struct Created: Sendable {
        public let user: User
        public let organization: Organization
        public let tokenPath: String
    }

    /// On an empty store: creates the owner user, their organization and a one-time API token written to
    /// `DATA_DIR/initial-api-token` (mode 0600). Returns nil when the store was already initialised.
    public static func firstStart(store: any Store, dataDir: String, email: String = "admin@grove.local") async throws -> Created? {
        let marker = Identifier.uuid()
        guard try await store.setMetaIfAbsent("initialized", marker) == marker else { return nil }
        guard try await store.userCount() == 0 else { return nil }
        let now = Timestamp.now()
        let user = User(id: Identifier.uuid(), username: "admin", email: email, firstName: "Grove", lastName: "Admin", createdAt: now)
        let org = Organization(id: Identifier.uuid(), name: "default", label: "Default", ownerId: user.id, createdAt: now)
        let member = OrganizationMember(id: Identifier.uuid(), organizationId: org.id, userId: user.id, permissions: [.admin], owner: true, createdAt: now)
        let secret = Identifier.secret()
        let token = APIToken(id: Identifier.uuid(), userId: user.id, name: "initial", tokenHash: sha256Hex(secret), createdAt: now)
        try await store.transaction { tx in
            try await tx.insertUser(user)
            try await tx.insertOrganization(org)
            try await tx.insertMember(member)
            try await tx.insertAPIToken(token)
        }
        let path = (dataDir as NSString).appendingPathComponent("initial-api-token")
        try writeSecret(secret + "\n", to: path)
        return Created(user: user, organization: org, tokenPath: path)
    }

    /// Adds a user; with `organization` the user also joins that organization with `permissions`.
    public static func createUser(store: any Store, email: String, username: String?, password: String?) async throws -> User {
        guard email.contains("@"), !email.contains(" ") else { throw BootstrapError("'\(email)' is not an email address") }
        let name = username ?? String(email.split(separator: "@").first ?? "user")
        guard name.range(of: "^[a-zA-Z0-9][a-zA-Z0-9._-]*$", options: .regularExpression) != nil else {
            throw BootstrapError("'\(name)' is not a valid username (letters, digits, '.', '_', '-')")
        }
        if try await store.user(email: email) != nil { throw BootstrapError("a user with email \(email) already exists") }
        if try await store.user(username: name) != nil { throw BootstrapError("the username \(name) is taken") }
        let user = User(id: Identifier.uuid(), username: name, email: email, passwordHash: try password.map(Credentials.hashPassword),
                        createdAt: Timestamp.now())
        try await store.insertUser(user)
        return user
    }

    /// Grants a user permissions on a project (`admin`, `viewer`, `development:contributor`, ...).
    public static func grant(store: any Store, projectId: String, email: String, permissions: [String]) async throws -> ProjectGrant {
        guard try await store.project(id: projectId) != nil else { throw BootstrapError("no project \(projectId)") }
        guard let user = try await store.user(email: email) else { throw BootstrapError("no user with email \(email)") }
        if case .failure(let e) = ProjectAccessLevel.parse(permissions: permissions) { throw BootstrapError("unknown permission '\(e.permission)'") }
        let g = ProjectGrant(projectId: projectId, userId: user.id, permissions: permissions, grantedAt: Timestamp.now())
        try await store.putGrant(g)
        return g
    }

    public static func writeSecret(_ text: String, to path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }

    static func sha256Hex(_ s: String) -> String { Credentials.sha256Hex(s) }
}

public struct BootstrapError: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}

extension Bootstrap {
    /// Creates an API token for a user and returns its secret (shown once, stored hashed).
    public static func createToken(store: any Store, userId: String, name: String) async throws -> String {
        let secret = Identifier.secret()
        try await store.insertAPIToken(APIToken(id: Identifier.uuid(), userId: userId, name: name, tokenHash: sha256Hex(secret), createdAt: Timestamp.now()))
        return secret
    }
}
