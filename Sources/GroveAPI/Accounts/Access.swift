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
                  let granted = try await grant(ofTeam: m.teamId) else { continue }
            level = level.merged(with: granted)
        }
        return level
    }

    /// The level a team's project permissions grant on the projects it has access to; nil for a gone team.
    private func grant(ofTeam teamId: String) async throws -> ProjectAccessLevel? {
        guard let team = try await store.get(Team.self, id: teamId),
              case .success(let granted) = ProjectAccessLevel.parse(permissions: team.projectPermissions) else { return nil }
        return granted
    }

    /// What the user's teams grant on each project they have access to (the union of their project permissions).
    func teamLevels(userId: String) async throws -> [String: ProjectAccessLevel] {
        var out: [String: ProjectAccessLevel] = [:]
        for m in try await store.list(TeamMember.self, ref: userId) {
            guard let granted = try await grant(ofTeam: m.teamId) else { continue }
            for a in try await store.list(TeamProjectAccess.self, parent: m.teamId) {
                out[a.projectId] = (out[a.projectId] ?? .none).merged(with: granted)
            }
        }
        return out
    }

    /// What a user's level on any project depends on besides the project's organization, read once for many projects.
    struct UserAccess: Sendable {
        let memberships: [String: OrganizationMember]
        let grants: [String: ProjectGrant]
        let teams: [String: ProjectAccessLevel]
    }

    func userAccess(_ user: User) async throws -> UserAccess {
        UserAccess(memberships: Dictionary(try await store.memberships(userId: user.id).map { ($0.organizationId, $0) }, uniquingKeysWith: { a, _ in a }),
                   grants: Dictionary(try await store.grants(userId: user.id).map { ($0.projectId, $0) }, uniquingKeysWith: { a, _ in a }),
                   teams: try await teamLevels(userId: user.id))
    }

    /// The user's level on `project` of `organization` (its organization record, nil when gone) from what was read.
    func level(user: User, project: Project, organization: Organization?, access: UserAccess) async throws -> ProjectAccessLevel {
        let records = AccessRecords(organization: organization, member: organization.flatMap { access.memberships[$0.id] }, grant: access.grants[project.id],
                                    mfaEnforced: false, inTeams: false)
        let level = try await resolve(user: user, project: project, records: records).level
        return access.teams[project.id].map { level.merged(with: $0) } ?? level
    }

    /// The projects of `ids` the user can see, with the level on each (an organization read once for all its projects).
    func visibleProjects(user: User, ids: [String], access: UserAccess) async throws -> [String: (Project, ProjectAccessLevel)] {
        var organizations: [String: Organization?] = [:]
        var out: [String: (Project, ProjectAccessLevel)] = [:]
        for id in ids where out[id] == nil {
            guard let p = try await store.project(id: id) else { continue }
            if organizations[p.organizationId] == nil { organizations[p.organizationId] = .some(try await store.organization(id: p.organizationId)) }
            let l = try await level(user: user, project: p, organization: organizations[p.organizationId] ?? nil, access: access)
            if l.permits(.view) { out[p.id] = (p, l) }
        }
        return out
    }

    /// Every project the user can see, with the access level on each. What the levels depend on (memberships, grants,
    /// teams) is read once for the user, not once per project: an organization may hold many projects.
    func visibleProjects(user: User) async throws -> [(Project, ProjectAccessLevel)] {
        let access = try await userAccess(user)
        var out: [String: (Project, ProjectAccessLevel)] = [:]
        for org in try await store.organizations(userId: user.id) {
            for p in try await store.projects(organizationId: org.id) {
                let l = try await level(user: user, project: p, organization: org, access: access)
                if l.permits(.view) { out[p.id] = (p, l) }
            }
        }
        // Projects of other organizations, reached through a grant or a team.
        let others = Set(access.grants.keys).union(access.teams.keys).subtracting(out.keys).sorted()
        out.merge(try await visibleProjects(user: user, ids: others, access: access)) { a, _ in a }
        return out.values.sorted { $0.0.createdAt < $1.0.createdAt }
    }

    /// Organizations the user belongs to (owner or member).
    func organizations(user: User) async throws -> [Organization] {
        try await store.organizations(userId: user.id)
    }
}
