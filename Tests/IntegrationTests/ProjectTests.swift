import Foundation
import GroveModel
import Testing

@Suite("Projects and subscriptions")
struct ProjectTests {
    @Test("a subscription provisions a project with a production default environment", arguments: Backend.allCases)
    func subscriptionProvisioning(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let http = try await s.login()
        let org = try #require(try await http.get("/organizations").json["items"]?.arrayValue?.first?["id"]?.stringValue)
        let sub = try await http.post("/organizations/\(org)/subscriptions", ["project_title": "Shop", "project_region": "local", "default_branch": "trunk"])
        #expect(sub.status == 201)
        #expect(["requested", "provisioning", "active"].contains(sub.json["status"]?.stringValue ?? ""))
        let pid = try #require(sub.json["project_id"]?.stringValue)
        let subHref = try #require(sub.json["_links"]?["self"]?["href"]?.stringValue)
        try await waitFor { try await http.get(subHref).json["status"]?.stringValue == "active" }
        let done = try await http.get(subHref).json
        #expect(done["project_ui"]?.stringValue?.contains(pid) == true)

        let p = try await http.get("/projects/\(pid)").json
        #expect(p["title"]?.stringValue == "Shop")
        #expect(p["default_branch"]?.stringValue == "trunk")
        #expect(p["organization"]?.stringValue == org)
        #expect(p["repository"]?["http_url"]?.stringValue == s.baseURL + "/\(pid).git")
        // With the SSH server on (tests give it a free port), the remote clients use is the SSH one.
        #expect(p["repository"]?["url"]?.stringValue == "ssh://\(pid)@127.0.0.1:\(s.sshPort)/\(pid).git")
        // Region resources link absolutely under /api, where clients find the project id.
        #expect(p["_links"]?["self"]?["href"]?.stringValue == s.baseURL + "/api/projects/\(pid)")
        #expect(p["_links"]?["#edit"] != nil)
        let envs = try await http.get("/projects/\(pid)/environments").json.arrayValue ?? []
        #expect(envs.count == 1)
        #expect(envs.first?["id"]?.stringValue == "trunk")
        #expect(envs.first?["type"]?.stringValue == "production")
        #expect(envs.first?["status"]?.stringValue == "active")
        #expect(envs.first?["is_main"]?.boolValue == true)
        let types = try await http.get("/projects/\(pid)/environment-types").json.arrayValue ?? []
        #expect(Set(types.compactMap { $0["id"]?.stringValue }) == ["production", "staging", "development"])
        #expect(try await http.get("/projects/\(pid)/environment-types/staging").status == 200)
        #expect(try await http.get("/projects/\(pid)/environment-types/qa").status == 404)
        let acts = try await http.get("/projects/\(pid)/activities").json.arrayValue ?? []
        #expect(acts.contains { $0["type"]?.stringValue == "project.create" && $0["result"]?.stringValue == "success" })
        let subs = try await http.get("/organizations/\(org)/subscriptions").json["items"]?.arrayValue ?? []
        #expect(subs.contains { $0["id"]?.stringValue == sub.json["id"]?.stringValue })
    }

    @Test("project update, settings, capabilities, listing, the CLI's ref lookups, delete", arguments: Backend.allCases)
    func projectLifecycle(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let http = try await s.login()
        let p = try await s.createProject(http, title: "Blog")
        let pid = try #require(p["id"]?.stringValue)
        let patched = try await http.patch("/projects/\(pid)", ["title": "Blog 2", "timezone": "Europe/Paris", "description": "d"])
        #expect(patched.status == 200)
        #expect(patched.json["status"]?.stringValue == "OK")
        #expect(patched.json["_embedded"]?["entity"]?["title"]?.stringValue == "Blog 2")
        #expect(patched.json["_embedded"]?["activities"]?.arrayValue?.first?["type"]?.stringValue == "project.modify.title")
        #expect(try await http.patch("/projects/\(pid)", ["timezone": "Mars/Base"]).status == 400)
        #expect(try await http.patch("/projects/\(pid)", ["default_branch": "nope"]).status == 400)
        #expect(try await http.patch("/projects/\(pid)", ["colour": "red"]).status == 400)
        #expect(try await http.get("/projects/\(pid)").json["title"]?.stringValue == "Blog 2")

        let settings = try await http.get("/projects/\(pid)/settings")
        #expect(settings.json["product_name"]?.stringValue == "Grove")
        #expect(try await http.patch("/projects/\(pid)/settings", ["enforce_mfa": true]).status == 200)
        #expect(try await http.get("/projects/\(pid)/settings").json["enforce_mfa"]?.boolValue == true)
        #expect(try await http.patch("/projects/\(pid)/settings", ["enforce_mfa": "yes"]).status == 400)
        #expect(try await http.patch("/projects/\(pid)/settings", ["no_such_setting": 1]).status == 400)
        #expect(try await http.get("/projects/\(pid)/capabilities").json["custom_domains"] != nil)
        let cleared = try await http.post("/projects/\(pid)/clear_build_cache")
        #expect(cleared.json["_embedded"]?["activities"]?.arrayValue?.count == 1)

        let list = try await http.get("/projects").json
        #expect(list["projects"]?.arrayValue?.contains { $0["id"]?.stringValue == pid } == true)
        let uid = try #require(try await http.get("/users/me").json["id"]?.stringValue)
        let access = try await http.get("/users/\(uid)/extended-access?filter[resource_type]=project").json
        #expect(access["items"]?.arrayValue?.first?["permissions"]?.arrayValue?.first?.stringValue == "admin")
        let refHref = try #require(access["_links"]?["ref:projects:0"]?["href"]?.stringValue)
        let refs = try await http.get(refHref).json
        #expect(refs[pid]?["title"]?.stringValue == "Blog 2")
        #expect(try await http.get("/ref/projects?in=\(pid),unknown").json["unknown"] == .null)

        let deleted = try await http.delete("/projects/\(pid)")
        #expect(deleted.status == 200)
        #expect(try await http.get("/projects/\(pid)").status == 404)
        #expect(try await http.get("/projects/\(pid)/environments").status == 404)
    }

    @Test("organization projects endpoint creates and lists projects", arguments: Backend.allCases)
    func orgProjects(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let http = try await s.login()
        let org = try #require(try await http.get("/organizations").json["items"]?.arrayValue?.first?["id"]?.stringValue)
        // A body naming another organization than the path is refused and creates nothing.
        let other = try await http.post("/organizations", ["label": "Other", "name": "other-org"])
        let otherId = try #require(other.json["id"]?.stringValue)
        let before = try await http.get("/organizations/\(org)/projects").json["count"]
        let mixed = try await http.post("/organizations/\(org)/projects", ["title": "Mixed", "region": "local", "organization_id": .string(otherId)])
        #expect(mixed.status == 400 && mixed.json["detail"]?["organization_id"] != nil, "\(mixed.text)")
        #expect(try await http.get("/organizations/\(org)/projects").json["count"] == before)
        #expect(try await http.get("/organizations/\(otherId)/projects").json["count"]?.intValue == 0)
        let created = try await http.post("/organizations/\(org)/projects", ["title": "API", "region": "local"])
        #expect(created.status == 201)
        let pid = try #require(created.json["id"]?.stringValue)
        #expect(try await http.get("/organizations/\(org)/projects").json["items"]?.arrayValue?.count == 1)
        #expect(try await http.get("/organizations/\(org)/projects/\(pid)").json["title"]?.stringValue == "API")
        #expect(try await http.post("/organizations/\(org)/projects", ["title": 5]).status == 400)
        #expect(try await http.post("/organizations/\(org)/projects", ["title": "x", "region": "mars-1"]).status == 400)
        #expect(try await http.post("/organizations/\(org)/projects", ["title": "x", "default_branch": "bad..name"]).status == 400)
    }
}

/// Deleting a project takes down everything that runs for it before its records go.
@Suite("Project deletion")
struct ProjectDeletionTests {
    @Test("deleting a project stops its applications, services and routes and removes their data and repository")
    func deletionStopsEverything() async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let (http, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit([".platform.app.yaml": "name: app\ntype: python:3.11\nrelationships:\n  cache: \"cache:redis\"\nweb:\n  commands:\n    start: python3 -m http.server $PORT --bind 127.0.0.1\n",
                         ".platform/services.yaml": "cache:\n  type: redis:7.0\n", "index.html": "alive\n",
                         ".platform/routes.yaml": "\"http://{default}/\":\n  type: upstream\n  upstream: \"app:http\"\n"])
        let (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        #expect(try s.fetch(pid).1.contains("alive"))
        let rels = try await http.get("/projects/\(pid)/environments/main/relationships").json
        let cache = try #require(rels["app"]?["cache"]?.arrayValue?.first)
        let host = try #require(cache["grove_host"]?.stringValue), port = cache["port"]?.intValue ?? 0
        let (_, pong) = try Spawn.run("/usr/bin/redis-cli", ["-h", host, "-p", "\(port)", "--no-auth-warning", "-a", cache["password"]?.stringValue ?? "", "ping"])
        #expect(pong.contains("PONG"), "\(pong)")
        #expect(FileManager.default.fileExists(atPath: s.dataDir + "/volumes"), "the service has a volume")

        #expect(try await http.delete("/projects/\(pid)").status == 200)
        #expect(try await http.get("/projects/\(pid)").status == 404)
        // The route, the application and the service are gone, and so is the data.
        let page = try s.fetch(pid)
        #expect(!page.1.contains("alive"), "\(page)")
        let (_, after) = try Spawn.run("/usr/bin/redis-cli", ["-h", host, "-p", "\(port)", "--no-auth-warning", "-a", cache["password"]?.stringValue ?? "", "ping"])
        #expect(!after.contains("PONG"), "the service no longer answers: \(after)")
        let (_, ps) = try Spawn.run("/bin/sh", ["-c", "ps -eo args | grep -F -- '\(pid)' | grep -v grep || true"])
        #expect(!ps.contains("http.server") && !ps.contains("redis-server"), "no process of the project is left: \(ps)")
        let volumes = (try? FileManager.default.subpathsOfDirectory(atPath: s.dataDir + "/volumes")) ?? []
        #expect(!volumes.contains { $0.contains(pid) }, "its volumes are deleted: \(volumes.filter { $0.contains(pid) })")
        #expect(!FileManager.default.fileExists(atPath: s.dataDir + "/repositories/\(pid).git"))
    }
}
