import Crypto
import Foundation
import GroveModel
import GroveStore
import Logging
import Testing

@Suite("Deployment records")
struct DeploymentRecordTests {
    @Test func recordsAreSealedReplacedAndObservedOnlyForTheirGeneration() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try await StoreFactory.open(url: "sqlite:" + path, logger: Logger(label: "test"), sealer: SecretSealer(key: SymmetricKey(size: .bits256)))
        let first = DeploymentRecord(projectId: "p", environmentId: "main", generation: 1, commit: "c1", deployedAt: "t1",
                                     desired: #"{"variables":{"API_KEY":"plain-secret"}}"#, observed: "[]", updatedAt: "t1",
                                     sshAccess: ["app": "contributor", "admin-ui": "admin"])
        try await store.putDeployment(first)
        // What should run holds the environment's variables: sealed at rest, plain to the reader.
        let raw = try await store.db.query("SELECT desired FROM deployments", []).compactMap { $0["desired"]?.string }.joined()
        #expect(!raw.contains("plain-secret") && raw.contains("grove-sealed:v1:"))
        #expect(try await store.deployment(projectId: "p", environmentId: "main") == first)

        var second = first
        second.generation = 2
        second.commit = "c2"
        try await store.putDeployment(second)
        #expect(try await store.deployments(projectId: "p").map(\.commit) == ["c2"])
        // A late report about generation 1 does not overwrite what generation 2 observed.
        try await store.updateObservedDeployment(projectId: "p", environmentId: "main", generation: 1, observed: #"[{"state":"failed"}]"#, updatedAt: "t3")
        #expect(try await store.deployment(projectId: "p", environmentId: "main")?.observed == "[]")
        try await store.updateObservedDeployment(projectId: "p", environmentId: "main", generation: 2, observed: #"[{"state":"running"}]"#, updatedAt: "t4")
        #expect(try await store.deployment(projectId: "p", environmentId: "main")?.observed == #"[{"state":"running"}]"#)

        try await store.putDeployment(DeploymentRecord(projectId: "q", environmentId: "main", generation: 1, commit: "c", deployedAt: "t", desired: "{}",
                                                       observed: "[]", updatedAt: "t"))
        #expect(try await store.deployments(projectId: nil).map(\.projectId) == ["p", "q"])
        // The environment's state reads when it went live and its SSH targets without unsealing the record.
        #expect(try await store.environmentState(projectId: "p", environmentId: "main")
                == EnvironmentState(busy: false, deployment: DeploymentSummary(deployedAt: "t1", sshAccess: ["app": "contributor", "admin-ui": "admin"])))
        #expect(try await store.environmentState(projectId: "p", environmentId: "other") == EnvironmentState(busy: false, deployment: nil))
        #expect(try await store.environmentState(projectId: "q", environmentId: "main").deployment?.sshAccess == [:])
        try await store.deleteProject(id: "p")
        #expect(try await store.deployments(projectId: nil).map(\.projectId) == ["q"])
        try await store.deleteDeployment(projectId: "q", environmentId: "main")
        #expect(try await store.deployments(projectId: nil).isEmpty)
        await store.close()
    }
}
