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

    /// The list renders each environment once per distinct input (record, caller's access, busy state, deployment): with
    /// the response cache off, every answer must still follow each change and each caller.
    @Test("the environment list follows every edit and every caller's access", arguments: Backend.allCases)
    func listFollowsChanges(backend: Backend) async throws {
        let s = try await TestServer.start(backend, extraArgs: ["--no-response-cache"])
        defer { s.stopNow() }
        let admin = try await s.login()
        let pid = try #require(try await s.createProject(admin)["id"]?.stringValue)
        let list = "/projects/\(pid)/environments"
        func titles(_ http: HTTP) async throws -> [String] {
            try await http.get(list).json.arrayValue?.compactMap { $0["title"]?.stringValue } ?? []
        }
        #expect(try await titles(admin) == ["Main"])
        for title in ["First", "Second", "Main"] {
            #expect(try await admin.patch(list + "/main", ["title": .string(title)]).status == 200)
            #expect(try await titles(admin) == [title])
        }
        let b = try await admin.post(list + "/main/branch", ["name": "dev"])
        _ = try await waitForActivity(admin, try #require(b.json["_embedded"]?["activities"]?.arrayValue?.first))
        // Each entry of the list is what a GET of that environment answers.
        for e in try await admin.get(list).json.arrayValue ?? [] {
            let id = try #require(e["id"]?.stringValue)
            #expect(try await admin.get(list + "/" + id).json == e)
        }
        // Another caller with less access gets their own links from the same records.
        let token = try s.createUser(email: "vera@example.com")
        let (st, out) = try s.admin(["admin:grant", "-p", pid, "--email", "vera@example.com", "--permission", "viewer",
                                      "--permission", "production:viewer", "--permission", "development:viewer"])
        #expect(st == 0, "\(out)")
        let viewer = try await s.login(token: token)
        let seen = try await viewer.get(list).json.arrayValue ?? []
        #expect(seen.count == 2)
        #expect(seen.allSatisfy { $0["_links"]?["#edit"] == nil })
        #expect((try await admin.get(list).json.arrayValue ?? []).allSatisfy { $0["_links"]?["#edit"] != nil })
    }
}
