import Foundation
import GroveModel
import Testing

@Suite("What clients read before creating a project")
struct DiscoveryTests {
    @Test("regions, setup options, estimate and verification", arguments: [Backend.sqlite])
    func discovery(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let http = try await s.login()
        let regions = try await http.get("/regions").json
        let region = try #require(regions["regions"]?.arrayValue?.first?["id"]?.stringValue)
        #expect(try await http.get("/regions/\(region)").status == 200)
        #expect(try await http.get("/regions/elsewhere").status == 404)
        #expect(try await http.get("/ref/regions?in=\(region),x").json["x"] == .null)
        let org = try #require(try await http.get("/organizations").json["items"]?.arrayValue?.first?["id"]?.stringValue)
        #expect(try await http.get("/organizations/\(org)/setup/options").json["regions"]?.arrayValue?.first?.stringValue == region)
        #expect(try await http.get("/organizations/\(org)/subscriptions/estimate?plan=development").json["total"] != nil)
        #expect(try await http.get("/organizations/\(org)/subscriptions/can-create").json["can_create"]?.boolValue == true)
        #expect(try await http.post("/me/verification").json["state"]?.boolValue == false)
        // A project created in the listed region reports it.
        let p = try await s.createProject(http)
        #expect(p["region"]?.stringValue == region)
    }
}
