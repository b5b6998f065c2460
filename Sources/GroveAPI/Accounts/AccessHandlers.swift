import Foundation
import GroveModel
import GroveStore

/// The views of project grants: the project ACL (`/access`, roles admin/viewer), environment-type ACLs and their
/// deprecated per-environment alias, and the user-access / project-access pairs (permission lists).
/// All read and write the same grants through `GrantEditor`.
enum AccessHandlers {
    static func register(_ r: inout Routes, _ s: ServerContext) {
        // Project ACL.
        r.add("list-projects-access") { req in
            let (p, l) = try req.project()
            var out: [JSON] = []
            let grants = try await GrantEditor(s: s, project: p).entries()
            let users = try await s.store.users(ids: grants.map(\.userId))
            for g in grants {
                guard let level = try? ProjectAccessLevel.parse(permissions: g.permissions).get(), let role = level.projectRole else { continue }
                out.append(projectEntry(s, p, userId: g.userId, email: users[g.userId]?.email, role: role, canManage: l.permits(.administer)))
            }
            return .json(.ok, .array(out))
        }
        r.add("create-projects-access") { req in
            let (p, l) = try req.project()
            try s.requireProjectAdmin(l)
            let body = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: ["user", "email", "role"])
            guard let role = try body.enumValue("role", ProjectRole.self) else { throw APIError.badRequest("is required: admin or viewer", field: "role") }
            let editor = GrantEditor(s: s, project: p)
            let user = try await editor.user(in: body.object)
            if try await s.store.grant(projectId: p.id, userId: user.id) != nil {
                throw APIError.conflict("\(user.email) is already on the project's access list; PATCH /projects/\(p.id)/access/\(user.id) to change the role.")
            }
            try await editor.set(userId: user.id, permissions: ProjectAccessLevel.none.withProjectRole(role))
            return .json(.created, resultEnvelope(projectEntry(s, p, userId: user.id, email: user.email, role: role, canManage: true), activities: [], code: 201))
        }
        r.add("get-projects-access") { req in
            let (p, l) = try req.project()
            let (_, level) = try await grantEntry(s, p, req.param("projectAccessId"))
            guard let role = level.projectRole else { throw APIError.notFound("Access \(req.param("projectAccessId"))") }
            let id = req.param("projectAccessId")
            return .json(.ok, projectEntry(s, p, userId: id, email: try await s.store.user(id: id)?.email, role: role, canManage: l.permits(.administer)))
        }
        r.add("update-projects-access") { req in
            let (p, l) = try req.project()
            try s.requireProjectAdmin(l)
            let id = req.param("projectAccessId")
            let (_, level) = try await grantEntry(s, p, id)
            let body = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: ["role"])
            guard let role = try body.enumValue("role", ProjectRole.self) else { throw APIError.badRequest("is required: admin or viewer", field: "role") }
            try await GrantEditor(s: s, project: p).set(userId: id, permissions: level.withProjectRole(role))
            return .json(.ok, resultEnvelope(projectEntry(s, p, userId: id, email: try await s.store.user(id: id)?.email, role: role, canManage: true), activities: []))
        }
        r.add("delete-projects-access") { req in
            let (p, l) = try req.project()
            try s.requireProjectAdmin(l)
            let id = req.param("projectAccessId")
            _ = try await grantEntry(s, p, id)
            try await GrantEditor(s: s, project: p).set(userId: id, permissions: nil)
            return .json(.ok, resultEnvelope(nil, activities: []))
        }

        // Environment-type ACLs, and the deprecated environment ACLs that act on the environment's type.
        for (scope, entryId, resolve) in [("projects-environment-types-access", "environmentTypeAccessId", typeFromPath),
                                          ("projects-environments-access", "environmentAccessId", typeOfEnvironment)] {
            r.add("list-\(scope)") { req in
                let (p, l) = try req.project()
                let type = try await resolve(req, s, p, l)
                var out: [JSON] = []
                let grants = try await s.store.grants(projectId: p.id)
                let users = try await s.store.users(ids: grants.map(\.userId))
                for g in grants {
                    guard let level = try? ProjectAccessLevel.parse(permissions: g.permissions).get(), let role = level.environmentTypeRoles[type] else { continue }
                    out.append(typeEntry(s, p, type, userId: g.userId, email: users[g.userId]?.email, role: role, canManage: l.permits(.administer)))
                }
                return .json(.ok, .array(out))
            }
            r.add("create-\(scope)") { req in
                let (p, l) = try req.project()
                let type = try await resolve(req, s, p, l)
                try s.requireProjectAdmin(l)
                let body = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: ["user", "email", "role"])
                guard let role = try body.enumValue("role", EnvironmentRole.self) else { throw APIError.badRequest("is required: admin, contributor or viewer", field: "role") }
                let editor = GrantEditor(s: s, project: p)
                let user = try await editor.user(in: body.object)
                let (_, level) = try await grantEntry(s, p, user.id, required: false)
                if level.environmentTypeRoles[type] != nil {
                    throw APIError.conflict("\(user.email) already has a role on \(type.rawValue) environments; PATCH it instead.")
                }
                try await editor.set(userId: user.id, permissions: level.withRole(role, on: type))
                return .json(.created, resultEnvelope(typeEntry(s, p, type, userId: user.id, email: user.email, role: role, canManage: true), activities: [], code: 201))
            }
            r.add("get-\(scope)") { req in
                let e = try await typeGrant(req, s, entryId, resolve, manage: false)
                return .json(.ok, typeEntry(s, e.project, e.type, userId: e.userId, email: try await s.store.user(id: e.userId)?.email, role: e.role, canManage: e.canManage))
            }
            r.add("update-\(scope)") { req in
                let e = try await typeGrant(req, s, entryId, resolve, manage: true)
                let body = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: ["role"])
                guard let role = try body.enumValue("role", EnvironmentRole.self) else { throw APIError.badRequest("is required: admin, contributor or viewer", field: "role") }
                try await GrantEditor(s: s, project: e.project).set(userId: e.userId, permissions: e.level.withRole(role, on: e.type))
                return .json(.ok, resultEnvelope(typeEntry(s, e.project, e.type, userId: e.userId, email: try await s.store.user(id: e.userId)?.email, role: role, canManage: true), activities: []))
            }
            r.add("delete-\(scope)") { req in
                let e = try await typeGrant(req, s, entryId, resolve, manage: true)
                try await GrantEditor(s: s, project: e.project).set(userId: e.userId, permissions: e.level.withRole(nil, on: e.type))
                return .json(.ok, resultEnvelope(nil, activities: []))
            }
        }

        UserAccessHandlers.register(&r, s)
    }

    typealias TypeResolver = @Sendable (APIRequest, ServerContext, Project, ProjectAccessLevel) async throws -> EnvironmentType

    /// One environment-type ACL entry addressed by the path: the project, the type, the user and their role on it
    /// (404 when they have none); `manage` requires the project admin role.
    static func typeGrant(_ req: APIRequest, _ s: ServerContext, _ entryId: String, _ resolve: TypeResolver, manage: Bool) async throws
        -> (project: Project, type: EnvironmentType, userId: String, level: ProjectAccessLevel, role: EnvironmentRole, canManage: Bool)
    {
        let (p, l) = try req.project()
        let type = try await resolve(req, s, p, l)
        if manage { try s.requireProjectAdmin(l) }
        let id = req.param(entryId)
        let (_, level) = try await grantEntry(s, p, id)
        guard let role = level.environmentTypeRoles[type] else { throw APIError.notFound("Access \(id)") }
        return (p, type, id, level, role, l.permits(.administer))
    }

    static func typeFromPath(_ req: APIRequest, _ s: ServerContext, _ p: Project, _ l: ProjectAccessLevel) async throws -> EnvironmentType {
        guard let t = EnvironmentType(rawValue: req.param("environmentTypeId")) else { throw APIError.notFound("Environment type \(req.param("environmentTypeId"))") }
        return t
    }

    static func typeOfEnvironment(_ req: APIRequest, _ s: ServerContext, _ p: Project, _ l: ProjectAccessLevel) async throws -> EnvironmentType {
        try req.environment().type
    }

    /// The user's direct grant and what it allows; 404 when there is none (unless not `required`).
    static func grantEntry(_ s: ServerContext, _ p: Project, _ userId: String, required: Bool = true) async throws -> (ProjectGrant?, ProjectAccessLevel) {
        guard let g = try await GrantEditor(s: s, project: p).entry(userId) else {
            if required { throw APIError.notFound("Access \(userId)") }
            return (nil, .none)
        }
        return (g, (try? ProjectAccessLevel.parse(permissions: g.permissions).get()) ?? .none)
    }

    static func projectEntry(_ s: ServerContext, _ p: Project, userId: String, email: String?, role: ProjectRole, canManage: Bool) -> JSON {
        entry(s, path: "/projects/\(p.id)/access/\(userId)", userId: userId, email: email, role: role.rawValue, canManage: canManage)
    }

    static func typeEntry(_ s: ServerContext, _ p: Project, _ type: EnvironmentType, userId: String, email: String?, role: EnvironmentRole,
                          canManage: Bool) -> JSON {
        entry(s, path: "/projects/\(p.id)/environment-types/\(type.rawValue)/access/\(userId)", userId: userId, email: email,
              role: role.rawValue, canManage: canManage, extra: [("environment_type", .string(type.rawValue))])
    }

    /// An ACL entry: `{id, user, email, role, ...extra, _links}` with edit/delete links for those who may manage it.
    static func entry(_ s: ServerContext, path: String, userId: String, email: String?, role: String, canManage: Bool, extra: [(String, JSON)] = []) -> JSON {
        var l = Links(base: s.publicURL)
        l.add("self", path)
        if canManage {
            l.add("#edit", path, method: "patch")
            l.add("#delete", path, method: "delete")
        }
        return .object(JSONObject([("id", .string(userId)), ("user", .string(userId)), ("email", JSON(email)), ("role", .string(role))] + extra + [("_links", l.json)]))
    }
}
