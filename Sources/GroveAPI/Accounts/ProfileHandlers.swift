import Foundation
import GroveModel
import GroveStore

/// `/profiles`: the accounts view of users (display name, company, UI preferences) and their postal address.
/// A caller sees their own profile and those of people sharing an organization; only their own can change.
enum ProfileHandlers {
    static func register(_ r: inout Routes, _ s: ServerContext) {
        r.add("list-profiles") { req in
            let me = try req.requireUser()
            var ids = Set([me.id])
            for o in try await s.access.organizations(user: me) {
                ids.insert(o.ownerId)
                for m in try await s.store.members(organizationId: o.id) { ids.insert(m.userId) }
            }
            var profiles: [JSON] = []
            for id in ids.sorted() { if let u = try await s.store.user(id: id) { profiles.append(try await render(s, u)) } }
            var l = Links(base: s.publicURL)
            l.add("self", "/profiles")
            return .json(.ok, .object(JSONObject([("count", .int(Int64(profiles.count))), ("profiles", .array(profiles)), ("_links", l.json)])))
        }
        r.add("get-profile") { req in .json(.ok, try await render(s, try await visible(req, s))) }
        r.add("update-profile") { req in
            var u = try own(req)
            let b = try BodyReader(try req.jsonObject(allowEmpty: false),
                                   allowed: ["display_name", "username", "current_password", "password", "marketing"] + ProfileExtras.stringFields)
            if let name = try b.string("display_name", nonEmpty: true, maxLength: 200) {
                let parts = name.split(separator: " ", maxSplits: 1).map(String.init)
                u.firstName = parts.first ?? name
                u.lastName = parts.count > 1 ? parts[1] : ""
            }
            if let username = try b.string("username", nonEmpty: true, maxLength: 64) {
                try await UserHandlers.checkUsername(username, for: u.id, s)
                u.username = username
            }
            if let password = try b.string("password", nonEmpty: true, maxLength: 1024) {
                guard password.count >= 8 else { throw APIError.badRequest("must have at least 8 characters", field: "password") }
                if let hash = u.passwordHash {
                    guard let current = try b.string("current_password"), Credentials.verifyPassword(current, hash: hash) else {
                        throw APIError.badRequest("is required and must be your current password", field: "current_password")
                    }
                }
                u.passwordHash = try Credentials.hashPassword(password)
            }
            if let scheme = try b.string("ui_colorscheme"), !["light", "dark"].contains(scheme) {
                throw APIError.badRequest("must be light or dark", field: "ui_colorscheme")
            }
            var extras = try await s.store.get(ProfileExtras.self, id: u.id) ?? ProfileExtras(userId: u.id, createdAt: Timestamp.now())
            for f in ProfileExtras.stringFields { if let v = try b.string(f, maxLength: 1024) { extras.values[f] = v } }
            if let m = try b.bool("marketing") { extras.marketing = m }
            u.updatedAt = Timestamp.now()
            try await s.store.updateUser(u)
            try await s.store.put(extras)
            return .json(.ok, try await render(s, u))
        }
        // Federated login connections: Grove signs in with passwords and API tokens only, so there are none.
        r.add("list-login-connections") { req in
            _ = try UserHandlers.own(req)
            return .json(.ok, .array([]))
        }
        for id in ["get-login-connection", "delete-login-connection"] {
            r.add(id) { req in
                _ = try UserHandlers.own(req)
                throw APIError(.notFound, "No connection to \(req.param("provider")): Grove has no federated login providers.")
            }
        }
        r.add("get-address") { req in
            let u = try await visible(req, s)
            return .json(.ok, address(try await s.store.get(Address.self, id: u.id)))
        }
        r.add("update-address") { req in
            let u = try own(req)
            let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: Address.fields)
            var a = try await s.store.get(Address.self, id: u.id) ?? Address(userId: u.id, values: [:], createdAt: Timestamp.now())
            for f in Address.fields { if let v = try b.string(f, maxLength: 255) { a.values[f] = v } }
            if let c = a.values["country"], !c.isEmpty, c.count != 2 || !c.allSatisfy(\.isLetter) {
                throw APIError.badRequest("must be a two-letter country code", field: "country")
            }
            try await s.store.put(a)
            return .json(.ok, address(a))
        }
    }

    static func own(_ req: APIRequest) throws -> User {
        let u = try req.requireUser()
        guard req.param("userId") == u.id || req.param("userId") == "me" else { throw APIError.forbidden("You can only change your own profile.") }
        return u
    }

    static func visible(_ req: APIRequest, _ s: ServerContext) async throws -> User {
        let me = try req.requireUser()
        let id = req.param("userId") == "me" ? me.id : req.param("userId")
        guard let u = try await s.store.user(id: id), try await UserHandlers.sharesOrganization(me, u, s) else { throw APIError.notFound("Profile \(id)") }
        return u
    }

    static func render(_ s: ServerContext, _ u: User) async throws -> JSON {
        let extras = try await s.store.get(ProfileExtras.self, id: u.id)
        func v(_ f: String) -> JSON { .string(extras?.values[f] ?? "") }
        var l = Links(base: s.publicURL)
        l.add("self", "/profiles/\(u.id)")
        l.add("address", "/profiles/\(u.id)/address")
        return .object(JSONObject([
            ("id", .string(u.id)), ("display_name", .string(u.displayName)), ("email", .string(u.email)), ("username", .string(u.username)),
            ("type", "user"), ("picture", v("picture")), ("company_type", v("company_type")), ("company_name", v("company_name")),
            ("currency", ""), ("vat_number", v("vat_number")), ("company_role", v("company_role")), ("website_url", v("website_url")),
            ("new_ui", true), ("ui_colorscheme", extras?.values["ui_colorscheme"].map(JSON.string) ?? "light"), ("default_catalog", v("default_catalog")),
            ("project_options_url", v("project_options_url")), ("marketing", .bool(extras?.marketing ?? false)),
            ("created_at", .string(u.createdAt)), ("updated_at", .string(u.updatedAt)), ("billing_contact", .string(u.email)),
            ("invoiced", false), ("customer_type", "individual"), ("legal_entity_name", ""), ("_links", l.json),
        ]))
    }

    static func address(_ a: Address?) -> JSON {
        .object(JSONObject(Address.fields.map { ($0, JSON.string(a?.values[$0] ?? "")) }))
    }
}
