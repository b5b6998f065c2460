import Foundation
import GroveModel
import GroveStore

/// Organizations and their members (accounts-style collections).
enum OrganizationHandlers {
    static func register(_ r: inout Routes, _ s: ServerContext) {
        r.add("list-orgs") { req in
            let user = try req.requireUser()
            var orgs = try await s.access.organizations(user: user)
            if let owner = req.queryValue("filter[owner_id]") { orgs = orgs.filter { $0.ownerId == owner } }
            if let name = req.queryValue("filter[name]") { orgs = orgs.filter { $0.name == name } }
            if let id = req.queryValue("filter[id]") { orgs = orgs.filter { $0.id == id } }
            var rendered: [(Organization, OrganizationMember?)] = []
            for o in orgs { rendered.append((o, try await s.access.membership(user: user, organization: o))) }
            return .json(.ok, try accountsCollection(rendered, request: req, base: s.publicURL, cursor: { $0.0.id },
                                                     render: { s.render.organization($0.0, member: $0.1) }))
        }
        r.add("create-org") { req in try await create(req, s) }
        r.add("list-user-orgs") { req in
            let user = try UserHandlers.own(req)
            var rendered: [(Organization, OrganizationMember?)] = []
            for o in try await s.access.organizations(user: user) { rendered.append((o, try await s.access.membership(user: user, organization: o))) }
            return .json(.ok, try accountsCollection(rendered, request: req, base: s.publicURL, cursor: { $0.0.id },
                                                     render: { s.render.organization($0.0, member: $0.1) }))
        }
        r.add("get-org") { req in
            let (o, m) = try await visible(req, s)
            return .json(.ok, s.render.organization(o, member: m))
        }
        r.add("update-org") { req in try await update(req, s) }
        r.add("delete-org") { req in
            let (o, m) = try await visible(req, s)
            guard m.owner else { throw APIError.forbidden("Only the owner can delete an organization.") }
            guard try await s.store.projects(organizationId: o.id).isEmpty else {
                throw APIError.badRequest("The organization still has projects; delete them first.")
            }
            try await s.store.transaction { tx in
                for sub in try await tx.subscriptions(organizationId: o.id) { try await tx.deleteSubscription(id: sub.id) }
                try await tx.deleteOrganization(id: o.id)
            }
            return .empty(.noContent)
        }
        r.add("list-referenced-orgs") { req in
            let user = try req.requireUser()
            let mine = Set(try await s.access.organizations(user: user).map(\.id))
            var out = JSONObject()
            for id in req.queryValues("in") {
                if mine.contains(id), let o = try await s.store.organization(id: id) { out[id] = s.render.organizationReference(o) } else { out[id] = .null }
            }
            return .json(.ok, .object(out))
        }

        r.add("list-org-members") { req in
            let (o, m) = try await visible(req, s)
            var all = try await s.store.members(organizationId: o.id)
            if let p = req.queryValue("filter[permissions]") { all = all.filter { $0.permissions.map(\.rawValue).contains(p) } }
            return .json(.ok, try accountsCollection(all, request: req, base: s.publicURL, cursor: { $0.userId },
                                                     render: { s.render.member($0, canManage: m.has(.members)) }))
        }
        r.add("create-org-member") { req in try await addMember(req, s) }
        r.add("get-org-member") { req in
            let (o, m) = try await visible(req, s)
            guard let member = try await s.store.member(organizationId: o.id, userId: req.param("user_id")) else {
                throw APIError.notFound("Member \(req.param("user_id"))")
            }
            return .json(.ok, s.render.member(member, canManage: m.has(.members)))
        }
        r.add("update-org-member") { req in
            let (o, m) = try await visible(req, s)
            guard m.has(.members) else { throw APIError.forbidden("Managing members requires the members permission.") }
            guard var member = try await s.store.member(organizationId: o.id, userId: req.param("user_id")) else {
                throw APIError.notFound("Member \(req.param("user_id"))")
            }
            let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: ["permissions"])
            guard let perms = try b.stringArray("permissions") else { throw APIError.badRequest("is required", field: "permissions") }
            if member.owner { throw APIError.badRequest("The owner's permissions cannot be changed.") }
            member.permissions = try parsePermissions(perms)
            member.updatedAt = Timestamp.now()
            try await s.store.updateMember(member)
            return .json(.ok, s.render.member(member, canManage: true))
        }
        r.add("delete-org-member") { req in
            let (o, m) = try await visible(req, s)
            guard m.has(.members) else { throw APIError.forbidden("Managing members requires the members permission.") }
            guard let member = try await s.store.member(organizationId: o.id, userId: req.param("user_id")) else {
                throw APIError.notFound("Member \(req.param("user_id"))")
            }
            if member.owner { throw APIError.badRequest("The organization owner cannot be removed.") }
            try await s.store.deleteMember(organizationId: o.id, userId: member.userId)
            return .empty(.noContent)
        }
    }

    /// Resolves `{organization_id}` (an id, or `name=<name>` as the CLI sends) and requires membership.
    static func visible(_ req: APIRequest, _ s: ServerContext) async throws -> (Organization, OrganizationMember) {
        let user = try req.requireUser()
        let ref = req.param("organization_id")
        let org: Organization?
        if ref.hasPrefix("name=") { org = try await s.store.organization(name: String(ref.dropFirst(5))) } else { org = try await s.store.organization(id: ref) }
        guard let org, let m = try await s.access.membership(user: user, organization: org) else { throw APIError.notFound("Organization \(ref)") }
        try await s.requireMFAIfEnforced(req, organizationId: org.id)
        return (org, m)
    }

    static func parsePermissions(_ perms: [String]) throws -> [OrganizationPermission] {
        try perms.map {
            guard let p = OrganizationPermission(rawValue: $0) else {
                throw APIError.badRequest("'\($0)' is not one of \(OrganizationPermission.allCases.map(\.rawValue).joined(separator: ", "))", field: "permissions")
            }
            return p
        }
    }

    static func validName(_ name: String) -> Bool {
        name.count <= 39 && name.range(of: "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", options: .regularExpression) != nil
    }

    static func slug(_ label: String) -> String {
        var out = ""
        for ch in label.lowercased() {
            if ch.isLetter && ch.isASCII || ch.isNumber && ch.isASCII { out.append(ch) } else if !out.hasSuffix("-") && !out.isEmpty { out.append("-") }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return String(out.prefix(39))
    }

    static func create(_ req: APIRequest, _ s: ServerContext) async throws -> APIResponse {
        let user = try req.requireUser()
        let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: ["name", "label", "country", "type", "owner_id"])
        let label = try b.string("label", nonEmpty: true, maxLength: 255)
        let name = try b.string("name", nonEmpty: true, maxLength: 39) ?? label.map(slug)
        guard let name, !name.isEmpty else { throw APIError.badRequest("is required (or give a label to derive it from)", field: "name") }
        guard validName(name) else { throw APIError.badRequest("must be lowercase letters, digits and '-', at most 39 characters", field: "name") }
        if let t = try b.string("type"), t != "fixed" && t != "flexible" { throw APIError.badRequest("must be fixed or flexible", field: "type") }
        if let owner = try b.string("owner_id"), owner != user.id { throw APIError.forbidden("An organization can only be created for yourself.") }
        let now = Timestamp.now()
        let org = Organization(id: Identifier.uuid(), name: name, label: label ?? name, ownerId: user.id, country: try b.string("country", maxLength: 2) ?? "", createdAt: now)
        let member = OrganizationMember(id: Identifier.uuid(), organizationId: org.id, userId: user.id, permissions: [.admin], owner: true, createdAt: now)
        do {
            try await s.store.transaction { tx in
                try await tx.insertOrganization(org)
                try await tx.insertMember(member)
            }
        } catch StoreError.conflict {
            throw APIError.conflict("An organization named \(name) already exists.")
        }
        return .json(.created, s.render.organization(org, member: member))
    }

    static func update(_ req: APIRequest, _ s: ServerContext) async throws -> APIResponse {
        var (o, m) = try await visible(req, s)
        guard m.has(.admin) else { throw APIError.forbidden("Updating an organization requires the admin permission.") }
        let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: ["name", "label", "country"])
        if let name = try b.string("name", nonEmpty: true, maxLength: 39) {
            guard validName(name) else { throw APIError.badRequest("must be lowercase letters, digits and '-', at most 39 characters", field: "name") }
            o.name = name
        }
        if let label = try b.string("label", nonEmpty: true, maxLength: 255) { o.label = label }
        if let c = try b.string("country", maxLength: 2) { o.country = c }
        o.updatedAt = Timestamp.now()
        do { try await s.store.updateOrganization(o) } catch StoreError.conflict { throw APIError.conflict("An organization named \(o.name) already exists.") }
        return .json(.ok, s.render.organization(o, member: m))
    }

    static func addMember(_ req: APIRequest, _ s: ServerContext) async throws -> APIResponse {
        let (o, m) = try await visible(req, s)
        guard m.has(.members) else { throw APIError.forbidden("Managing members requires the members permission.") }
        let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: ["user_id", "email", "permissions"])
        var target: User?
        if let id = try b.string("user_id", nonEmpty: true) { target = try await s.store.user(id: id) }
        else if let email = try b.string("email", nonEmpty: true) { target = try await s.store.user(email: email) }
        else { throw APIError.badRequest("is required", field: "user_id") }
        guard let target else { throw APIError.badRequest("no such user", field: b.has("user_id") ? "user_id" : "email") }
        let perms = try parsePermissions(try b.stringArray("permissions") ?? [])
        let member = OrganizationMember(id: Identifier.uuid(), organizationId: o.id, userId: target.id, permissions: perms, owner: false, createdAt: Timestamp.now())
        if target.id == o.ownerId { throw APIError.conflict("The user is already a member.") }
        do { try await s.store.insertMember(member) } catch StoreError.conflict { throw APIError.conflict("The user is already a member.") }
        return .json(.created, s.render.member(member, canManage: true))
    }
}
