import Foundation
import GroveModel
import GroveStore

/// `/projects/{project_id}/user-access` and `/users/{user_id}/project-access`: the same grants seen from the
/// project and from the user, as permission lists (centralized permissions).
enum UserAccessHandlers {
    static func register(_ r: inout Routes, _ s: ServerContext) {
        r.add("list-project-user-access") { req in
            let (p, l) = try await s.visibleProject(req, id: req.param("project_id"))
            let all = try await GrantEditor(s: s, project: p).entries()
            var body = try accountsCollection(all, request: req, base: s.publicURL, cursor: \.userId) { render(s, $0, p, canManage: l.permits(.administer), fromUser: false) }
            addUserRefs(&body, s, all.map(\.userId))
            return .json(.ok, body)
        }
        r.add("grant-project-user-access") { req in
            let (p, l) = try await s.visibleProject(req, id: req.param("project_id"))
            try s.requireProjectAdmin(l)
            let editor = GrantEditor(s: s, project: p)
            var changes: [(User, [String], Bool)] = []
            for item in try arrayBody(req) {
                let b = try BodyReader(item, allowed: ["user_id", "permissions", "auto_add_member"])
                guard let uid = try b.string("user_id", required: true, nonEmpty: true) else { throw APIError.badRequest("is required", field: "user_id") }
                guard let user = try await s.store.user(id: uid) else { throw APIError.notFound("User \(uid)") }
                if try await editor.entry(uid) != nil { throw APIError.conflict("User \(uid) already has access to project \(p.id); PATCH it instead.") }
                changes.append((user, try GrantEditor.permissions(item["permissions"]), try b.bool("auto_add_member") ?? false))
            }
            for (user, perms, addMember) in changes {
                try await editor.set(userId: user.id, permissions: perms)
                if addMember { try await ensureMember(s, organizationId: p.organizationId, userId: user.id) }
            }
            return .empty(.noContent)
        }
        r.add("get-project-user-access") { req in
            let (p, l) = try await s.visibleProject(req, id: req.param("project_id"))
            guard let g = try await GrantEditor(s: s, project: p).entry(req.param("user_id")) else { throw APIError.notFound("User access \(req.param("user_id"))") }
            return .json(.ok, render(s, g, p, canManage: l.permits(.administer), fromUser: false))
        }
        r.add("update-project-user-access") { req in
            let (p, l) = try await s.visibleProject(req, id: req.param("project_id"))
            try s.requireProjectAdmin(l)
            try await update(s, p, userId: req.param("user_id"), req)
            return .empty(.noContent)
        }
        r.add("remove-project-user-access") { req in
            let (p, l) = try await s.visibleProject(req, id: req.param("project_id"))
            try s.requireProjectAdmin(l)
            try await remove(s, p, userId: req.param("user_id"))
            return .empty(.noContent)
        }

        r.add("list-user-project-access") { req in
            let user = try await subject(req, s)
            let orgFilter = req.queryValue("filter[organization_id]")
            var items: [(ProjectGrant, Project)] = []
            for (p, _) in try await s.access.visibleProjects(user: user) where orgFilter == nil || p.organizationId == orgFilter {
                if let g = try await GrantEditor(s: s, project: p).entry(user.id) { items.append((g, p)) }
            }
            var body = try accountsCollection(items, request: req, base: s.publicURL, cursor: { $0.1.id }) { render(s, $0.0, $0.1, canManage: false, fromUser: true) }
            addUserRefs(&body, s, [user.id])
            return .json(.ok, body)
        }
        r.add("grant-user-project-access") { req in
            let caller = try req.requireUser()
            guard let user = try await s.store.user(id: req.param("user_id")) else { throw APIError.notFound("User \(req.param("user_id"))") }
            var changes: [(Project, [String])] = []
            for item in try arrayBody(req) {
                let b = try BodyReader(item, allowed: ["project_id", "permissions"])
                guard let pid = try b.string("project_id", required: true, nonEmpty: true) else { throw APIError.badRequest("is required", field: "project_id") }
                guard let p = try await s.store.project(id: pid) else { throw APIError.notFound("Project \(pid)") }
                let level = try await s.access.level(user: caller, project: p)
                guard level.permits(.view) else { throw APIError.notFound("Project \(pid)") }
                guard level.permits(.administer) else { throw APIError.forbidden("Granting access to \(pid) requires the admin role on it.") }
                if try await GrantEditor(s: s, project: p).entry(user.id) != nil { throw APIError.conflict("User \(user.id) already has access to project \(pid).") }
                changes.append((p, try GrantEditor.permissions(item["permissions"])))
            }
            for (p, perms) in changes { try await GrantEditor(s: s, project: p).set(userId: user.id, permissions: perms) }
            return .empty(.noContent)
        }
        r.add("get-user-project-access") { req in
            let (p, l, userId) = try await projectOfUser(req, s, admin: false)
            guard let g = try await GrantEditor(s: s, project: p).entry(userId) else { throw APIError.notFound("Project access \(p.id)") }
            return .json(.ok, render(s, g, p, canManage: l.permits(.administer), fromUser: true))
        }
        r.add("update-user-project-access") { req in
            let (p, _, userId) = try await projectOfUser(req, s, admin: true)
            try await update(s, p, userId: userId, req)
            return .empty(.noContent)
        }
        r.add("remove-user-project-access") { req in
            let (p, _, userId) = try await projectOfUser(req, s, admin: true)
            try await remove(s, p, userId: userId)
            return .empty(.noContent)
        }
    }

    static func arrayBody(_ req: APIRequest) throws -> [JSONObject] {
        let v: JSON
        do { v = try JSON.parse(req.body) } catch { throw APIError.badRequest("The body is not valid JSON: \(error)") }
        guard let list = v.arrayValue, !list.isEmpty else { throw APIError.badRequest("The body must be a non-empty JSON array.") }
        return try list.map {
            guard let o = $0.objectValue else { throw APIError.badRequest("Each item of the body must be an object.") }
            return o
        }
    }

    /// The user a `/users/{user_id}/…` path names: the caller (or `me`); others are not visible.
    static func subject(_ req: APIRequest, _ s: ServerContext) async throws -> User {
        let caller = try req.requireUser()
        let id = req.param("user_id")
        guard id == caller.id || id == "me" else { throw APIError.forbidden("You can only list your own project access.") }
        return caller
    }

    static func projectOfUser(_ req: APIRequest, _ s: ServerContext, admin: Bool) async throws -> (Project, ProjectAccessLevel, String) {
        let caller = try req.requireUser()
        let userId = req.param("user_id") == "me" ? caller.id : req.param("user_id")
        let (p, l) = try await s.visibleProject(req, id: req.param("project_id"))
        if admin || userId != caller.id { try s.requireProjectAdmin(l) }
        return (p, l, userId)
    }

    static func update(_ s: ServerContext, _ p: Project, userId: String, _ req: APIRequest) async throws {
        let editor = GrantEditor(s: s, project: p)
        guard try await editor.entry(userId) != nil else { throw APIError.notFound("User access \(userId)") }
        let o = try req.jsonObject(allowEmpty: false)
        _ = try BodyReader(o, allowed: ["permissions"])
        try await editor.set(userId: userId, permissions: try GrantEditor.permissions(o["permissions"]))
    }

    static func remove(_ s: ServerContext, _ p: Project, userId: String) async throws {
        let editor = GrantEditor(s: s, project: p)
        guard try await editor.entry(userId) != nil else { throw APIError.notFound("User access \(userId)") }
        try await editor.set(userId: userId, permissions: nil)
    }

    static func ensureMember(_ s: ServerContext, organizationId: String, userId: String) async throws {
        guard try await s.store.member(organizationId: organizationId, userId: userId) == nil else { return }
        guard let org = try await s.store.organization(id: organizationId), org.ownerId != userId else { return }
        try await s.store.insertMember(OrganizationMember(id: Identifier.uuid(), organizationId: organizationId, userId: userId, permissions: [],
                                                          owner: false, createdAt: Timestamp.now()))
    }

    static func render(_ s: ServerContext, _ g: ProjectGrant, _ p: Project, canManage: Bool, fromUser: Bool) -> JSON {
        let path = fromUser ? "/users/\(g.userId)/project-access/\(p.id)" : "/projects/\(p.id)/user-access/\(g.userId)"
        var links = JSONObject([("self", .object(JSONObject([("href", .string(HRef.make(base: s.publicURL, path: path)))])))])
        if canManage {
            links["update"] = .object(JSONObject([("href", .string(HRef.make(base: s.publicURL, path: path))), ("method", "PATCH")]))
            links["delete"] = .object(JSONObject([("href", .string(HRef.make(base: s.publicURL, path: path))), ("method", "DELETE")]))
        }
        return .object(JSONObject([
            ("user_id", .string(g.userId)), ("organization_id", .string(p.organizationId)), ("project_id", .string(p.id)),
            ("project_title", .string(p.title)), ("permissions", JSON(g.permissions)), ("granted_at", .string(g.grantedAt)),
            ("updated_at", .string(g.updatedAt)), ("_links", .object(links)),
        ]))
    }

    static func addUserRefs(_ body: inout JSON, _ s: ServerContext, _ ids: [String]) {
        guard case .object(var o) = body, case .object(var links)? = o["_links"] else { return }
        let unique = Array(Set(ids)).sorted()
        if !unique.isEmpty { links["ref:users:0"] = .object(JSONObject([("href", .string("/ref/users?in=" + unique.joined(separator: ",")))])) }
        o["_links"] = .object(links)
        body = .object(o)
    }
}
