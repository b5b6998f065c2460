import Foundation
import GroveModel
import GroveOrchestrator
import GroveStore
import HTTPTypes
import Logging
import Testing
@testable import GroveAPI

/// Routes are bound to declared operations, and `/openapi.json` is built from the routes: clients generated from the
/// document find each endpoint, and nothing is served that they cannot see.
@Suite struct RouteDocumentDriftTests {
    static func withRoutes(_ body: (Routes) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grove-drift-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let logger = Logger(label: "drift")
        let store = try await StoreFactory.open(url: "sqlite://" + dir + "/grove.db", logger: logger)
        let context = ServerContext(store: store, orchestrator: Orchestrator(store: store, runners: [:], logger: logger),
                                    signer: JWTSigner(secret: "drift"), logger: logger, dataDir: dir, publicURL: "http://127.0.0.1")
        try await body(APIServer.makeRoutes(context))
        await store.close()
    }

    @Test("every declared operation is served, once, and the served document lists exactly the served operations")
    func servedDocumentIsTheRoutes() async throws {
        try await Self.withRoutes { routes in
            #expect(routes.problems == [])
            let served = routes.operations.map(\.id)
            #expect(Set(served).count == served.count)
            #expect(Set(served) == Set(OperationCatalog.operations.keys), "declared but not served: \(Set(OperationCatalog.operations.keys).subtracting(served).sorted())")
            #expect(served.count > 150)

            guard case .found(let route, _) = routes.match(method: .get, rawPath: "/openapi.json") else { Issue.record("no /openapi.json"); return }
            let answer = try await route.handler(APIRequest(method: .get, path: "/openapi.json", params: [:], query: [], headers: [:], body: [], user: nil, grant: nil))
            guard case .raw(.ok, _, let bytes) = answer else { Issue.record("/openapi.json answered \(answer)"); return }
            var documented = Set<String>()
            for (path, item) in try JSON.parse(bytes.readableBytesView)["paths"]?.objectValue ?? JSONObject() {
                for (method, op) in item.objectValue ?? JSONObject() {
                    documented.insert("\(method.uppercased()) \(path) \(op["operationId"]?.stringValue ?? "")")
                }
            }
            let routed = Set(routes.operations.map { "\($0.method.rawValue) \($0.path) \($0.id)" })
            #expect(documented == routed)
        }
    }

    @Test("a handler for an undeclared operation, or a second one for the same operation, is a problem the server refuses")
    func undeclaredAndDuplicateRoutesAreProblems() throws {
        let declared = Operation(id: "get-thing", method: .get, path: "/things/{id}", authenticated: true, spec: ["operationId": "get-thing"])
        var routes = Routes(catalog: ["get-thing": declared])
        routes.add("get-thing") { req in .json(.ok, .string(req.param("id"))) }
        routes.add("get-thing") { _ in .empty(.noContent) }
        routes.add("get-other") { _ in .empty(.noContent) }
        #expect(routes.problems == ["operation get-thing is served twice", "no operation get-other is declared"])
        #expect(routes.operations.map(\.id) == ["get-thing"])
        guard case .found(let r, let params) = routes.match(method: .get, rawPath: "/things/a%2Fb") else { Issue.record("not matched"); return }
        #expect(r.operation.id == "get-thing" && params["id"] == "a/b")
        if case .methodNotAllowed(let allowed) = routes.match(method: .post, rawPath: "/things/x") { #expect(allowed == [.get]) } else { Issue.record("POST matched") }
    }
}
