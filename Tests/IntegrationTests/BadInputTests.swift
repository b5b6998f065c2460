import Foundation
import GroveModel
import Testing

@Suite("Bad input gets a clear error and changes nothing")
struct BadInputTests {
    @Test("malformed JSON, wrong types, unknown fields, enums, oversized bodies, unknown paths", arguments: Backend.allCases)
    func badInput(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let http = try await s.login()
        let pid = try #require(try await s.createProject(http)["id"]?.stringValue)
        let before = try await http.get("/projects/\(pid)").json
        let envsBefore = try await http.get("/projects/\(pid)/environments").json

        func expectError(_ r: HTTPResult, _ status: Int, field: String? = nil) {
            #expect(r.status == status, "\(r.text)")
            #expect(r.json["code"]?.intValue == Int64(status))
            #expect(r.json["status"]?.stringValue == "error")
            #expect(r.json["title"]?.stringValue?.isEmpty == false)
            #expect(r.json["message"]?.stringValue?.isEmpty == false)
            #expect(r.json["detail"] != nil)
            if let field { #expect(r.json["detail"]?[field] != nil, "detail names \(field): \(r.text)") }
        }
        expectError(try await http.request("PATCH", "/projects/\(pid)", raw: Data("{\"title\": ".utf8), contentType: "application/json"), 400)
        expectError(try await http.request("PATCH", "/projects/\(pid)", raw: Data("[1,2]".utf8), contentType: "application/json"), 400)
        expectError(try await http.patch("/projects/\(pid)", ["title": 42]), 400, field: "title")
        expectError(try await http.patch("/projects/\(pid)", ["title": "ok", "unknown_field": 1]), 400, field: "unknown_field")
        expectError(try await http.patch("/projects/\(pid)/environments/main", ["type": "qa"]), 400, field: "type")
        expectError(try await http.post("/projects/\(pid)/environments/main/branch", ["name": "bad~name"]), 400, field: "name")
        expectError(try await http.post("/projects/\(pid)/environments/main/branch", ["name": "dev", "clone_parent": "yes"]), 400, field: "clone_parent")
        let big = Data(("{\"title\": \"" + String(repeating: "a", count: 2 << 20) + "\"}").utf8)
        expectError(try await http.request("PATCH", "/projects/\(pid)", raw: big, contentType: "application/json"), 413)
        expectError(try await http.get("/projects/\(pid)/nothing-here"), 404)
        expectError(try await http.request("PUT", "/projects/\(pid)"), 405)
        expectError(try await http.delete("/projects/\(pid)/environments/main"), 400)
        expectError(try await http.post("/organizations", ["label": 7]), 400, field: "label")

        // Nothing changed.
        let after = try await http.get("/projects/\(pid)").json
        #expect(after["title"] == before["title"])
        #expect(after["updated_at"] == before["updated_at"])
        #expect(try await http.get("/projects/\(pid)/environments").json == envsBefore)
        #expect(try await http.get("/projects/\(pid)/activities").json.arrayValue?.count == 1)
    }
}
