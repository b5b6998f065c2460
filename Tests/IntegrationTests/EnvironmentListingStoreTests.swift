import Foundation
import GroveModel
import GroveStore
import Logging
import Testing

/// The environment list reads its environments, their deployments and the open activities in one query (a UNION of
/// two shapes of row); the same SQL must answer alike on both engines.
@Suite("Environment listing query")
struct EnvironmentListingStoreTests {
    @Test("environments in creation order, deployments beside them, busy from open activities only", arguments: Backend.allCases)
    func listing(backend: Backend) async throws {
        let store = try await backend.openStore("listing")
        defer { Task { await store.close() } }
        #expect(try await store.environmentListing(projectId: "p").environments.isEmpty)

        // Created out of name order; another project's rows must not leak in.
        for (name, at) in [("main", "2026-01-01T00:00:01Z"), ("zeta", "2026-01-01T00:00:02Z"), ("alpha", "2026-01-01T00:00:03Z")] {
            try await store.insertEnvironment(Environment(projectId: "p", name: name, title: name, type: .development, parent: name == "main" ? nil : "main",
                                                          status: .active, isMain: name == "main", createdAt: at))
        }
        try await store.insertEnvironment(Environment(projectId: "q", name: "main", title: "Other", type: .production, parent: nil, status: .active,
                                                      isMain: true, createdAt: "2026-01-01T00:00:00Z"))
        try await store.putDeployment(DeploymentRecord(projectId: "p", environmentId: "main", generation: 3, commit: "c", deployedAt: "t-main",
                                                       desired: "{}", observed: "[]", updatedAt: "t", sshAccess: ["app": "admin"]))
        try await store.putDeployment(DeploymentRecord(projectId: "q", environmentId: "main", generation: 1, commit: "c", deployedAt: "t-other",
                                                       desired: "{}", observed: "[]", updatedAt: "t"))
        // A merge-like activity works on two environments; finished ones and other projects' do not count.
        var open = Activity(projectId: "p", environments: ["zeta", "main"], type: "environment.merge", userId: nil, description: "", text: "", seq: 1,
                            createdAt: Timestamp.now())
        try await store.insertActivity(open)
        var done = Activity(projectId: "p", environments: ["alpha"], type: "environment.redeploy", userId: nil, description: "", text: "", seq: 2,
                            createdAt: Timestamp.now())
        done.state = .complete
        done.result = .success
        try await store.insertActivity(done)
        try await store.insertActivity(Activity(projectId: "q", environments: ["main"], type: "environment.redeploy", userId: nil, description: "",
                                                text: "", seq: 3, createdAt: Timestamp.now()))

        var listing = try await store.environmentListing(projectId: "p")
        #expect(listing.environments.map(\.id) == ["main", "zeta", "alpha"])
        #expect(listing.environments == (try await store.environments(projectId: "p")))
        #expect(listing.deployments == ["main": DeploymentSummary(deployedAt: "t-main", sshAccess: ["app": "admin"])])
        #expect(listing.busy == ["zeta", "main"])

        // Running still counts; once it ends nothing is busy.
        open.state = .inProgress
        try await store.updateActivity(open)
        #expect(try await store.environmentListing(projectId: "p").busy == ["zeta", "main"])
        open.state = .complete
        open.result = .failure
        try await store.updateActivity(open)
        listing = try await store.environmentListing(projectId: "p")
        #expect(listing.busy.isEmpty)
        #expect(listing.environments.count == 3)
        #expect(try await store.environmentListing(projectId: "q").busy == ["main"])
    }
}
