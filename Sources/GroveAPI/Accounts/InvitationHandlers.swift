import Foundation
import GroveModel
import GroveStore
import HTTPTypes

/// Invitations by email to an organization or a project. An existing user is granted at once (and told by mail);
/// anyone else gets a link with a one-time token: `GET /invitations/{token}` shows it, `POST …/accept` (with a
/// password for a new account) joins. Links expire after `--invitation-ttl`.
enum InvitationHandlers {
    static func register(_ r: inout Routes, _ s: ServerContext) {
        r.add("list-project-invites") { req in
            let (p, l) = try await s.visibleProject(req, id: req.param("project_id"))
            try s.requireProjectAdmin(l)
            return .json(.ok, .array(try await list(s, req, parent: "project:" + p.id).map { render(s, $0) }))
        }
        r.add("create-project-invite") { req in
            let user = try req.requireUser()
            let (p, l) = try await s.visibleProject(req, id: req.param("project_id"))
            try s.requireProjectAdmin(l)
            let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: ["email", "role", "permissions", "environments", "force"])
            let email = try address(b)
            var permissions: [String]
            if b.has("permissions") {
                // A project role beside per-type roles (the official CLI's `-r viewer -r development:contributor`).
                let role = try b.enumValue("role", ProjectRole.self)
                permissions = (role.map { [$0.rawValue] } ?? []) + (try GrantEditor.permissions(b.object["permissions"]))
                permissions = try GrantEditor.permissions(JSON(permissions))
            } else {
                let role = try b.enumValue("role", ProjectRole.self) ?? .viewer
                permissions = [role.rawValue]
                // Deprecated per-environment roles become roles on the environments' types.
                for item in b.object["environments"]?.arrayValue ?? [] {
                    guard let id = item["id"]?.stringValue, let r = item["role"]?.stringValue.flatMap(EnvironmentRole.init(rawValue:)) else {
                        throw APIError.badRequest("each item needs an id and a role (admin, contributor, viewer)", field: "environments")
                    }
                    guard let e = try await s.store.environment(projectId: p.id, id: id) else { throw APIError.badRequest("no environment \(id)", field: "environments") }
                    permissions.append("\(e.type.rawValue):\(r.rawValue)")
                }
                permissions = try GrantEditor.permissions(JSON(permissions))
            }
            if let existing = try await s.store.user(email: email) {
                if try await GrantEditor(s: s, project: p).entry(existing.id) != nil {
                    throw APIError.conflict("\(email) already has access to project \(p.id); change it with PATCH /projects/\(p.id)/user-access/\(existing.id).")
                }
            }
            let inv = try await create(s, req, b, target: .project, targetId: p.id, email: email, permissions: permissions, owner: user,
                                       what: "the project \(p.title)")
            return .json(.created, render(s, inv))
        }
        r.add("cancel-project-invite") { req in
            let (p, l) = try await s.visibleProject(req, id: req.param("project_id"))
            try s.requireProjectAdmin(l)
            try await cancel(s, id: req.param("invitation_id"), parent: "project:" + p.id)
            return .empty(.noContent)
        }

        r.add("list-org-invites") { req in
            let (o, m) = try await OrganizationHandlers.visible(req, s)
            try requireMembers(m)
            return .json(.ok, .array(try await list(s, req, parent: "organization:" + o.id).map { render(s, $0) }))
        }
        r.add("create-org-invite") { req in
            let user = try req.requireUser()
            let (o, m) = try await OrganizationHandlers.visible(req, s)
            try requireMembers(m)
            let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: ["email", "permissions", "force"])
            let email = try address(b)
            let perms = try OrganizationHandlers.parsePermissions(try b.stringArray("permissions") ?? []).map(\.rawValue)
            if let existing = try await s.store.user(email: email), try await s.store.member(organizationId: o.id, userId: existing.id) != nil || o.ownerId == existing.id {
                throw APIError.conflict("\(email) is already a member of \(o.label).")
            }
            let inv = try await create(s, req, b, target: .organization, targetId: o.id, email: email, permissions: perms, owner: user,
                                       what: "the organization \(o.label)")
            return .json(.created, render(s, inv))
        }
        r.add("cancel-org-invite") { req in
            let (o, m) = try await OrganizationHandlers.visible(req, s)
            try requireMembers(m)
            try await cancel(s, id: req.param("invitation_id"), parent: "organization:" + o.id)
            return .empty(.noContent)
        }

        // The link in the mail: no bearer token, the link's secret is the credential.
        r.add("get-invitation-by-token") { req in
            let inv = try await pending(s, token: req.param("token"))
            return .json(.ok, render(s, inv))
        }
        r.add("accept-invitation") { req in
            var inv = try await pending(s, token: req.param("token"))
            let b = try BodyReader(try req.jsonObject(), allowed: ["password", "username", "first_name", "last_name"])
            var user = try await s.store.user(email: inv.email)
            if user == nil {
                guard let password = try b.string("password", required: true, nonEmpty: true, maxLength: 1024), password.count >= 8 else {
                    throw APIError.badRequest("is required to create your account (at least 8 characters)", field: "password")
                }
                do {
                    var u = try await Bootstrap.createUser(store: s.store, email: inv.email, username: try b.string("username", nonEmpty: true), password: password)
                    u.firstName = try b.string("first_name") ?? ""
                    u.lastName = try b.string("last_name") ?? ""
                    u.emailVerified = true
                    try await s.store.updateUser(u)
                    user = u
                } catch let e as BootstrapError {
                    throw APIError.badRequest("\(e)", field: "username")
                }
            }
            guard let user else { throw APIError.notFound("User") }
            try await apply(s, inv, to: user)
            inv.state = .accepted
            inv.finishedAt = Timestamp.now()
            inv.updatedAt = inv.finishedAt ?? inv.updatedAt
            try await s.store.put(inv)
            return .json(.ok, .object(JSONObject([("invitation", render(s, inv)), ("user_id", .string(user.id)), ("email", .string(user.email))])))
        }
    }

    static func requireMembers(_ m: OrganizationMember) throws {
        guard m.owner || m.permissions.contains(.admin) || m.permissions.contains(.members) else {
            throw APIError.forbidden("Inviting requires the members permission on the organization.")
        }
    }

    static func address(_ b: BodyReader) throws -> String {
        guard let email = try b.string("email", required: true, nonEmpty: true, maxLength: 254)?.trimmingCharacters(in: .whitespaces),
              email.range(of: "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", options: .regularExpression) != nil else {
            throw APIError.badRequest("must be an email address", field: "email")
        }
        return email.lowercased()
    }

    static func list(_ s: ServerContext, _ req: APIRequest, parent: String) async throws -> [Invitation] {
        var all = try await s.store.list(Invitation.self, parent: parent)
        let states = req.queryValues("filter[state]")
        if !states.isEmpty { all = all.filter { states.contains(effectiveState($0)) } }
        return all
    }

    /// `pending` invitations past their expiry read as `expired`.
    static func effectiveState(_ inv: Invitation) -> String {
        if inv.state == .pending, let exp = Timestamp.parse(inv.expiresAt), exp < Date() { return "expired" }
        return inv.state.rawValue
    }

    static func create(_ s: ServerContext, _ req: APIRequest, _ b: BodyReader, target: Invitation.Target, targetId: String, email: String,
                       permissions: [String], owner: User, what: String) async throws -> Invitation {
        let parent = target.rawValue + ":" + targetId
        let open = try await s.store.list(Invitation.self, parent: parent).filter { $0.email == email && effectiveState($0) == "pending" }
        if !open.isEmpty {
            guard try b.bool("force") == true else { throw APIError.conflict("\(email) already has a pending invitation to \(what); send force: true to replace it.") }
            for var o in open {
                o.state = .cancelled; o.finishedAt = Timestamp.now(); o.updatedAt = o.finishedAt ?? o.updatedAt
                try await s.store.put(o)
            }
        }
        let token = Identifier.secret()
        let now = Date()
        var inv = Invitation(id: Identifier.uuid(), target: target, targetId: targetId, email: email, permissions: permissions, ownerId: owner.id,
                             tokenHash: Credentials.sha256Hex(token), createdAt: Timestamp.format(now),
                             expiresAt: Timestamp.format(now.addingTimeInterval(s.invitationLifetime)))
        if let existing = try await s.store.user(email: email) {
            // Someone with an account is granted at once; the mail only tells them.
            try await apply(s, inv, to: existing)
            inv.state = .accepted
            inv.finishedAt = inv.createdAt
            try await s.store.insert(inv)
            await s.mailer.send(to: email, subject: "You were added to \(what)",
                                body: "\(owner.displayName) gave you access to \(what) on Grove (\(s.publicURL)).\n")
            return inv
        }
        try await s.store.insert(inv)
        let link = s.publicURL + "/invitations/" + token
        await s.mailer.send(to: email, subject: "Invitation to \(what)",
                            body: "\(owner.displayName) invites you to \(what) on Grove.\n\nAccept within \(Int(s.invitationLifetime / 3600)) hours:\n"
                                + "  curl -X POST \(link)/accept -H 'Content-Type: application/json' -d '{\"password\": \"...\"}'\n\nInvitation link: \(link)\n")
        return inv
    }

    /// Grants what the invitation promised.
    static func apply(_ s: ServerContext, _ inv: Invitation, to user: User) async throws {
        switch inv.target {
        case .project:
            guard let p = try await s.store.project(id: inv.targetId) else { throw APIError.notFound("Project \(inv.targetId)") }
            try await GrantEditor(s: s, project: p).set(userId: user.id, permissions: inv.permissions)
            try await UserAccessHandlers.ensureMember(s, organizationId: p.organizationId, userId: user.id)
        case .organization:
            let perms = inv.permissions.compactMap(OrganizationPermission.init(rawValue:))
            if var m = try await s.store.member(organizationId: inv.targetId, userId: user.id) {
                m.permissions = Array(Set(m.permissions + perms)).sorted { $0.rawValue < $1.rawValue }
                try await s.store.updateMember(m)
            } else {
                try await s.store.insertMember(OrganizationMember(id: Identifier.uuid(), organizationId: inv.targetId, userId: user.id, permissions: perms,
                                                                  owner: false, createdAt: Timestamp.now()))
            }
        }
    }

    static func pending(_ s: ServerContext, token: String) async throws -> Invitation {
        guard let inv = try await s.store.list(Invitation.self, ref: Credentials.sha256Hex(token)).first else { throw APIError.notFound("Invitation") }
        switch effectiveState(inv) {
        case "pending": return inv
        case "expired": throw APIError(.gone, "This invitation expired at \(inv.expiresAt); ask for a new one.")
        default: throw APIError(.gone, "This invitation was already \(inv.state.rawValue).")
        }
    }

    static func cancel(_ s: ServerContext, id: String, parent: String) async throws {
        guard var inv = try await s.store.get(Invitation.self, id: id), inv.documentParent == parent else { throw APIError.notFound("Invitation \(id)") }
        guard inv.state == .pending else { throw APIError.badRequest("The invitation is \(effectiveState(inv)), not pending.") }
        inv.state = .cancelled
        inv.finishedAt = Timestamp.now()
        inv.updatedAt = inv.finishedAt ?? inv.updatedAt
        try await s.store.put(inv)
    }

    static func render(_ s: ServerContext, _ inv: Invitation) -> JSON {
        var o = JSONObject([("id", .string(inv.id)), ("state", .string(effectiveState(inv)))])
        switch inv.target {
        case .organization:
            o["organization_id"] = .string(inv.targetId)
            o["permissions"] = JSON(inv.permissions)
        case .project:
            o["project_id"] = .string(inv.targetId)
            let level = (try? ProjectAccessLevel.parse(permissions: inv.permissions).get()) ?? .none
            o["role"] = .string((level.projectRole ?? .viewer).rawValue)
            o["permissions"] = JSON(inv.permissions)
            o["environments"] = .array([])
        }
        o["email"] = .string(inv.email)
        o["owner"] = .object(JSONObject([("id", .string(inv.ownerId))]))
        o["created_at"] = .string(inv.createdAt)
        o["updated_at"] = .string(inv.updatedAt)
        o["finished_at"] = JSON(inv.finishedAt)
        o["expires_at"] = .string(inv.expiresAt)
        return .object(o)
    }
}
