import Foundation
import GroveModel
import Testing

@Suite("Variables")
struct VariableTests {
    @Test("project variables: CRUD, sensitive values hidden, JSON validated, duplicates refused", arguments: Backend.allCases)
    func projectVariables(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let http = try await s.login()
        let pid = try #require(try await s.createProject(http)["id"]?.stringValue)
        let c = "/projects/\(pid)/variables"
        let created = try await http.post(c, ["name": "env:API_KEY", "value": "secret", "is_sensitive": true, "visible_build": false])
        #expect(created.status == 201)
        let entity = try #require(created.json["_embedded"]?["entity"])
        #expect(entity["value"] == nil)
        #expect(entity["is_sensitive"]?.boolValue == true)
        #expect(created.json["_embedded"]?["activities"]?.arrayValue?.first?["type"]?.stringValue == "project.variable.create")
        #expect(try await http.get(c + "/env%3AAPI_KEY").json["value"] == nil)
        #expect(!(try await http.get(c).text.contains("secret")))
        #expect(try await http.post(c, ["name": "env:API_KEY", "value": "again"]).status == 409)
        #expect(try await http.patch(c + "/env%3AAPI_KEY", ["is_sensitive": false]).status == 400)
        #expect(try await http.post(c, ["name": "cfg", "value": "{not json", "is_json": true]).status == 400)
        #expect(try await http.post(c, ["name": "cfg", "value": "{\"a\":1}", "is_json": true]).status == 201)
        #expect(try await http.post(c, ["name": "x", "value": "1", "is_enabled": true]).status == 400)  // environment-only field
        #expect(try await http.post(c, ["value": "1"]).status == 400)
        let upd = try await http.patch(c + "/cfg", ["value": "[1,2]"])
        #expect(upd.json["_embedded"]?["entity"]?["value"]?.stringValue == "[1,2]")
        #expect(try await http.delete(c + "/cfg").status == 200)
        #expect(try await http.get(c + "/cfg").status == 404)
        #expect(try await http.get(c).json.arrayValue?.count == 1)
    }

    @Test("environment variables inherit down the tree unless not inheritable", arguments: Backend.allCases)
    func inheritance(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let http = try await s.login()
        let pid = try #require(try await s.createProject(http)["id"]?.stringValue)
        let main = "/projects/\(pid)/environments/main"
        #expect(try await http.post(main + "/variables", ["name": "SHARED", "value": "from-main"]).status == 201)
        #expect(try await http.post(main + "/variables", ["name": "PRIVATE", "value": "p", "is_inheritable": false]).status == 201)
        let b = try await http.post(main + "/branch", ["name": "dev"])
        _ = try await waitForActivity(http, try #require(b.json["_embedded"]?["activities"]?.arrayValue?.first))
        let dev = "/projects/\(pid)/environments/dev/variables"
        let list = try await http.get(dev).json.arrayValue ?? []
        #expect(list.map { $0["name"]?.stringValue } == ["SHARED"])
        #expect(list.first?["inherited"]?.boolValue == true)
        #expect(list.first?["_links"]?["#edit"] == nil)
        #expect(try await http.patch(dev + "/SHARED", ["value": "x"]).status == 400)
        #expect(try await http.post(dev, ["name": "SHARED", "value": "override"]).status == 201)
        let after = try await http.get(dev + "/SHARED").json
        #expect(after["value"]?.stringValue == "override")
        #expect(after["inherited"]?.boolValue == false)
        #expect(try await http.get(main + "/variables/SHARED").json["value"]?.stringValue == "from-main")
    }
}
