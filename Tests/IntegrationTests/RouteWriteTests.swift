import Foundation
import GroveModel
import Testing

@Suite("Routes API writes commit to .platform/routes.yaml")
struct RouteWriteTests {
    @Test("create, update and delete a route: each a commit that deploys; bad edits refused", arguments: [Backend.sqlite])
    func routeWrites(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let (http, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit([".platform.app.yaml": DomainTLSTests.app, "index.html": "up\n",
                         ".platform/routes.yaml": "\"https://{default}/\": {type: upstream, upstream: \"app:http\"}\n"])
        let (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        let env = "/projects/\(pid)/environments/main"
        let host = "main-\(pid).localhost"
        func location(_ path: String) throws -> String {
            try Spawn.run("/usr/bin/curl", ["-s", "-k", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "--resolve", "\(host):\(s.routerTLSPort):127.0.0.1",
                                            "https://\(host):\(s.routerTLSPort)\(path)"]).1
        }

        var r = try await http.post(env + "/routes", ["production_url": "https://{default}/old/", "type": "redirect", "to": "https://{default}/"])
        #expect(r.status == 201, "\(r.text)")
        var a = try await waitForActivity(http, try #require(r.json["_embedded"]?["activities"]?.arrayValue?.first))
        #expect(a["result"] == "success" && a["type"] == "environment.route.create", "\(a)")
        #expect(try location("/old/") == "301 https://\(host):\(s.routerTLSPort)/")
        let head = try #require(try await http.get(env).json["head_commit"]?.stringValue)
        #expect(try await http.get("/projects/\(pid)/git/commits/\(head)").json["message"]?.stringValue?.hasPrefix("Add route https://{default}/old/") == true)
        #expect(try await http.get(env + "/routes").json.arrayValue?.contains { $0["original_url"] == "https://{default}/old/" } == true)

        // Update by the template (URL-encoded) and by the served URL; delete.
        let key = "https://{default}/old/".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        r = try await http.patch(env + "/routes/\(key)", ["to": "https://{default}/?from=old"])
        #expect(r.status == 200, "\(r.text)")
        a = try await waitForActivity(http, try #require(r.json["_embedded"]?["activities"]?.arrayValue?.first))
        #expect(a["result"] == "success", "\(a)")
        let moved = try location("/old/")
        #expect(moved == "301 https://\(host):\(s.routerTLSPort)/?from=old", "\(moved)")
        let served = "https://\(host):\(s.routerTLSPort)/old/".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        r = try await http.delete(env + "/routes/\(served)")
        #expect(r.status == 200, "\(r.text)")
        a = try await waitForActivity(http, try #require(r.json["_embedded"]?["activities"]?.arrayValue?.first))
        let deleteLog = try await http.get("/projects/\(pid)/activities/\(a["id"]?.stringValue ?? "")").json["log"]?.stringValue ?? ""
        #expect(a["result"] == "success", "\(a) \(deleteLog)")
        #expect(try await http.get(env + "/routes").json.arrayValue?.contains { $0["original_url"] == "https://{default}/old/" } == false)
        #expect(try s.fetch(pid).1.contains("up"))

        // Bad edits change nothing.
        let before = try await http.get(env).json["head_commit"]
        r = try await http.post(env + "/routes", ["production_url": "https://{default}/x/", "type": "upstream", "to": "ghost:http"])
        #expect(r.status == 400 && r.text.contains("ghost"), "\(r.text)")
        r = try await http.post(env + "/routes", ["production_url": "https://{default}/", "type": "upstream", "to": "app:http"])
        #expect(r.status == 409, "\(r.text)")
        r = try await http.post(env + "/routes", ["production_url": "https://{default}/y/", "type": "bogus", "to": "x"])
        #expect(r.status == 400)
        r = try await http.patch(env + "/routes/nothing-here", ["to": "https://{default}/"])
        #expect(r.status == 404)
        #expect(try await http.get(env).json["head_commit"] == before)
    }
}
