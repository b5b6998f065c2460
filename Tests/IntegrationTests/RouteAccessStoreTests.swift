import Foundation
import GroveModel
import GroveStore
import Logging
import Testing

/// Every authenticated project route reads its caller, project, access records and environment in one query; it
/// must answer as the separate reads it replaces do, on both engines.
@Suite("Route access query")
struct RouteAccessStoreTests {
    @Test("the token's user, revocation, the project with access records and the environment, as the separate reads give them",
          arguments: Backend.allCases)
    func routeAccess(backend: Backend) async throws {
        let store = try await backend.openStore("route-access")
        defer { Task { await store.close() } }
        let now = Timestamp.now()
        for (id, name) in [("owner", "olga"), ("dev", "dana"), ("stranger", "sam")] {
            try await store.insertUser(User(id: id, username: name, email: "\(name)@example.com", createdAt: now))
        }
        try await store.insertOrganization(Organization(id: "org", name: "org", label: "Org", ownerId: "owner", createdAt: now))
        try await store.insertMember(OrganizationMember(id: "m1", organizationId: "org", userId: "dev", permissions: [.projectsList], owner: false, createdAt: now))
        try await store.insertProject(Project(id: "proj", organizationId: "org", ownerId: "owner", subscriptionId: "1", title: "P",
                                              defaultBranch: "main", region: "local", createdAt: now))
        try await store.putGrant(ProjectGrant(projectId: "proj", userId: "dev", permissions: ["viewer", "development:contributor"], grantedAt: now))
        try await store.insertEnvironment(Environment(projectId: "proj", name: "main", title: "Main", type: .production, parent: nil, status: .active,
                                                      isMain: true, createdAt: now))
        try await store.insertEnvironment(Environment(projectId: "other", name: "feature", title: "F", type: .development, parent: nil, status: .active,
                                                      isMain: false, createdAt: now))
        try await store.put(MFAEnforcement(organizationId: "org", enforced: true, createdAt: now))
        try await store.insert(TeamMember(teamId: "t1", userId: "dev", createdAt: now))

        // A member with a grant, on an environment route: everything in one row, as the separate reads have it.
        var a = try await store.routeAccess(userId: "dev", tokenId: "jti-1", projectId: "proj", environmentId: "main")
        #expect(a.user == (try await store.user(id: "dev")) && !a.revoked)
        let separate = try await store.accessRecords(organizationId: "org", projectId: "proj", userId: "dev")
        let (project, records) = try #require(a.project)
        #expect(project == (try await store.project(id: "proj")))
        #expect(records.organization == separate.organization && records.member == separate.member && records.grant == separate.grant)
        #expect(records.member?.userId == "dev" && records.grant?.permissions == ["viewer", "development:contributor"])
        #expect(records.mfaEnforced && separate.mfaEnforced && records.inTeams && separate.inTeams)
        #expect(a.environment == (try await store.environment(projectId: "proj", id: "main")))

        // A project route asks for no environment; another project's environment of that name is not this one's.
        a = try await store.routeAccess(userId: "dev", tokenId: "jti-1", projectId: "proj", environmentId: nil)
        #expect(a.project != nil && a.environment == nil)
        a = try await store.routeAccess(userId: "dev", tokenId: "jti-1", projectId: "proj", environmentId: "feature")
        #expect(a.project != nil && a.environment == nil)

        // A stranger gets the project with empty records (the caller decides it is not visible), and no team.
        a = try await store.routeAccess(userId: "stranger", tokenId: "jti-2", projectId: "proj", environmentId: nil)
        let strangers = try #require(a.project).1
        #expect(strangers.member == nil && strangers.grant == nil && !strangers.inTeams && strangers.organization?.id == "org")

        // No such project, no such user, a revoked token.
        a = try await store.routeAccess(userId: "dev", tokenId: "jti-1", projectId: "nope", environmentId: "main")
        #expect(a.user?.id == "dev" && a.project == nil && a.environment == nil)
        a = try await store.routeAccess(userId: "ghost", tokenId: "jti-3", projectId: "proj", environmentId: "main")
        #expect(a.user == nil && !a.revoked && a.project == nil)
        _ = try await store.setMetaIfAbsent("revoked:jti-1", "0")
        a = try await store.routeAccess(userId: "dev", tokenId: "jti-1", projectId: "proj", environmentId: nil)
        #expect(a.revoked && a.user?.id == "dev")
        #expect(try await store.userForAccessToken(userId: "dev", tokenId: "jti-1").revoked)
    }

    @Test("an environment's state: busy while an activity is pending or running on it, and its deployment", arguments: Backend.allCases)
    func environmentState(backend: Backend) async throws {
        let store = try await backend.openStore("environment-state")
        defer { Task { await store.close() } }
        let now = Timestamp.now()
        #expect(try await store.environmentState(projectId: "proj", environmentId: "main") == EnvironmentState(busy: false, deployment: nil))

        // Another environment's or another project's activity does not make this one busy.
        var other = Activity(projectId: "proj", environments: ["feature"], type: "environment.push", userId: nil, description: "", text: "", seq: 1, createdAt: now)
        try await store.insertActivity(other)
        try await store.insertActivity(Activity(projectId: "elsewhere", environments: ["main"], type: "environment.push", userId: nil, description: "", text: "",
                                                seq: 1, createdAt: now))
        #expect(try await store.environmentState(projectId: "proj", environmentId: "main").busy == false)
        #expect(try await store.environmentState(projectId: "proj", environmentId: "feature").busy)

        var a = Activity(projectId: "proj", environments: ["main"], type: "environment.redeploy", userId: nil, description: "", text: "", seq: 2, createdAt: now)
        try await store.insertActivity(a)
        #expect(try await store.environmentState(projectId: "proj", environmentId: "main").busy)
        #expect(try await store.claimActivity(a))
        #expect(try await store.environmentState(projectId: "proj", environmentId: "main").busy)
        a.state = .complete
        try await store.updateActivity(a)
        other.state = .cancelled
        try await store.updateActivity(other)
        #expect(try await store.environmentState(projectId: "proj", environmentId: "main").busy == false)
        #expect(try await store.environmentState(projectId: "proj", environmentId: "feature").busy == false)

        // Its deployment, and not another project's of the same name.
        try await store.putDeployment(DeploymentRecord(projectId: "elsewhere", environmentId: "main", generation: 1, commit: "c0", deployedAt: "t0",
                                                       desired: "{}", observed: "[]", updatedAt: "t0"))
        #expect(try await store.environmentState(projectId: "proj", environmentId: "main").deployment == nil)
        try await store.putDeployment(DeploymentRecord(projectId: "proj", environmentId: "main", generation: 1, commit: "c1", deployedAt: "t1",
                                                       desired: "{}", observed: "[]", updatedAt: "t1", sshAccess: ["app": "viewer"]))
        #expect(try await store.environmentState(projectId: "proj", environmentId: "main")
                == EnvironmentState(busy: false, deployment: DeploymentSummary(deployedAt: "t1", sshAccess: ["app": "viewer"])))
    }
}
