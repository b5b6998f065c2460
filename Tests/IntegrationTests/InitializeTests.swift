import Foundation
import GroveModel
import Testing

@Suite("Initialize: a project's first code from a template repository")
struct InitializeTests {
    static let app = "name: app\ntype: python:3.12\nweb:\n  commands:\n    start: python3 -m http.server $PORT\n"

    /// A template on a local stand-in for GitHub: an application that serves its files, on `main` and on `v2`.
    static func template(_ provider: FakeProvider) throws -> Upstream {
        let u = try repository(provider, "templates/site.git")
        _ = try u.tree.commit([".platform.app.yaml": app, ".platform/routes.yaml": GitPushTests.routes, "index.html": "template v1\n",
                               "config.json": "{\"from\": \"template\"}\n"], message: "template one")
        _ = try u.tree.commit(["index.html": "template v1, second commit\n"], message: "template two")
        try u.push("HEAD:refs/heads/main")
        try u.tree.git(["checkout", "-q", "-b", "v2"])
        _ = try u.tree.commit(["index.html": "template v2\n"], message: "v2")
        try u.push("HEAD:refs/heads/v2")
        return u
    }

    /// An empty repository served by the fake at `path`, whose default branch is main.
    static func repository(_ provider: FakeProvider, _ path: String) throws -> Upstream {
        let bare = provider.dir + "/root/" + path
        try FileManager.default.createDirectory(atPath: bare, withIntermediateDirectories: true)
        guard try Spawn.run("/usr/bin/git", ["init", "-q", "--bare", "-b", "main", bare]).0 == 0 else { throw TestFailure("git init failed") }
        let u = Upstream(bare: bare, tree: GitWorkTree(remote: bare))
        try u.tree.initialize()
        return u
    }

    /// A configuration repository: one file of its own, one the template has too.
    static func configuration(_ provider: FakeProvider) throws -> Upstream {
        let u = try repository(provider, "templates/config.git")
        _ = try u.tree.commit(["settings/extra.txt": "from the configuration\n", "config.json": "{\"from\": \"configuration\"}\n"], message: "config")
        try u.push("HEAD:refs/heads/main")
        return u
    }

    @Test("a template, a configuration repository and files become one first commit that deploys; only once, only by admins")
    func initialize() async throws {
        let provider = try await FakeProvider.start()
        defer { provider.stop() }
        let upstream = try Self.template(provider), config = try Self.configuration(provider)
        defer { upstream.remove(); config.remove() }
        let s = try await TestServer.start(.sqlite, extraArgs: ["--allow-private-targets"])
        defer { s.stopNow() }
        let http = try await s.login()
        let pid = try #require(try await s.createProject(http)["id"]?.stringValue)
        let main = try await http.get("/projects/\(pid)/environments/main").json
        #expect(main["_links"]?["#initialize"]?["href"]?.stringValue?.hasSuffix("/environments/main/initialize") == true, "\(main["_links"] ?? .null)")

        let script = Data("#!/bin/sh\necho hi\n".utf8).base64EncodedString()
        let r = try await http.post("/projects/\(pid)/environments/main/initialize", [
            "profile": "Site", "repository": .string(provider.base + "/templates/site.git@v2"), "config": .string(provider.base + "/templates/config.git"),
            "files": [["path": "config.json", "mode": 384, "contents": .string(Data("{\"from\": \"request\"}\n".utf8).base64EncodedString())],
                      ["path": "bin/run.sh", "mode": 493, "contents": .string(script)]],
        ])
        #expect(r.status == 200, "\(r.text)")
        let queued = try #require(r.json["_embedded"]?["activities"]?.arrayValue?.first)
        #expect(queued["type"]?.stringValue == "environment.initialize" && !queued.serialized().contains(script), "\(queued)")
        let done = try await waitForActivity(http, queued)
        let log = try await http.get("/projects/\(pid)/activities/\(done["id"]?.stringValue ?? "")/log").text
        #expect(done["result"]?.stringValue == "success", "\(log)")
        #expect(log.contains("Fetching the template") && log.contains("Building application 'app'"), "\(log)")

        // main is active at a single parentless commit: the v2 branch with the request's files over it.
        let env = try await http.get("/projects/\(pid)/environments/main").json
        #expect(env["status"]?.stringValue == "active" && env["_links"]?["#initialize"] == nil, "\(env)")
        let head = try #require(env["head_commit"]?.stringValue)
        let (st, body) = try s.fetch(pid)
        #expect(st == 200 && body == "template v2\n", "\(st) \(body)")
        let tree = GitWorkTree(remote: try #require(try await http.get("/projects/\(pid)").json["repository"]?["http_url"]?.stringValue)
            .replacingOccurrences(of: "http://", with: "http://grove:\(s.initialToken)@"))
        defer { tree.remove() }
        let (cst, cout) = try Spawn.run("/usr/bin/git", ["clone", "-q", tree.remote, tree.dir])
        #expect(cst == 0, "\(cout)")
        #expect(try tree.git(["rev-list", "--count", "HEAD"]).1.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        #expect(try tree.git(["rev-parse", "HEAD"]).1.trimmingCharacters(in: .whitespacesAndNewlines) == head)
        #expect(try String(contentsOfFile: tree.dir + "/config.json", encoding: .utf8).contains("request"))
        #expect(try String(contentsOfFile: tree.dir + "/settings/extra.txt", encoding: .utf8) == "from the configuration\n")
        #expect(try tree.git(["ls-files", "-s", "bin/run.sh"]).1.hasPrefix("100755"))
        #expect(try tree.git(["log", "-1", "--format=%s%n%b"]).1.contains("Initialize Site"))
        // Nothing of the request is left behind in the repository.
        let refs = try Spawn.run("/usr/bin/git", ["--git-dir=" + s.dataDir + "/repositories/\(pid).git", "for-each-ref"])
        #expect(!refs.1.contains("refs/grove/initialize"), "\(refs.1)")

        // Once there is code, initialize is refused.
        let again = try await http.post("/projects/\(pid)/environments/main/initialize", ["repository": .string(provider.base + "/templates/site.git")])
        #expect(again.status == 400 && again.text.contains("Operation not available"), "\(again.text)")

        // Maintenance redeploys: the project's queues one per active environment; the environment's own link works too.
        #expect(env["_links"]?["#maintenance-redeploy"]?["href"]?.stringValue?.hasSuffix("/main/maintenance-redeploy") == true)
        let maintenance = try await http.post("/projects/\(pid)/maintenance-redeploy")
        let redeploys = maintenance.json["_embedded"]?["activities"]?.arrayValue ?? []
        #expect(maintenance.status == 200 && redeploys.count == 1 && redeploys.first?["type"]?.stringValue == "environment.maintenance-redeploy",
                "\(maintenance.text)")
        for a in redeploys { #expect(try await waitForActivity(http, a)["result"]?.stringValue == "success") }
        let one = try await http.post("/projects/\(pid)/environments/main/maintenance-redeploy")
        #expect(try await waitForActivity(http, try #require(one.json["_embedded"]?["activities"]?.arrayValue?.first))["result"]?.stringValue == "success")
        #expect(try s.fetch(pid).1 == "template v2\n")
        let system = try await http.get("/projects/\(pid)/system").json
        #expect(system["version"]?.stringValue?.isEmpty == false && system["started_at"]?.stringValue?.isEmpty == false, "\(system)")

        // A contributor cannot initialize (a new project, so the state allows it), nor ask for maintenance redeploys.
        let other = try #require(try await s.createProject(http, title: "Other")["id"]?.stringValue)
        let email = "contrib-\(UUID().uuidString.prefix(6))@example.com"
        let token = try s.createUser(email: email)
        let viewer = try await s.login(token: token)
        let viewerId = try #require(try await viewer.get("/users/me").json["id"]?.stringValue)
        let grant = try await http.post("/projects/\(other)/user-access", .array([["user_id": .string(viewerId), "permissions": ["viewer", "production:contributor"]]]))
        #expect(grant.status == 204, "\(grant.text)")
        let refused = try await viewer.post("/projects/\(other)/environments/main/initialize", ["repository": .string(provider.base + "/templates/site.git")])
        #expect(refused.status == 403, "\(refused.text)")
        #expect(try await viewer.post("/projects/\(other)/maintenance-redeploy").status == 403)

        // The CLI: environment:init with the remote's default branch.
        let cli = ["GROVE_CONFIG_DIR": s.dataDir + "-cli", "GROVE_API_URL": s.baseURL, "GROVE_TOKEN": s.initialToken]
        let (code, out) = try CLI.run(["environment:init", "-p", other, "-e", "main", "--profile", "Default", provider.base + "/templates/site.git"], env: cli)
        #expect(code == 0, "\(out)")
        let (ost, obody) = try s.fetch(other)
        #expect(ost == 200 && obody == "template v1, second commit\n", "\(ost) \(obody)")
    }

    @Test("hostile sources and files are refused before anything is queued; a missing branch fails the activity and leaves nothing")
    func refusals() async throws {
        let provider = try await FakeProvider.start()
        defer { provider.stop() }
        let upstream = try Self.template(provider)
        defer { upstream.remove() }
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let http = try await s.login()
        let pid = try #require(try await s.createProject(http)["id"]?.stringValue)
        let path = "/projects/\(pid)/environments/main/initialize"
        // This machine and private networks are not fetched unless the operator allows it.
        var r = try await http.post(path, ["repository": .string(provider.base + "/templates/site.git")])
        #expect(r.status == 400 && r.text.contains("allow-private-targets") && r.json["detail"]?["repository"] != nil, "\(r.text)")
        for bad in ["file:///etc", "/var/lib/grove/repositories/x.git", "ext::sh -c id", "ssh://git@github.com/x.git", "https://u:p@github.com/x.git",
                    "https://github.com/x.git@--upload-pack=touch", "http://169.254.169.254/latest.git", "http://[::1]/x.git"] {
            r = try await http.post(path, ["repository": .string(bad)])
            #expect(r.status == 400 && r.json["detail"]?["repository"] != nil, "\(bad): \(r.text)")
        }
        let ok = "https://github.com/platformsh-templates/flask.git"
        for (files, why) in [([["path": "../escape", "contents": ""]], "'..'"), ([["path": ".git/hooks/post-update"]], ".git"),
                             ([["path": "/etc/passwd"]], "absolute"), ([["path": "a//b"]], "empty segment"),
                             ([["path": "x"], ["path": "x"]], "twice"), ([["path": "d"], ["path": "d/f"]], "as a file and as the directory"),
                             ([["path": "x", "contents": "%%%"]], "base64"), ([["path": "x", "mode": "0644"]], "mode"),
                             ([["path": "x", "owner": "root"]], "unknown field"), ([["path": "a\nb"]], "control")] as [(JSON, String)] {
            r = try await http.post(path, ["repository": .string(ok), "files": files])
            #expect(r.status == 400 && r.text.contains(why) && r.json["detail"]?["files"] != nil, "\(files): \(r.text)")
        }
        let many = JSON.array((0..<201).map { .object(JSONObject([("path", .string("f\($0)"))])) })
        r = try await http.post(path, ["repository": .string(ok), "files": many])
        #expect(r.status == 400 && r.text.contains("at most 200"), "\(r.text)")
        r = try await http.post(path, ["repository": .string(ok), "extra": true])
        #expect(r.status == 400 && r.json["detail"]?["extra"] != nil, "\(r.text)")
        r = try await http.post(path, [:])
        #expect(r.status == 400, "\(r.text)")
        let activities = try await http.get("/projects/\(pid)/activities?type=environment.initialize").json.arrayValue ?? []
        #expect(activities.isEmpty, "\(activities)")
    }

    @Test("a branch the template does not have fails the activity; the project stays without code and can be initialized again")
    func missingBranch() async throws {
        let provider = try await FakeProvider.start()
        defer { provider.stop() }
        let upstream = try Self.template(provider)
        defer { upstream.remove() }
        let s = try await TestServer.start(.sqlite, extraArgs: ["--allow-private-targets"])
        defer { s.stopNow() }
        let http = try await s.login()
        let pid = try #require(try await s.createProject(http)["id"]?.stringValue)
        let path = "/projects/\(pid)/environments/main/initialize"
        let files: JSON = [["path": "secret.txt", "contents": .string(Data("s3cret".utf8).base64EncodedString())]]
        let r = try await http.post(path, ["repository": .string(provider.base + "/templates/site.git@nope"), "files": files])
        #expect(r.status == 200, "\(r.text)")
        let done = try await waitForActivity(http, try #require(r.json["_embedded"]?["activities"]?.arrayValue?.first))
        let log = try await http.get("/projects/\(pid)/activities/\(done["id"]?.stringValue ?? "")/log").text
        #expect(done["result"]?.stringValue == "failure" && log.contains("nope"), "\(log)")
        let env = try await http.get("/projects/\(pid)/environments/main").json
        #expect(env["head_commit"] == .null && env["_links"]?["#initialize"] != nil, "\(env)")
        let refs = try Spawn.run("/usr/bin/git", ["--git-dir=" + s.dataDir + "/repositories/\(pid).git", "for-each-ref"])
        #expect(!refs.1.contains("refs/grove/initialize"), "\(refs.1)")
        // Cancelled at once (before it starts, or while it runs): its files do not stay behind either.
        let cancelled = try await http.post(path, ["repository": .string(provider.base + "/templates/site.git"), "files": files])
        let first = try #require(cancelled.json["_embedded"]?["activities"]?.arrayValue?.first)
        _ = try await http.post("/projects/\(pid)/activities/\(first["id"]?.stringValue ?? "")/cancel")
        _ = try await waitForActivity(http, first)
        var left = try Spawn.run("/usr/bin/git", ["--git-dir=" + s.dataDir + "/repositories/\(pid).git", "for-each-ref"])
        #expect(!left.1.contains("refs/grove/initialize"), "\(left.1)")
        if try await http.get("/projects/\(pid)/environments/main").json["head_commit"] == .null {
            let again = try await http.post(path, ["repository": .string(provider.base + "/templates/site.git")])
            #expect(again.status == 200, "\(again.text)")
            #expect(try await waitForActivity(http, try #require(again.json["_embedded"]?["activities"]?.arrayValue?.first))["result"]?.stringValue == "success")
        }
        left = try Spawn.run("/usr/bin/git", ["--git-dir=" + s.dataDir + "/repositories/\(pid).git", "for-each-ref"])
        #expect(!left.1.contains("refs/grove/initialize"), "\(left.1)")
    }
}
