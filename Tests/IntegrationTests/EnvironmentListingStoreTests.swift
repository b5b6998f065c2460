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

    /// Lists decode through the record memo and, on PostgreSQL, read what other processes wrote: a write anywhere
    /// (this store, a second one on the same database standing for another process, a transaction that writes a row
    /// twice, a delete and insert under the same name) shows on the next list; a rolled-back one never does.
    @Test("a list shows every committed change, whoever wrote it", arguments: Backend.allCases)
    func changesShow(backend: Backend) async throws {
        let url = try await backend.newStoreURL("versions")
        let reader = try await StoreFactory.open(url: url, logger: Logger(label: "test"))
        let writer = try await StoreFactory.open(url: url, logger: Logger(label: "test"))
        defer { Task { await reader.close(); await writer.close() } }
        @Sendable func env(_ name: String, _ title: String, at: String) -> Environment {
            Environment(projectId: "p", name: name, title: title, type: .development, parent: name == "main" ? nil : "main", status: .active,
                        isMain: name == "main", createdAt: at)
        }
        func titles() async throws -> [String] { try await reader.environmentListing(projectId: "p").environments.map(\.title) }
        try await reader.insertEnvironment(env("main", "Main", at: "2026-01-01T00:00:01Z"))
        try await reader.insertEnvironment(env("dev", "Dev", at: "2026-01-01T00:00:02Z"))
        #expect(try await titles() == ["Main", "Dev"])
        #expect(try await titles() == ["Main", "Dev"])

        // Another process (its own connections and memo) renames one.
        try await writer.updateEnvironment(env("dev", "Renamed", at: "2026-01-01T00:00:02Z"))
        #expect(try await titles() == ["Main", "Renamed"])

        // A transaction that writes the same row twice: only its last write is ever seen.
        try await reader.transaction { tx in
            try await tx.updateEnvironment(env("main", "First", at: "2026-01-01T00:00:01Z"))
            try await tx.updateEnvironment(env("main", "Second", at: "2026-01-01T00:00:01Z"))
        }
        #expect(try await titles() == ["Second", "Renamed"])

        // Gone and back under the same name, with a new document.
        try await writer.deleteEnvironment(projectId: "p", id: "dev")
        #expect(try await titles() == ["Second"])
        try await writer.insertEnvironment(env("dev", "Reborn", at: "2026-01-01T00:00:03Z"))
        #expect(try await titles() == ["Second", "Reborn"])

        // A rolled-back write leaves the list as it was.
        await #expect(throws: (any Error).self) {
            try await writer.transaction { tx in
                try await tx.updateEnvironment(env("main", "Never", at: "2026-01-01T00:00:01Z"))
                throw TestFailure("roll back")
            }
        }
        #expect(try await titles() == ["Second", "Reborn"])
        #expect(try await reader.environmentListing(projectId: "p").environments == (try await writer.environments(projectId: "p")))
    }
}
