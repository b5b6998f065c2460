import GroveModel
import GroveStore

/// Works out what a user may do, from organization ownership, membership permissions and project grants.
struct AccessResolver {
    let store: any Store

    /// The caller's membership, with owners reported as members holding every permission.
    func membership(user: User, organization: Organization) async throws -> OrganizationMember? {
        if let m = try await store.member(organizationId: organization.id, userId: user.id) { return m }
        if organization.ownerId == user.id {
            return OrganizationMember(id: user.id, organizationId: organization.id, userId: user.id, permissions: [.admin], owner: true,
                                      createdAt: organization.createdAt)
        }
        return nil
    }

    func level(user: User, project: Project) async throws -> ProjectAccessLevel {
        try await resolve(user: user, project: project).level
    }

    /// The user's access to the project and whether its organization enforces MFA, from one store round trip
    /// (plus team lookups for users in teams).
    func resolve(user: User, project: Project) async throws -> (level: ProjectAccessLevel, mfaEnforced: Bool) {
        let records = try await store.accessRecords(organizationId: project.organizationId, projectId: project.id, userId: user.id)
        return try await resolve(user: user, project: project, records: records)
    }

    /// The same from records already read (see `Store.routeAccess`).
    func resolve(user: User, project: Project, records: AccessRecords) async throws -> (level: ProjectAccessLevel, mfaEnforced: Bool) {
        var level = ProjectAccessLevel.none
        if let org = records.organization {
            if org.ownerId == user.id { return (ProjectAccessLevel(projectRole: .admin), records.mfaEnforced) }
            if let m = records.member {
                if m.owner || m.permissions.contains(.admin) { return (ProjectAccessLevel(projectRole: .admin), records.mfaEnforced) }
                if m.permissions.contains(.projectsList) { level = ProjectAccessLevel(projectRole: .viewer) }
            }
        }
        if let g = records.grant, case .success(let granted) = ProjectAccessLevel.parse(permissions: g.permissions) {
            level = level.merged(with: granted)
        }
        if records.inTeams { level = level.merged(with: try await teamLevel(userId: user.id, projectId: project.id)) }
        return (level, records.mfaEnforced)
    }

    /// What the user's teams with access to the project grant (the union of their project permissions).
    func teamLevel(userId: String, projectId: String) async throws -> ProjectAccessLevel {
        var level = ProjectAccessLevel.none
        for m in try await store.list(TeamMember.self, ref: userId) {
            guard try await store.get(TeamProjectAccess.self, id: m.teamId + "/" + projectId) != nil,
                  let team = try await store.get(Team.self, id: m.teamId),
                  case .success(let granted) = ProjectAccessLevel.parse(permissions: team.projectPermissions) else { continue }
            level = level.merged(with: granted)
        }
        return level
    }

    /// Projects reachable through the user's teams.
    func teamProjectIds(userId: String) async throws -> Set<String> {
        var out = Set<String>()
        for m in try await store.list(TeamMember.self, ref: userId) {
            for a in try await store.list(TeamProjectAccess.self, parent: m.teamId) { out.insert(a.projectId) }
        }
        return out
    }

    /// Every project the user can see, with the access level on each.
    func visibleProjects(user: User) async throws -> [(Project, ProjectAccessLevel)] {
        var out: [String: (Project, ProjectAccessLevel)] = [:]
        for orgId in try await store.organizations(userId: user.id).map(\.id) {
            for p in try await store.projects(organizationId: orgId) {
                let l = try await level(user: user, project: p)
                if l.permits(.view) { out[p.id] = (p, l) }
            }
        }
        let granted = Set(try await store.grants(userId: user.id).map(\.projectId)).union(try await teamProjectIds(userId: user.id))
        for id in granted.sorted() where out[id] == nil {
            if let p = try await store.project(id: id) {
                let l = try await level(user: user, project: p)
                if l.permits(.view) { out[p.id] = (p, l) }
            }
        }
        return out.values.sorted { $0.0.createdAt < $1.0.createdAt }
    }

    /// Organizations the user belongs to (owner or member).
    func organizations(user: User) async throws -> [Organization] {
        try await store.organizations(userId: user.id)
    }
}
