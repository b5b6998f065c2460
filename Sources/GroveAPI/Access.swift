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
        var level = ProjectAccessLevel.none
        let records = try await store.accessRecords(organizationId: project.organizationId, projectId: project.id, userId: user.id)
        if let org = records.organization {
            if org.ownerId == user.id { return ProjectAccessLevel(projectRole: .admin) }
            if let m = records.member {
                if m.owner || m.permissions.contains(.admin) { return ProjectAccessLevel(projectRole: .admin) }
                if m.permissions.contains(.projectsList) { level = ProjectAccessLevel(projectRole: .viewer) }
            }
        }
        if let g = records.grant, case .success(let granted) = ProjectAccessLevel.parse(permissions: g.permissions) {
            level = level.merged(with: granted)
        }
        return level
    }

    /// Every project the user can see, with the access level on each.
    func visibleProjects(user: User) async throws -> [(Project, ProjectAccessLevel)] {
        var out: [String: (Project, ProjectAccessLevel)] = [:]
        var orgIds = Set(try await store.memberships(userId: user.id).map(\.organizationId))
        for o in try await store.organizations() where o.ownerId == user.id { orgIds.insert(o.id) }
        for orgId in orgIds {
            for p in try await store.projects(organizationId: orgId) {
                let l = try await level(user: user, project: p)
                if l.canSeeProject { out[p.id] = (p, l) }
            }
        }
        for g in try await store.grants(userId: user.id) where out[g.projectId] == nil {
            if let p = try await store.project(id: g.projectId) {
                let l = try await level(user: user, project: p)
                if l.canSeeProject { out[p.id] = (p, l) }
            }
        }
        return out.values.sorted { $0.0.createdAt < $1.0.createdAt }
    }

    /// Organizations the user belongs to (owner or member).
    func organizations(user: User) async throws -> [Organization] {
        let memberOf = Set(try await store.memberships(userId: user.id).map(\.organizationId))
        return try await store.organizations().filter { $0.ownerId == user.id || memberOf.contains($0.id) }
    }
}
