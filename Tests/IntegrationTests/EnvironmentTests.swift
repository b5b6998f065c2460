import Foundation
import GroveModel
import Testing

@Suite("Environments")
struct EnvironmentTests {
    @Test("branching creates an active child through an activity; names with slashes work", arguments: Backend.allCases)
    func branch(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let http = try await s.login()
        let p = try await s.createProject(http)
        let pid = try #require(p["id"]?.stringValue)
        let main = try await http.get("/projects/\(pid)/environments/main").json
        let branchHref = try #require(main["_links"]?["#branch"]?["href"]?.stringValue)
        #expect(main["_links"]?["#delete"] == nil)  // the default environment cannot be deleted
        #expect(main["_links"]?["#deactivate"] == nil)
        #expect(main["_links"]?["#activate"] == nil)

        let r = try await http.post(branchHref, ["name": "feature/login", "title": "Login", "type": "staging"])
        #expect(r.status == 201)
        let activity = try #require(r.json["_embedded"]?["activities"]?.arrayValue?.first)
        #expect(activity["type"]?.stringValue == "environment.branch")
        let done = try await waitForActivity(http, activity)
        #expect(done["result"]?.stringValue == "success")
        let child = try await http.get("/projects/\(pid)/environments/feature%2Flogin")
        #expect(child.status == 200)
        #expect(child.json["status"]?.stringValue == "active")
        #expect(child.json["parent"]?.stringValue == "main")
        #expect(child.json["type"]?.stringValue == "staging")
        #expect(child.json["machine_name"]?.stringValue?.hasPrefix("feature-login-") == true)
        #expect(child.json["_links"]?["self"]?["href"]?.stringValue == s.baseURL + "/api/projects/\(pid)/environments/feature%2Flogin")
        #expect(child.json["_links"]?["#deactivate"] != nil)
        #expect(child.json["_links"]?["#delete"] == nil)  // only inactive environments can be deleted

        #expect(try await http.post(branchHref, ["name": "feature/login"]).status == 409)
        let bad = try await http.post(branchHref, ["name": "has space"])
        #expect(bad.status == 400)
        #expect(bad.json["detail"]?["name"] != nil)
        #expect(try await http.post(branchHref, ["title": "no name"]).status == 400)
        #expect(try await http.post(branchHref, ["name": "x", "type": "production"]).status == 400)
        #expect(try await http.post(branchHref, ["name": "x", "type": "qa"]).status == 400)
        #expect(try await http.get("/projects/\(pid)/environments").json.arrayValue?.count == 2)
    }

    @Test("updates validate every field; default environment rules hold", arguments: Backend.allCases)
    func update(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let http = try await s.login()
        let pid = try #require(try await s.createProject(http)["id"]?.stringValue)
        let e = "/projects/\(pid)/environments/main"
        let ok = try await http.patch(e, ["title": "Production", "restrict_robots": true,
                                          "http_access": ["addresses": [["permission": "allow", "address": "10.0.0.0/8"]]]])
        #expect(ok.status == 200)
        #expect(ok.json["_embedded"]?["entity"]?["title"]?.stringValue == "Production")
        let types = Set(ok.json["_embedded"]?["activities"]?.arrayValue?.compactMap { $0["type"]?.stringValue } ?? [])
        #expect(types == ["environment.update.http_access", "environment.update.restrict_robots"])
        #expect(try await http.patch(e, ["type": "development"]).status == 400)
        #expect(try await http.patch(e, ["parent": "other"]).status == 400)
        #expect(try await http.patch(e, ["http_access": ["addresses": [["permission": "allow", "address": "999.1.1.1"]]]]).status == 400)
        #expect(try await http.patch(e, ["enable_smtp": "yes"]).status == 400)
        #expect(try await http.patch(e, ["name": "renamed"]).status == 400)
        let del = try await http.delete(e)
        #expect(del.status == 400)
        #expect(try await http.get(e).json["title"]?.stringValue == "Production")
        let child = try await http.post(e + "/branch", ["name": "dev"])
        _ = try await waitForActivity(http, try #require(child.json["_embedded"]?["activities"]?.arrayValue?.first))
        // Only inactive environments can be deleted; a merge without code is refused with the reason.
        #expect(try await http.delete("/projects/\(pid)/environments/dev").status == 400)
        let merge = try await http.post("/projects/\(pid)/environments/dev/merge")
        #expect(merge.status == 400 && merge.text.contains("no code to merge"), "\(merge.text)")
        #expect(try await http.post("/projects/\(pid)/environments/main/activate").status == 400)
        let deact = try await http.post("/projects/\(pid)/environments/dev/deactivate")
        #expect(deact.status == 200)
        _ = try await waitForActivity(http, try #require(deact.json["_embedded"]?["activities"]?.arrayValue?.first))
        #expect(try await http.get("/projects/\(pid)/environments/dev").json["status"] == "inactive")
        #expect(try await http.delete("/projects/\(pid)/environments/dev").status == 200)
    }
}
