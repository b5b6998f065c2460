import Foundation
import GroveModel
import GroveStore

/// Users, API tokens, `/me`, and the `/ref/*` lookups the CLI follows.
enum UserHandlers {
    static func register(_ r: inout Routes, _ s: ServerContext) {
        r.add("get-current-user") { req in
            let u = try req.requireUser()
            return .json(.ok, s.render.user(u, mfa: try await MFAHandlers.enrolled(s, u.id)))
        }
        r.add("get-current-user-deprecated") { req in try await legacyMe(req, s) }
        r.add("get-user-by-email-address") { req in
            try await visible(req, s, try await s.store.user(email: req.param("email")), what: "User with email \(req.param("email"))")
        }
        r.add("get-user-by-username") { req in
            try await visible(req, s, try await s.store.user(username: req.param("username")), what: "User \(req.param("username"))")
        }
        r.add("get-user") { req in
            try await visible(req, s, try await s.store.user(id: req.param("user_id")), what: "User \(req.param("user_id"))")
        }
        r.add("update-user") { req in try await update(req, s) }
        r.add("list-api-tokens") { req in
            let user = try own(req)
            return .json(.ok, .array(try await s.store.apiTokens(userId: user.id).map { s.render.apiToken($0) }))
        }
        r.add("create-api-token") { req in try await createToken(req, s) }
        r.add("get-api-token") { req in
            let user = try own(req)
            guard let t = try await s.store.apiToken(id: req.param("token_id")), t.userId == user.id else { throw APIError.notFound("API token") }
            return .json(.ok, s.render.apiToken(t))
        }
        r.add("delete-api-token") { req in
            let user = try own(req)
            guard let t = try await s.store.apiToken(id: req.param("token_id")), t.userId == user.id else { throw APIError.notFound("API token") }
            try await s.store.deleteAPIToken(id: t.id)
            return .empty(.noContent)
        }
        r.add("list-referenced-users") { req in
            let caller = try req.requireUser()
            var out = JSONObject()
            for id in req.queryValues("in") {
                if let u = try await s.store.user(id: id), try await sharesOrganization(caller, u, s) { out[id] = s.render.userReference(u) } else { out[id] = .null }
            }
            return .json(.ok, .object(out))
        }
    }

    /// Only the user themselves may use `/users/{user_id}/...` management paths.
    static func own(_ req: APIRequest) throws -> User {
        let user = try req.requireUser()
        let id = req.param("user_id")
        guard id == user.id || id == "me" else { throw APIError.notFound("User \(id)") }
        return user
    }

    static func sharesOrganization(_ a: User, _ b: User, _ s: ServerContext) async throws -> Bool {
        if a.id == b.id { return true }
        let orgsA = Set(try await s.access.organizations(user: a).map(\.id))
        return !orgsA.isDisjoint(with: try await s.access.organizations(user: b).map(\.id))
    }

    static func visible(_ req: APIRequest, _ s: ServerContext, _ u: User?, what: String) async throws -> APIResponse {
        let caller = try req.requireUser()
        guard let u, try await sharesOrganization(caller, u, s) else { throw APIError.notFound(what) }
        return .json(.ok, s.render.user(u, mfa: try await MFAHandlers.enrolled(s, u.id)))
    }

    /// A username a user may take: letters, digits, '.', '_', '-', and nobody else's.
    static func checkUsername(_ name: String, for userId: String, _ s: ServerContext) async throws {
        guard name.range(of: "^[a-zA-Z0-9][a-zA-Z0-9._-]*$", options: .regularExpression) != nil else {
            throw APIError.badRequest("may hold only letters, digits, '.', '_' and '-'", field: "username")
        }
        if let other = try await s.store.user(username: name), other.id != userId { throw APIError.conflict("The username \(name) is taken.") }
    }

    static func legacyMe(_ req: APIRequest, _ s: ServerContext) async throws -> APIResponse {
        let u = try req.requireUser()
        let projects = try await s.access.visibleProjects(user: u).map { (p, _) -> JSON in
            var o = JSONObject([("id", .string(p.id)), ("name", .string(p.title)), ("title", .string(p.title)),
                                ("endpoint", .string(s.publicURL + "/api/projects/\(p.id)")), ("region", .string(p.region)),
                                ("owner", .string(p.ownerId)), ("organization_id", .string(p.organizationId))])
            // An integer here; subscriptions made before ids were numeric have none to show.
            if let n = Int64(p.subscriptionId) { o["subscription_id"] = .int(n) }
            return .object(o)
        }
        let keys = try await s.store.list(SSHKey.self, parent: u.id)
        return .json(.ok, .object(JSONObject([
            ("id", .string(u.id)), ("uuid", .string(u.id)), ("username", .string(u.username)), ("mail", .string(u.email)),
            ("display_name", .string(u.displayName)), ("ssh_keys", .array(keys.map { SSHKeyHandlers.render(s, $0) })), ("projects", .array(projects)),
            ("has_key", .bool(!keys.isEmpty)), ("created_at", .string(u.createdAt)),
        ])))
    }

    static func update(_ req: APIRequest, _ s: ServerContext) async throws -> APIResponse {
        var u = try own(req)
        let b = try BodyReader(try req.jsonObject(allowEmpty: false),
                               allowed: ["username", "first_name", "last_name", "email", "picture", "company", "website", "country"])
        if let name = try b.string("username", nonEmpty: true, maxLength: 64) {
            try await checkUsername(name, for: u.id, s)
            u.username = name
        }
        // An address is only taken on proof of reading its mail: invitations to it are granted to whoever has it.
        if b.has("email") {
            throw APIError.badRequest("is changed with POST /users/\(u.id)/emailaddress, which mails a confirmation link to the new address", field: "email")
        }
        if let v = try b.string("first_name", maxLength: 128) { u.firstName = v }
        if let v = try b.string("last_name", maxLength: 128) { u.lastName = v }
        for k in ["picture", "company", "website", "country"] { _ = try b.string(k) }
        u.updatedAt = Timestamp.now()
        try await s.store.updateUser(u)
        return .json(.ok, s.render.user(u, mfa: try await MFAHandlers.enrolled(s, u.id)))
    }

    static func createToken(_ req: APIRequest, _ s: ServerContext) async throws -> APIResponse {
        let user = try own(req)
        let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: ["name"])
        guard let name = try b.string("name", required: true, nonEmpty: true, maxLength: 128) else { throw APIError.badRequest("is required", field: "name") }
        let secret = Identifier.secret()
        let t = APIToken(id: Identifier.uuid(), userId: user.id, name: name, tokenHash: Credentials.sha256Hex(secret), createdAt: Timestamp.now())
        try await s.store.insertAPIToken(t)
        return .json(.created, s.render.apiToken(t, secret: secret))
    }
}
