import Foundation
import GroveModel
import GroveOrchestrator
import GroveStore
import Logging
import Testing
@testable import GroveAPI

/// Every route the server answers is described in `/openapi.json`, and every described operation is served:
/// clients generated from the document find each endpoint, and nothing is served that they cannot see.
@Suite struct RouteDocumentDriftTests {
    /// `{projectId}` and `{project_id}` name the same slot; only the shape counts.
    static func shape(_ template: String) -> String {
        template.replacingOccurrences(of: "\\{[^}]+\\}", with: "{}", options: .regularExpression)
    }

    @Test("served routes and the OpenAPI document list the same operations")
    func noDrift() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grove-drift-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let logger = Logger(label: "drift")
        let store = try await StoreFactory.open(url: "sqlite://" + dir + "/grove.db", logger: logger)
        let context = ServerContext(store: store, orchestrator: Orchestrator(store: store, runners: [:], logger: logger),
                                    signer: JWTSigner(secret: "drift"), logger: logger, dataDir: dir, publicURL: "http://127.0.0.1")
        let served = Set(APIServer.makeRoutes(context).table.map { "\($0.method.rawValue) \(Self.shape($0.template))" })
            .subtracting(["GET /", "GET /openapi.json"])
        var documented = Set<String>()
        for (path, item) in OpenAPISpec.document()["paths"]?.objectValue ?? JSONObject() {
            for (method, _) in item.objectValue ?? JSONObject() where ["get", "post", "patch", "put", "delete"].contains(method) {
                documented.insert("\(method.uppercased()) \(Self.shape(path))")
            }
        }
        await store.close()
        #expect(served.subtracting(documented).sorted() == [], "served but not in /openapi.json")
        #expect(documented.subtracting(served).sorted() == [], "in /openapi.json but not served")
        #expect(served.count > 150)
    }
}
