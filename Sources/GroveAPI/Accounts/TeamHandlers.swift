import Foundation
import GroveModel
import GroveStore

/// Teams of an organization, their members, and their access to projects (both ways). A member's effective
/// access to a project is the union of their own grant and the project permissions of their teams with access.
enum TeamHandlers {
    static func register(_ r: inout Routes, _ s: ServerContext) {
        r.add("list-teams") { req in
            let user = try req.requireUser()
            var orgs = try await s.access.organizations(user: user)
            if let f = req.queryValue("filter[organization_id]") { orgs = orgs.filter { $0.id == f } }
            var teams: [Team] = []
            for o in orgs { teams += try await s.store.list(Team.self, parent: o.id) }
            return .json(.ok, try await collection(s, req, teams))
        }
        r.add("create-team") { req in
            let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: ["organization_id", "label", "project_permissions"])
            guard let orgId = try b.string("organization_id", required: true, nonEmpty: true) else { throw APIError.badRequest("is required", field: "organization_id") }
            let org = try await manageable(req, s, organizationId: orgId)
            guard let label = try b.string("label", required: true, nonEmpty: true, maxLength: 200) else { throw APIError.badRequest("is required", field: "label") }
            let perms = try b.has("project_permissions") ? GrantEditor.permissions(b.object["project_permissions"], field: "project_permissions") : ["viewer"]
            let team = Team(id: Identifier.lowercaseAlphanumeric(26), organizationId: org.id, label: label, projectPermissions: perms, createdAt: Timestamp.now())
            try await s.store.insert(team)
            return .json(.created, try await render(s, team))
        }
        r.add("get-team") { req in .json(.ok, try await render(s, try await visible(req, s))) }
        r.add("update-team") { req in
            var team = try await visible(req, s)
            _ = try await manageable(req, s, organizationId: team.organizationId)
            let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: ["label", "project_permissions"])
            if let label = try b.string("label", nonEmpty: true, maxLength: 200) { team.label = label }
            if b.has("project_permissions") { team.projectPermissions = try GrantEditor.permissions(b.object["project_permissions"], field: "project_permissions") }
            team.updatedAt = Timestamp.now()
            try await s.store.put(team)
            return .json(.ok, try await render(s, team))
        }
        r.add("delete-team") { req in
            let team = try await visible(req, s)
            _ = try await manageable(req, s, organizationId: team.organizationId)
            for m in try await s.store.list(TeamMember.self, parent: team.id) { try await s.store.delete(TeamMember.self, id: m.documentId) }
            for a in try await s.store.list(TeamProjectAccess.self, parent: team.id) { try await s.store.delete(TeamProjectAccess.self, id: a.documentId) }
            try await s.store.delete(Team.self, id: team.id)
            return .empty(.noContent)
        }

        r.add("list-team-members") { req in
            let team = try await visible(req, s)
            let members = try await s.store.list(TeamMember.self, parent: team.id)
            var body = try accountsCollection(members, request: req, base: s.publicURL, cursor: \.userId) { renderMember(s, $0) }
            UserAccessHandlers.addUserRefs(&body, s, members.map(\.userId))
            return .json(.ok, body)
        }
        r.add("create-team-member") { req in
            let team = try await visible(req, s)
            _ = try await manageable(req, s, organizationId: team.organizationId)
            let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: ["user_id"])
            guard let uid = try b.string("user_id", required: true, nonEmpty: true) else { throw APIError.badRequest("is required", field: "user_id") }
            guard try await s.store.user(id: uid) != nil else { throw APIError.notFound("User \(uid)") }
            if try await s.store.get(TeamMember.self, id: team.id + "/" + uid) != nil { throw APIError.conflict("User \(uid) is already a member of team \(team.label).") }
            try await UserAccessHandlers.ensureMember(s, organizationId: team.organizationId, userId: uid)
            let m = TeamMember(teamId: team.id, userId: uid, createdAt: Timestamp.now())
            try await s.store.insert(m)
            return .json(.created, renderMember(s, m))
        }
        r.add("get-team-member") { req in
            let team = try await visible(req, s)
            guard let m = try await s.store.get(TeamMember.self, id: team.id + "/" + req.param("user_id")) else { throw APIError.notFound("Team member \(req.param("user_id"))") }
            return .json(.ok, renderMember(s, m))
        }
        r.add("delete-team-member") { req in
            let team = try await visible(req, s)
            _ = try await manageable(req, s, organizationId: team.organizationId)
            let id = team.id + "/" + req.param("user_id")
            guard try await s.store.get(TeamMember.self, id: id) != nil else { throw APIError.notFound("Team member \(req.param("user_id"))") }
            try await s.store.delete(TeamMember.self, id: id)
            return .empty(.noContent)
        }
        r.add("list-user-teams") { req in
            let user = try await UserAccessHandlers.subject(req, s)
            var teams: [Team] = []
            for m in try await s.store.list(TeamMember.self, ref: user.id) {
                if let t = try await s.store.get(Team.self, id: m.teamId), req.queryValue("filter[organization_id]").map({ $0 == t.organizationId }) ?? true { teams.append(t) }
            }
            return .json(.ok, try await collection(s, req, teams))
        }
        r.add("list-referenced-teams") { req in
            let user = try req.requireUser()
            let orgIds = Set(try await s.access.organizations(user: user).map(\.id))
            var out = JSONObject()
            for id in req.queryValues("in") {
                if let t = try await s.store.get(Team.self, id: id), orgIds.contains(t.organizationId) { out[id] = try await render(s, t, links: false) } else { out[id] = .null }
            }
            return .json(.ok, .object(out))
        }

        // Team access to projects, from the project's side and from the team's.
        r.add("list-project-team-access") { req in
            let (p, l) = try await s.visibleProject(req, id: req.param("project_id"))
            let all = try await s.store.list(TeamProjectAccess.self, ref: p.id)
            return .json(.ok, try accountsCollection(all, request: req, base: s.publicURL, cursor: \.teamId) { renderAccess(s, $0, p, canManage: l.permits(.administer), fromTeam: false) })
        }
        r.add("grant-project-team-access") { req in
            let (p, l) = try await s.visibleProject(req, id: req.param("project_id"))
            try s.requireProjectAdmin(l)
            var teams: [Team] = []
            for item in try UserAccessHandlers.arrayBody(req) {
                let b = try BodyReader(item, allowed: ["team_id"])
                guard let tid = try b.string("team_id", required: true, nonEmpty: true) else { throw APIError.badRequest("is required", field: "team_id") }
                guard let t = try await s.store.get(Team.self, id: tid), t.organizationId == p.organizationId else {
                    throw APIError.notFound("Team \(tid) in the project's organization")
                }
                if try await s.store.get(TeamProjectAccess.self, id: t.id + "/" + p.id) != nil { throw APIError.conflict("Team \(t.label) already has access to \(p.id).") }
                teams.append(t)
            }
            for t in teams { try await s.store.insert(TeamProjectAccess(teamId: t.id, projectId: p.id, createdAt: Timestamp.now())) }
            return .empty(.noContent)
        }
        r.add("get-project-team-access") { req in
            let (p, l) = try await s.visibleProject(req, id: req.param("project_id"))
            guard let a = try await s.store.get(TeamProjectAccess.self, id: req.param("team_id") + "/" + p.id) else { throw APIError.notFound("Team access \(req.param("team_id"))") }
            return .json(.ok, renderAccess(s, a, p, canManage: l.permits(.administer), fromTeam: false))
        }
        r.add("remove-project-team-access") { req in
            let (p, l) = try await s.visibleProject(req, id: req.param("project_id"))
            try s.requireProjectAdmin(l)
            let id = req.param("team_id") + "/" + p.id
            guard try await s.store.get(TeamProjectAccess.self, id: id) != nil else { throw APIError.notFound("Team access \(req.param("team_id"))") }
            try await s.store.delete(TeamProjectAccess.self, id: id)
            return .empty(.noContent)
        }
        r.add("list-team-project-access") { req in
            let team = try await visible(req, s)
            var items: [(TeamProjectAccess, Project)] = []
            for a in try await s.store.list(TeamProjectAccess.self, parent: team.id) {
                if let p = try await s.store.project(id: a.projectId) { items.append((a, p)) }
            }
            return .json(.ok, try accountsCollection(items, request: req, base: s.publicURL, cursor: { $0.1.id }) { renderAccess(s, $0.0, $0.1, canManage: false, fromTeam: true) })
        }
        r.add("grant-team-project-access") { req in
            let team = try await visible(req, s)
            let user = try req.requireUser()
            var projects: [Project] = []
            for item in try UserAccessHandlers.arrayBody(req) {
                let b = try BodyReader(item, allowed: ["project_id"])
                guard let pid = try b.string("project_id", required: true, nonEmpty: true) else { throw APIError.badRequest("is required", field: "project_id") }
                guard let p = try await s.store.project(id: pid), try await s.access.level(user: user, project: p).permits(.view) else { throw APIError.notFound("Project \(pid)") }
                guard p.organizationId == team.organizationId else { throw APIError.badRequest("Project \(pid) belongs to another organization than team \(team.label).") }
                guard try await s.access.level(user: user, project: p).permits(.administer) else { throw APIError.forbidden("Granting access to \(pid) requires the admin role on it.") }
                if try await s.store.get(TeamProjectAccess.self, id: team.id + "/" + p.id) != nil { throw APIError.conflict("Team \(team.label) already has access to \(pid).") }
                projects.append(p)
            }
            for p in projects { try await s.store.insert(TeamProjectAccess(teamId: team.id, projectId: p.id, createdAt: Timestamp.now())) }
            return .empty(.noContent)
        }
        r.add("get-team-project-access") { req in
            let team = try await visible(req, s)
            guard let a = try await s.store.get(TeamProjectAccess.self, id: team.id + "/" + req.param("project_id")),
                  let p = try await s.store.project(id: a.projectId) else { throw APIError.notFound("Project access \(req.param("project_id"))") }
            return .json(.ok, renderAccess(s, a, p, canManage: false, fromTeam: true))
        }
        r.add("remove-team-project-access") { req in
            let team = try await visible(req, s)
            let (p, l) = try await s.visibleProject(req, id: req.param("project_id"))
            try s.requireProjectAdmin(l)
            let id = team.id + "/" + p.id
            guard try await s.store.get(TeamProjectAccess.self, id: id) != nil else { throw APIError.notFound("Project access \(p.id)") }
            try await s.store.delete(TeamProjectAccess.self, id: id)
            return .empty(.noContent)
        }
    }

    /// The team, when the caller belongs to its organization; 404 otherwise.
    static func visible(_ req: APIRequest, _ s: ServerContext) async throws -> Team {
        let user = try req.requireUser()
        guard let t = try await s.store.get(Team.self, id: req.param("team_id")),
              let o = try await s.store.organization(id: t.organizationId),
              try await s.access.membership(user: user, organization: o) != nil else { throw APIError.notFound("Team \(req.param("team_id"))") }
        try await s.requireMFAIfEnforced(req, organizationId: o.id)
        return t
    }

    /// The organization, when the caller may manage its members (owner, admin or `members` permission).
    static func manageable(_ req: APIRequest, _ s: ServerContext, organizationId: String) async throws -> Organization {
        let user = try req.requireUser()
        guard let o = try await s.store.organization(id: organizationId), let m = try await s.access.membership(user: user, organization: o) else {
            throw APIError.notFound("Organization \(organizationId)")
        }
        try await s.requireMFAIfEnforced(req, organizationId: o.id)
        guard m.owner || m.permissions.contains(.admin) || m.permissions.contains(.members) else {
            throw APIError.forbidden("Managing teams requires the members permission on the organization.")
        }
        return o
    }

    static func collection(_ s: ServerContext, _ req: APIRequest, _ teams: [Team]) async throws -> JSON {
        var rendered: [String: JSON] = [:]
        for t in teams { rendered[t.id] = try await render(s, t) }
        var body = try accountsCollection(teams, request: req, base: s.publicURL, cursor: \.id) { rendered[$0.id] ?? .null }
        if case .object(var o) = body { o["count"] = .int(Int64(teams.count)); body = .object(o) }
        return body
    }

    static func render(_ s: ServerContext, _ t: Team, links: Bool = true) async throws -> JSON {
        let members = try await s.store.list(TeamMember.self, parent: t.id).count
        let projects = try await s.store.list(TeamProjectAccess.self, parent: t.id).count
        var o = JSONObject([("id", .string(t.id)), ("organization_id", .string(t.organizationId)), ("label", .string(t.label)),
                            ("project_permissions", JSON(t.projectPermissions)),
                            ("counts", .object(JSONObject([("member_count", .int(Int64(members))), ("project_count", .int(Int64(projects)))]))),
                            ("created_at", .string(t.createdAt)), ("updated_at", .string(t.updatedAt))])
        if links {
            var l = Links(base: s.publicURL)
            l.add("self", "/teams/\(t.id)")
            l.add("members", "/teams/\(t.id)/members")
            l.add("project-access", "/teams/\(t.id)/project-access")
            o["_links"] = l.json
        }
        return .object(o)
    }

    static func renderMember(_ s: ServerContext, _ m: TeamMember) -> JSON {
        var l = Links(base: s.publicURL)
        l.add("self", "/teams/\(m.teamId)/members/\(m.userId)")
        return .object(JSONObject([("team_id", .string(m.teamId)), ("user_id", .string(m.userId)), ("created_at", .string(m.createdAt)),
                                   ("updated_at", .string(m.updatedAt)), ("_links", l.json)]))
    }

    static func renderAccess(_ s: ServerContext, _ a: TeamProjectAccess, _ p: Project, canManage: Bool, fromTeam: Bool) -> JSON {
        let path = fromTeam ? "/teams/\(a.teamId)/project-access/\(p.id)" : "/projects/\(p.id)/team-access/\(a.teamId)"
        var links = JSONObject([("self", .object(JSONObject([("href", .string(HRef.make(base: s.publicURL, path: path)))])))])
        if canManage { links["delete"] = .object(JSONObject([("href", .string(HRef.make(base: s.publicURL, path: path))), ("method", "DELETE")])) }
        return .object(JSONObject([("team_id", .string(a.teamId)), ("organization_id", .string(p.organizationId)), ("project_id", .string(p.id)),
                                   ("project_title", .string(p.title)), ("granted_at", .string(a.createdAt)), ("updated_at", .string(a.updatedAt)),
                                   ("_links", .object(links))]))
    }
}
