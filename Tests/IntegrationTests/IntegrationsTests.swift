import Crypto
import Foundation
import GroveModel
import Testing

/// A local stand-in for a provider or receiver (Tests/Fixtures/provider-fake.py): static files over HTTP (bare
/// repositories over git's dumb protocol) and every POST recorded.
struct FakeProvider {
    let dir: String
    let port: String
    let child: Spawned

    /// `tls`: HTTPS with a self-signed certificate made by openssl.
    static func start(failFirst: Int = 0, tls: Bool = false) async throws -> FakeProvider {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("provider-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir + "/root", withIntermediateDirectories: true)
        var args = [Paths.root.appendingPathComponent("Tests/Fixtures/provider-fake.py").path, dir + "/root", dir + "/log", dir + "/port", String(failFirst)]
        if tls {
            let (status, out) = try Spawn.run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=sink.test",
                                                                 "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem"])
            guard status == 0 else { throw TestFailure("openssl could not make the fake's certificate: \(out)") }
            args += [dir + "/cert.pem", dir + "/key.pem"]
        }
        let child = try Spawn.start("/usr/bin/python3", args)
        let port: String
        do { port = try await child.announced(dir + "/port") } catch { child.signal(SIGKILL); _ = child.wait(); throw error }
        return FakeProvider(dir: dir, port: port, child: child, tls: tls)
    }

    var tls = false
    var base: String { "\(tls ? "https" : "http")://127.0.0.1:\(port)" }

    /// The POSTs received so far.
    func requests() -> [JSON] {
        let text = (try? String(contentsOfFile: dir + "/log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSON.parse(String($0)) }
    }

    func waitForRequest(timeout: Double = 60, _ match: (JSON) -> Bool) async throws -> JSON {
        var found: JSON?
        try await waitFor(timeout: timeout) {
            found = requests().first(where: match)
            return found != nil
        }
        return found ?? .null
    }

    func stop() {
        child.signal(SIGKILL)
        _ = child.wait()
        try? FileManager.default.removeItem(atPath: dir)
    }
}

/// A provider's repository on the fake: a bare repository served over git's dumb HTTP protocol and a work tree.
struct Upstream {
    let bare: String
    let tree: GitWorkTree

    /// Main with an application, and a pull request commit on top of it at `pullRef`; (repository, main, pull request).
    static func make(_ provider: FakeProvider, _ path: String, pullRef: String, pullContent: String) throws -> (Upstream, String, String) {
        let bare = provider.dir + "/root/" + path
        try FileManager.default.createDirectory(atPath: bare, withIntermediateDirectories: true)
        guard try Spawn.run("/usr/bin/git", ["init", "-q", "--bare", bare]).0 == 0 else { throw TestFailure("git init failed") }
        let u = Upstream(bare: bare, tree: GitWorkTree(remote: bare))
        try u.tree.initialize()
        let app = "name: app\ntype: python:3.12\nweb:\n  commands:\n    start: python3 -m http.server $PORT\n"
        let first = try u.tree.commit([".platform.app.yaml": app, ".platform/routes.yaml": GitPushTests.routes, "index.html": "v1\n"], message: "first")
        try u.push("HEAD:refs/heads/main")
        try u.tree.git(["checkout", "-q", "-b", "feature"])
        let pr = try u.tree.commit(["index.html": pullContent], message: "pr")
        try u.push("HEAD:" + pullRef)
        return (u, first, pr)
    }

    /// Pushes and refreshes what the dumb protocol serves.
    func push(_ refspec: String) throws {
        let (st, out) = try tree.push([refspec])
        guard st == 0 else { throw TestFailure("push \(refspec) failed: \(out)") }
        guard try Spawn.run("/usr/bin/git", ["--git-dir=" + bare, "update-server-info"]).0 == 0 else { throw TestFailure("update-server-info failed") }
    }

    /// A new commit on main, pushed; its id.
    func commitToMain(_ files: [String: String]) throws -> String {
        try tree.git(["checkout", "-q", "main"])
        let c = try tree.commit(files, message: "next")
        try push("HEAD:refs/heads/main")
        return c
    }

    func remove() { tree.remove() }
}

func hmacHex(_ key: String, _ body: [UInt8]) -> String {
    HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(key.utf8))).map { String(format: "%02x", $0) }.joined()
}

@Suite("Integrations: the API, webhooks, source repositories")
struct IntegrationsTests {
    @Test("every type is created, read, updated and deleted; secrets never come back; admins only; bad input refused")
    func api() async throws {
        let s = try await TestServer.start(.sqlite, extraArgs: ["--allow-private-targets"])
        defer { s.stopNow() }
        let http = try await s.login()
        let pid = try #require(try await s.createProject(http)["id"]?.stringValue)
        let base = "/projects/\(pid)/integrations"
        #expect(try await http.get(base).json == .array([]))

        let target = "http://127.0.0.1:9/receiver"
        let bodies: [JSON] = [
            ["type": "webhook", "url": .string(target), "shared_key": "hunter2-webhook", "events": ["environment.push"], "states": ["complete", "in_progress"]],
            ["type": "script", "script": "console.log(activity.type);", "events": ["*"]],
            ["type": "health.email", "recipients": ["ops@example.com", "#admins"], "from_address": "grove@example.com"],
            ["type": "health.webhook", "url": .string(target), "shared_key": "hunter2-health"],
            ["type": "health.slack", "token": "xoxb-hunter2", "channel": "#ops"],
            ["type": "health.pagerduty", "routing_key": "R0UT1NG"],
            ["type": "syslog", "host": "127.0.0.1", "port": 5514, "protocol": "udp", "auth_token": "hunter2-syslog"],
            ["type": "httplog", "url": .string(target), "headers": ["Authorization": "Bearer hunter2-http"]],
            ["type": "splunk", "url": .string(target), "index": "main", "token": "hunter2-splunk"],
            ["type": "sumologic", "url": .string(target), "category": "grove"],
            ["type": "newrelic", "url": .string(target), "license_key": "hunter2-newrelic"],
            ["type": "otlplog", "url": .string(target), "headers": ["X-Key": "hunter2-otlp"]],
        ]
        var ids: [String] = []
        for body in bodies {
            let r = try await http.post(base, body)
            #expect(r.status == 201, "\(body["type"] ?? .null): \(r.text)")
            let entity = r.json["_embedded"]?["entity"] ?? .null
            #expect(entity["type"] == body["type"] && entity["role"]?.stringValue != nil && entity["created_at"]?.stringValue != nil)
            #expect(!r.text.contains("hunter2"), "a secret came back: \(r.text)")
            #expect(r.json["_embedded"]?["activities"]?.arrayValue?.first?["type"]?.stringValue == "integration.create")
            ids.append(try #require(entity["id"]?.stringValue))
        }
        let list = try await http.get(base)
        #expect(list.json.arrayValue?.count == bodies.count)
        #expect(!list.text.contains("hunter2"))
        let webhook = try await http.get("\(base)/\(ids[0])").json
        #expect(webhook["shared_key"] == .null && webhook["url"]?.stringValue == target)
        #expect(webhook["events"] == ["environment.push"] && webhook["excluded_environments"] == [] && webhook["result"]?.stringValue == "*")
        #expect(try await http.get("\(base)/\(ids[7])").json["headers"] == ["Authorization": "******"])
        #expect(try await http.get("\(base)/\(ids[6])").json["facility"]?.intValue == 1)

        // Updates: one field changes, the secret stays unless given; the type cannot change.
        var r = try await http.patch("\(base)/\(ids[0])", ["events": ["*"], "result": "failure"])
        #expect(r.status == 200 && r.json["_embedded"]?["entity"]?["events"] == ["*"], "\(r.text)")
        r = try await http.patch("\(base)/\(ids[0])", ["type": "script"])
        #expect(r.status == 400 && r.text.contains("type"))
        r = try await http.patch("\(base)/\(ids[0])", ["result": "maybe"])
        #expect(r.status == 400 && r.json["detail"]?["result"] != nil, "\(r.text)")

        // Source integrations: one per project, a hook link, fields of their own.
        let github: JSON = ["type": "github", "token": "ghp_hunter2", "repository": "acme/app", "base_url": "http://127.0.0.1:9/api/v3"]
        r = try await http.post(base, github)
        #expect(r.status == 201, "\(r.text)")
        let gh = r.json["_embedded"]?["entity"] ?? .null
        #expect(gh["_links"]?["#hook"]?["href"]?.stringValue?.hasSuffix("/integrations/\(gh["id"]?.stringValue ?? "")/hook") == true)
        #expect(gh["fetch_branches"] == true && gh["build_pull_requests"] == true && gh["token_type"]?.stringValue == "classic_personal_token")
        #expect(!r.text.contains("hunter2"))
        #expect((r.json["_embedded"]?["activities"]?.arrayValue ?? []).contains { $0["type"]?.stringValue == "integration.github.fetch" })
        #expect(try await http.post(base, ["type": "gitlab", "token": "t", "project": "acme/app"]).status == 409)
        #expect(try await http.delete("\(base)/\(gh["id"]?.stringValue ?? "")").status == 200)
        for body: JSON in [["type": "gitlab", "token": "glpat", "project": "group/sub/app", "base_url": "http://127.0.0.1:9"],
                           ["type": "bitbucket", "repository": "team/app", "app_credentials": ["key": "k", "secret": "hunter2-bb"]],
                           ["type": "bitbucket_server", "url": "http://127.0.0.1:9", "username": "u", "token": "hunter2-bbs", "project": "P", "repository": "app"]] {
            r = try await http.post(base, body)
            #expect(r.status == 201, "\(r.text)")
            #expect(!r.text.contains("hunter2"))
            let e = r.json["_embedded"]?["entity"] ?? .null
            if body["type"] == "bitbucket" { #expect(e["app_credentials"] == ["key": "k"]) }
            #expect(try await http.delete("\(base)/\(e["id"]?.stringValue ?? "")").status == 200)
        }

        // Refusals name the field and change nothing.
        let before = try await http.get(base).json.arrayValue?.count
        for (body, needle) in [(["type": "blackfire", "server_id": "x", "server_token": "y"], "not available"),
                               (["type": "carrier-pigeon"], "not an integration type"),
                               (["url": .string(target)], "type"),
                               (["type": "webhook"], "url"),
                               (["type": "webhook", "url": "ftp://example.com/x"], "http"),
                               (["type": "webhook", "url": .string(target), "colour": "red"], "colour"),
                               (["type": "webhook", "url": .string(target), "events": "environment.push"], "events"),
                               (["type": "github", "token": "t", "repository": "../../etc"], "repository"),
                               (["type": "health.email", "recipients": ["not an address"]], "recipients"),
                               (["type": "syslog", "host": "127.0.0.1", "protocol": "carrier"], "protocol"),
                               (["type": "httplog", "url": .string(target), "headers": ["Bad Header": "x"]], "headers")] as [(JSON, String)] {
            let refused = try await http.post(base, body)
            #expect(refused.status == 400 && refused.text.contains(needle), "\(body): \(refused.text)")
        }
        // Bombs: a script over 256 KiB, a 201-entry filter, a NUL anywhere.
        for (body, needle) in [(["type": "script", "script": .string(String(repeating: "x", count: 256 * 1024 + 1))], "script"),
                               (["type": "webhook", "url": .string(target), "events": JSON((0...200).map { "e\($0)" })], "events"),
                               (["type": "webhook", "url": .string(target), "shared_key": "a\u{0}b"], "NUL")] as [(JSON, String)] {
            let refused = try await http.post(base, body)
            #expect(refused.status == 400 && refused.text.contains(needle), "\(refused.text.prefix(300))")
        }
        #expect(try await http.get(base).json.arrayValue?.count == before)

        // Another project's integration is not reachable through this one.
        let other = try #require(try await s.createProject(http, title: "Other")["id"]?.stringValue)
        #expect(try await http.get("/projects/\(other)/integrations/\(ids[0])").status == 404)
        #expect(try await http.patch("/projects/\(other)/integrations/\(ids[0])", ["events": ["*"]]).status == 404)
        #expect(try await http.delete("/projects/\(other)/integrations/\(ids[0])").status == 404)
        #expect(try await http.get("/projects/\(pid)/integrations/\(ids[0])").status == 200)

        // Viewers and strangers do not see or change integrations.
        let token = try s.createUser(email: "viewer@example.com")
        let viewer = try await s.login(token: token)
        let (st, out) = try s.admin(["admin:grant", "-p", pid, "--email", "viewer@example.com", "--permission", "viewer", "--permission", "production:viewer"])
        #expect(st == 0, "\(out)")
        #expect(try await viewer.get(base).status == 403)
        #expect(try await viewer.post(base, ["type": "webhook", "url": .string(target)]).status == 403)
        #expect(try await viewer.delete("\(base)/\(ids[0])").status == 403)

        // Every change is an integration.* activity naming the integration.
        let acts = try await http.get("/projects/\(pid)/activities?integration=\(ids[0])").json.arrayValue ?? []
        let types = Set(acts.compactMap { $0["type"]?.stringValue })
        #expect(types.isSuperset(of: ["integration.create", "integration.update"]), "\(types)")
        #expect(acts.allSatisfy { $0["integration"]?.stringValue == ids[0] })
        for id in ids { #expect(try await http.delete("\(base)/\(id)").status == 200) }
        #expect(try await http.get("\(base)/\(ids[0])").status == 404)
    }

    @Test("targets on this machine or private networks are refused without --allow-private-targets")
    func privateTargets() async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let http = try await s.login()
        let pid = try #require(try await s.createProject(http)["id"]?.stringValue)
        for url in ["http://127.0.0.1:8000/projects", "http://localhost/", "http://10.1.2.3/x", "http://169.254.169.254/latest/meta-data",
                    "http://[::1]:8000/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "http://192.168.1.1/", "http://user:pw@93.184.215.14/"] {
            let r = try await http.post("/projects/\(pid)/integrations", ["type": "webhook", "url": .string(url)])
            #expect(r.status == 400 && r.json["detail"]?["url"] != nil, "\(url): \(r.text)")
        }
        let r = try await http.post("/projects/\(pid)/integrations", ["type": "syslog", "host": "127.0.0.1", "port": 514])
        #expect(r.status == 400 && r.text.contains("allow-private-targets"), "\(r.text)")
        #expect(try await http.get("/projects/\(pid)/integrations").json == .array([]))
    }

    @Test("a webhook receives matching activities, signed, retried after a failure; others are filtered out", arguments: Backend.allCases)
    func webhookDelivery(backend: Backend) async throws {
        let receiver = try await FakeProvider.start(failFirst: 1)
        defer { receiver.stop() }
        let s = try await TestServer.start(backend, extraArgs: ["--allow-private-targets"])
        defer { s.stopNow() }
        let http = try await s.login()
        let pid = try #require(try await s.createProject(http)["id"]?.stringValue)
        let created = try await http.post("/projects/\(pid)/integrations", ["type": "webhook", "url": .string(receiver.base + "/flaky/hook"),
                                                                             "shared_key": "s3cret-key", "events": ["project.variable.*"]])
        #expect(created.status == 201, "\(created.text)")
        let iid = try #require(created.json["_embedded"]?["entity"]?["id"]?.stringValue)

        // Not an event it listens to; then one it does.
        #expect(try await http.patch("/projects/\(pid)", ["title": "Renamed"]).status == 200)
        let v = try await http.post("/projects/\(pid)/variables", ["name": "env:GREETING", "value": "hello"])
        #expect(v.status == 201, "\(v.text)")
        let delivered = try await receiver.waitForRequest { $0["status"]?.intValue == 201 }
        let failed = receiver.requests().filter { $0["status"]?.intValue == 500 }
        #expect(failed.count == 1, "the first attempt failed and was retried")
        let body = try #require(delivered["body"]?.stringValue)
        let activity = try JSON.parse(body)
        #expect(activity["type"]?.stringValue == "project.variable.create" && activity["state"]?.stringValue == "complete", "\(body)")
        #expect(activity["project"]?.stringValue == pid)
        #expect(receiver.requests().allSatisfy { ($0["body"]?.stringValue ?? "").contains("project.variable.create") }, "the title change was filtered out")

        // The detached JWS verifies with the shared key.
        let jws = try #require(delivered["headers"]?["x-jws-signature"]?.stringValue)
        let parts = jws.components(separatedBy: ".")
        #expect(parts.count == 3 && parts[1].isEmpty)
        #expect(parts[2] == WebhookSignature.hs256(parts[0], body, key: "s3cret-key"))
        let header = try JSON.parse(Array(Data(base64Encoded: parts[0] + String(repeating: "=", count: (4 - parts[0].count % 4) % 4)) ?? Data()))
        #expect(header["alg"]?.stringValue == "HS256" && header["b64"] == false)

        // The delivery is an activity of the integration whose log shows both attempts.
        var deliveries: [JSON] = []
        try await waitFor {
            deliveries = try await http.get("/projects/\(pid)/activities?type=integration.webhook").json.arrayValue ?? []
            return deliveries.first?["state"]?.stringValue == "complete"
        }
        #expect(deliveries.count == 1 && deliveries.first?["result"]?.stringValue == "success" && deliveries.first?["integration"]?.stringValue == iid)
        let log = try await http.get("/projects/\(pid)/activities/\(deliveries.first?["id"]?.stringValue ?? "")/log").text
        #expect(log.contains("HTTP 500") && log.contains("HTTP 201"), "\(log)")

        // The same through the CLI: list, add, get, update, the integration's activities, delete.
        let env = ["GROVE_API_URL": s.baseURL, "GROVE_TOKEN": s.initialToken, "GROVE_PROJECT": pid, "HOME": FileManager.default.temporaryDirectory.path]
        var (st, out) = try CLI.run(["integration:list"], env: env)
        #expect(st == 0 && out.contains(iid) && out.contains("webhook"), "\(out)")
        (st, out) = try CLI.run(["integration:add", "--type", "health.email", "--recipients", "ops@example.com,#admins", "--from-address", "grove@example.com"], env: env)
        #expect(st == 0 && out.contains("Added the health.email integration"), "\(out)")
        (st, out) = try CLI.run(["integration:add", "--type", "httplog", "--url", receiver.base + "/logs", "--header", "Authorization: Bearer hunter2"], env: env)
        #expect(st == 0, "\(out)")
        (st, out) = try CLI.run(["integration:add", "--type", "webhook", "--url", "http://127.0.0.1:1/x", "--states", "bogus,complete", "--result", "maybe"], env: env)
        #expect(st != 0 && out.contains("result"), "\(out)")
        (st, out) = try CLI.run(["integration:update", iid, "--events", "environment.*", "--shared-key", "rotated"], env: env)
        #expect(st == 0 && out.contains("events") && out.contains("shared_key"), "\(out)")
        (st, out) = try CLI.run(["integration:get", iid, "--property", "events"], env: env)
        #expect(st == 0 && out.contains("environment.*"), "\(out)")
        (st, out) = try CLI.run(["integration:get", iid, "--format", "json"], env: env)
        #expect(st == 0 && !out.contains("rotated") && !out.contains("s3cret"), "\(out)")
        (st, out) = try CLI.run(["integration:list", "--format", "csv"], env: env)
        #expect(st == 0 && !out.contains("hunter2") && out.contains("health.email") && out.contains("httplog"), "\(out)")
        (st, out) = try CLI.run(["integration:activity:list", iid, "--limit", "20"], env: env)
        #expect(st == 0 && out.contains("integration.webhook") && out.contains("integration.update") && out.contains("integration.create"), "\(out)")
        (st, out) = try CLI.run(["integration:delete", iid], env: env)
        #expect(st == 0, "\(out)")
        #expect(try await http.get("/projects/\(pid)/integrations/\(iid)").status == 404)
    }

    @Test("a GitHub repository: branches fetched and deployed, statuses posted, pull requests become environments, forged deliveries refused")
    func githubSource() async throws {
        let provider = try await FakeProvider.start()
        defer { provider.stop() }
        // The provider's repository: main with an app, and pull request 1 on top of it.
        let (upstream, first, pr) = try Upstream.make(provider, "acme/app.git", pullRef: "refs/pull/1/head", pullContent: "pull request\n")
        defer { upstream.remove() }

        let s = try await TestServer.start(.sqlite, extraArgs: ["--allow-private-targets"])
        defer { s.stopNow() }
        let http = try await s.login()
        let project = try await s.createProject(http)
        let pid = try #require(project["id"]?.stringValue)
        let created = try await http.post("/projects/\(pid)/integrations", ["type": "github", "token": "ghp_test", "repository": "acme/app",
                                                                             "base_url": .string(provider.base + "/api/v3")])
        #expect(created.status == 201, "\(created.text)")
        let entity = created.json["_embedded"]?["entity"] ?? .null
        let iid = try #require(entity["id"]?.stringValue)
        let hook = try #require(entity["_links"]?["#hook"]?["href"]?.stringValue)

        // The hook is registered with its secret, the token authenticates, main is fetched and deployed.
        let registration = try await provider.waitForRequest { $0["path"]?.stringValue == "/api/v3/repos/acme/app/hooks" }
        #expect(registration["headers"]?["authorization"]?.stringValue == "Bearer ghp_test")
        let config = try JSON.parse(registration["body"]?.stringValue ?? "")["config"] ?? .null
        #expect(config["url"]?.stringValue == hook && config["content_type"]?.stringValue == "json", "\(config) \(hook)")
        let secret = try #require(config["secret"]?.stringValue)
        try await waitFor(timeout: 120) { try await http.get("/projects/\(pid)/environments/main").json["head_commit"]?.stringValue == first }
        let success = try await provider.waitForRequest(timeout: 120) {
            $0["path"]?.stringValue == "/api/v3/repos/acme/app/statuses/\(first)" && ($0["body"]?.stringValue ?? "").contains("\"success\"")
        }
        #expect(provider.requests().contains { $0["path"] == success["path"] && ($0["body"]?.stringValue ?? "").contains("\"pending\"") })
        #expect((try JSON.parse(success["body"]?.stringValue ?? ""))["target_url"]?.stringValue?.contains("/environments/main") == true)
        let pushes = try await http.get("/projects/\(pid)/environments/main/activities?type=environment.push").json.arrayValue ?? []
        let pushLog = try await http.get("/projects/\(pid)/activities/\(pushes.first?["id"]?.stringValue ?? "")/log").text
        #expect(pushes.first?["text"]?.stringValue == "GitHub pushed to Main" && pushLog.contains("Building application 'app'"), "\(pushes) \(pushLog)")
        #expect(try await http.get("/projects/\(pid)/environments/main").json["status"]?.stringValue == "active")

        // Direct pushes are refused: the provider's repository is the source of truth.
        let grove = try #require(project["repository"]?["http_url"]?.stringValue).replacingOccurrences(of: "http://", with: "http://grove:\(s.initialToken)@")
        let (pst, pout) = try upstream.tree.git(["push", grove, "HEAD:refs/heads/elsewhere"])
        #expect(pst != 0 && pout.contains("comes from its github integration"), "\(pout)")
        // So are code changes made on Grove's side: the repository mirrors GitHub's.
        for (path, body) in [("branch", ["name": "side"] as JSON), ("source-operation", ["operation": "x"]),
                             ("routes", ["production_url": "https://{default}/x", "type": "redirect", "to": "https://{default}/"])] {
            let refused = try await http.post("/projects/\(pid)/environments/main/\(path)", body)
            #expect(refused.status == 400 && refused.text.contains("mirrors the github integration"), "\(path): \(refused.text)")
        }

        // Deliveries: forged, unsigned and replayed ones are refused; a genuine pull request opens an environment.
        func deliver(_ event: String, _ payload: JSON, id: String = UUID().uuidString, key: String? = nil) async throws -> HTTPResult {
            let body = Array(payload.serialized().utf8)
            var headers = ["X-GitHub-Event": event, "X-GitHub-Delivery": id, "Content-Type": "application/json"]
            headers["X-Hub-Signature-256"] = "sha256=" + hmacHex(key ?? secret, body)
            return try await http.request("POST", hook, raw: Data(body), headers: headers)
        }
        let opened: JSON = ["action": "opened", "number": 1,
                            "pull_request": ["number": 1, "draft": false, "head": ["sha": .string(pr), "ref": "feature"], "base": ["ref": "main"]]]
        #expect(try await deliver("pull_request", opened, key: "not-the-secret").status == 401)
        let unsigned = try await HTTP(base: s.baseURL).request("POST", hook, raw: Data(opened.serialized().utf8),
                                                            headers: ["X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "x1"])
        #expect(unsigned.status == 401)
        let deliveryId = UUID().uuidString
        let accepted = try await deliver("pull_request", opened, id: deliveryId)
        #expect(accepted.status == 202, "\(accepted.text)")
        #expect(try await deliver("pull_request", opened, id: deliveryId).status == 401, "a replay is refused")
        try await waitFor(timeout: 120) {
            let e = try await http.get("/projects/\(pid)/environments/pr-1").json
            return e["status"]?.stringValue == "active" && e["head_commit"]?.stringValue == pr
        }
        let prEnv = try await http.get("/projects/\(pid)/environments/pr-1").json
        #expect(prEnv["parent"]?.stringValue == "main" && prEnv["type"]?.stringValue == "development")
        // It serves the pull request's code through the router, main its own.
        var served = (0, "")
        try await waitFor(timeout: 60) { served = try s.fetch(pid, environment: "pr-1", path: "/index.html"); return served.0 == 200 }
        #expect(served.1.contains("pull request"), "\(served)")
        #expect(try s.fetch(pid, path: "/index.html").1.contains("v1"))

        // A push to main upstream moves main; closing the pull request deactivates its environment.
        let second = try upstream.commitToMain(["index.html": "v2\n"])
        #expect(try await deliver("push", ["ref": "refs/heads/main", "after": .string(second), "deleted": false]).status == 202)
        try await waitFor(timeout: 120) { try await http.get("/projects/\(pid)/environments/main").json["head_commit"]?.stringValue == second }
        var closed = opened
        if case .object(var o) = closed { o["action"] = "closed"; closed = .object(o) }
        #expect(try await deliver("pull_request", closed).status == 202)
        try await waitFor(timeout: 120) { try await http.get("/projects/\(pid)/environments/pr-1").json["status"]?.stringValue == "inactive" }
        #expect(try await deliver("ping", ["zen": "hello"]).status == 200)

        // The fetches are activities of the integration.
        let acts = try await http.get("/projects/\(pid)/activities?integration=\(iid)&type=integration.github.fetch").json.arrayValue ?? []
        #expect(acts.count >= 4 && acts.allSatisfy { $0["result"]?.stringValue == "success" }, "\(acts.map { ($0["state"], $0["result"]) })")
    }

    @Test("a crash-looping worker is reported by mail, health webhook, Slack and PagerDuty")
    func healthNotifications() async throws {
        let fake = try await FakeProvider.start()
        defer { fake.stop() }
        let sink = try await SMTPSink.start()
        defer { sink.stop() }
        let s = try await TestServer.start(.sqlite, extraArgs: ["--allow-private-targets", "--smtp-url", "smtp://127.0.0.1:\(sink.port)?from=grove@grove.test",
                                                                "--slack-api-url", fake.base + "/slack", "--pagerduty-events-url", fake.base + "/pd/enqueue"])
        defer { s.stopNow() }
        let (http, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        let base = "/projects/\(pid)/integrations"
        for body: JSON in [["type": "health.email", "recipients": ["oncall@example.com", "#admins"], "from_address": "alerts@grove.test"],
                           ["type": "health.webhook", "url": .string(fake.base + "/health"), "shared_key": "health-key"],
                           ["type": "health.slack", "token": "xoxb-test", "channel": "#ops"],
                           ["type": "health.pagerduty", "routing_key": "R0UTE"]] {
            #expect(try await http.post(base, body).status == 201)
        }
        let app = "name: app\ntype: python:3.12\nweb:\n  commands:\n    start: python3 -m http.server $PORT\n"
            + "workers:\n  crasher:\n    commands:\n      start: \"sleep 0.2; exit 3\"\n"
        try tree.commit([".platform.app.yaml": app, ".platform/routes.yaml": GitPushTests.routes, "index.html": "up\n"])
        let (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")

        let hook = try await fake.waitForRequest(timeout: 90) { $0["path"]?.stringValue == "/health" }
        let event = try JSON.parse(hook["body"]?.stringValue ?? "")
        #expect(event["type"]?.stringValue == "app.crash_loop" && event["environment"]?.stringValue == "main" && event["project"]?.stringValue == pid)
        #expect(event["subject"]?.stringValue == "app:worker:crasher", "\(event)")
        let jws = hook["headers"]?["x-jws-signature"]?.stringValue ?? ""
        let parts = jws.components(separatedBy: ".")
        #expect(parts.count == 3 && parts[2] == WebhookSignature.hs256(parts[0], hook["body"]?.stringValue ?? "", key: "health-key"))
        let slack = try await fake.waitForRequest(timeout: 60) { $0["path"]?.stringValue == "/slack/chat.postMessage" }
        #expect(slack["headers"]?["authorization"]?.stringValue == "Bearer xoxb-test")
        let slackBody = try JSON.parse(slack["body"]?.stringValue ?? "")
        #expect(slackBody["channel"]?.stringValue == "#ops" && slackBody["text"]?.stringValue?.contains("crasher") == true, "\(slackBody)")
        let pd = try JSON.parse(try await fake.waitForRequest(timeout: 60) { $0["path"]?.stringValue == "/pd/enqueue" }["body"]?.stringValue ?? "")
        #expect(pd["routing_key"]?.stringValue == "R0UTE" && pd["event_action"]?.stringValue == "trigger")
        #expect(pd["payload"]?["source"]?.stringValue == "\(pid)/main" && pd["payload"]?["summary"]?.stringValue?.contains("keeps crashing") == true)
        var mail = ""
        try await waitFor(timeout: 60) {
            mail = sink.text
            return mail.contains("oncall@example.com") && mail.contains("admin@")
        }
        #expect(mail.contains("Grove health: app.crash_loop on main") && mail.contains("alerts@grove.test"), "\(mail)")
        // One alert per crash loop, not one per restart.
        try await Task.sleep(for: .seconds(3))
        #expect(fake.requests().filter { $0["path"]?.stringValue == "/health" }.count == 1)
        let acts = try await http.get("/projects/\(pid)/activities?type=integration.health.slack").json.arrayValue ?? []
        #expect(acts.first?["result"]?.stringValue == "success")
    }

    @Test("application and worker logs reach syslog (UDP, TCP, TLS), httplog, Splunk, Sumo Logic, New Relic and OTLP receivers")
    func logForwarding() async throws {
        let fake = try await FakeProvider.start()
        defer { fake.stop() }
        let dir = fake.dir + "/syslog"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        #expect(try Spawn.run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=logs.test",
                                                   "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem"]).0 == 0)
        let sink = try Spawn.start("/usr/bin/python3", [Paths.root.appendingPathComponent("Tests/Fixtures/syslog-sink.py").path, dir, dir + "/cert.pem", dir + "/key.pem"])
        defer { sink.signal(SIGKILL); _ = sink.wait() }
        let ports = try await sink.announced(dir + "/ports") { $0.split(separator: " ").count == 3 }.split(separator: " ").map(String.init)
        let secure = try await FakeProvider.start(tls: true)
        defer { secure.stop() }
        let s = try await TestServer.start(.sqlite, extraArgs: ["--allow-private-targets"])
        defer { s.stopNow() }
        let (http, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        let base = "/projects/\(pid)/integrations"
        for body: JSON in [
            // A collector with a self-signed certificate: reached only when told not to verify it.
            ["type": "httplog", "url": .string(secure.base + "/unverified"), "tls_verify": false],
            ["type": "httplog", "url": .string(secure.base + "/verified")],
            ["type": "syslog", "host": "127.0.0.1", "port": .int(Int64(ports[0]) ?? 0), "protocol": "udp", "extra": ["team": "web"]],
            ["type": "syslog", "host": "127.0.0.1", "port": .int(Int64(ports[1]) ?? 0), "protocol": "tcp", "message_format": "rfc3164",
             "auth_token": "SYSLOGTOKEN"],
            ["type": "syslog", "host": "127.0.0.1", "port": .int(Int64(ports[2]) ?? 0), "protocol": "tls", "tls_verify": false],
            ["type": "httplog", "url": .string(fake.base + "/httplog"), "headers": ["X-Custom": "yes"], "excluded_services": ["app"]],
            ["type": "splunk", "url": .string(fake.base + "/splunk"), "index": "main", "token": "SPLUNKTOKEN"],
            ["type": "sumologic", "url": .string(fake.base + "/sumo"), "category": "grove/test"],
            ["type": "newrelic", "url": .string(fake.base + "/newrelic"), "license_key": "NRKEY"],
            ["type": "otlplog", "url": .string(fake.base + "/v1/logs"), "headers": ["Authorization": "Bearer OTLP"]],
        ] {
            let r = try await http.post(base, body)
            #expect(r.status == 201, "\(r.text)")
        }
        let app = "name: app\ntype: python:3.12\nweb:\n  commands:\n    start: python3 -m http.server $PORT\n"
            + "workers:\n  ticker:\n    commands:\n      start: \"while true; do echo tick-$(date +%s%N); sleep 0.3; done\"\n"
        try tree.commit([".platform.app.yaml": app, ".platform/routes.yaml": GitPushTests.routes, "index.html": "up\n"])
        let (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")

        func lines(_ kind: String) -> [String] { ((try? String(contentsOfFile: dir + "/" + kind, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }
        try await waitFor(timeout: 60) { ["udp", "tcp", "tls"].allSatisfy { k in lines(k).contains { $0.contains("tick-") } } }
        let udp = try #require(lines("udp").first { $0.contains("tick-") })
        #expect(udp.hasPrefix("<14>1 ") && udp.contains(" main-\(pid) app--ticker - - [grove@32473 project=\"\(pid)\" environment=\"main\" team=\"web\"] tick-"), "\(udp)")
        let tcp = try #require(lines("tcp").first { $0.contains("tick-") })
        #expect(tcp.range(of: #"^<14>[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d main-\w+ app--ticker: SYSLOGTOKEN tick-"#, options: .regularExpression) != nil, "\(tcp)")

        func posted(_ path: String) async throws -> JSON { try await fake.waitForRequest(timeout: 60) { $0["path"]?.stringValue == path && ($0["body"]?.stringValue ?? "").contains("tick-") } }
        let httplog = try await posted("/httplog")
        #expect(httplog["headers"]?["x-custom"]?.stringValue == "yes")
        let records = try JSON.parse(httplog["body"]?.stringValue ?? "").arrayValue ?? []
        #expect(records.first?["source"]?.stringValue == "app--ticker" && records.first?["environment"]?.stringValue == "main" && records.first?["timestamp"] != nil)
        #expect(!fake.requests().contains { $0["path"]?.stringValue == "/httplog" && ($0["body"]?.stringValue ?? "").contains("\"source\":\"app\"") },
                "the excluded application's log stays home")
        let splunk = try await posted("/splunk")
        #expect(splunk["headers"]?["authorization"]?.stringValue == "Splunk SPLUNKTOKEN" && (splunk["body"]?.stringValue ?? "").contains("\"index\":\"main\""))
        #expect(try await posted("/sumo")["headers"]?["x-sumo-category"]?.stringValue == "grove/test")
        let nr = try await posted("/newrelic")
        #expect(nr["headers"]?["x-license-key"]?.stringValue == "NRKEY")
        #expect((try JSON.parse(nr["body"]?.stringValue ?? "")).arrayValue?.first?["logs"]?.arrayValue?.isEmpty == false)
        let otlp = try await posted("/v1/logs")
        #expect(otlp["headers"]?["authorization"]?.stringValue == "Bearer OTLP")
        let resource = try JSON.parse(otlp["body"]?.stringValue ?? "")["resourceLogs"]?.arrayValue?.first
        #expect(resource?["scopeLogs"]?.arrayValue?.first?["logRecords"]?.arrayValue?.first?["body"]?["stringValue"]?.stringValue?.hasPrefix("tick-") == true)

        _ = try await secure.waitForRequest(timeout: 60) { $0["path"]?.stringValue == "/unverified" && ($0["body"]?.stringValue ?? "").contains("tick-") }
        #expect(!secure.requests().contains { $0["path"]?.stringValue == "/verified" }, "a certificate that does not verify stops the verified sink")

        // Nothing is sent twice and nothing is lost: each tick reaches UDP at most once, and in order.
        let ticks = lines("tcp").compactMap { line in line.range(of: "tick-\\d+", options: .regularExpression).map { String(line[$0]) } }
        #expect(Set(ticks).count == ticks.count && ticks == ticks.sorted(), "\(ticks)")
    }

    @Test("an activity script runs sandboxed with activity, project and variables; one that never ends is stopped")
    func activityScripts() async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let http = try await s.login()
        let pid = try #require(try await s.createProject(http)["id"]?.stringValue)
        #expect(try await http.post("/projects/\(pid)/variables", ["name": "env:SLACK_URL", "value": "https://hooks.example.com/x", "is_sensitive": true]).status == 201)
        let script = """
        console.log('type=' + activity.type + ' state=' + activity.state + ' project=' + project.id + ' var=' + variables()['env:SLACK_URL']);
        const fs = process.mainModule.require('fs');
        let seen = 'hidden';
        try { fs.readFileSync('\(s.dataDir)/grove.sqlite'); seen = 'READ'; } catch (e) {}
        console.log('datadir=' + seen + ' uid=' + process.getuid());
        try { fetch('http://127.0.0.1:1/'); } catch (e) { console.log('fetch failed as expected'); }
        """
        var r = try await http.post("/projects/\(pid)/integrations", ["type": "script", "script": .string(script), "events": ["project.modify.title"]])
        #expect(r.status == 201, "\(r.text)")
        r = try await http.post("/projects/\(pid)/integrations", ["type": "script", "script": "while (true) {}", "events": ["project.modify.title"]])
        #expect(r.status == 201, "\(r.text)")
        #expect(try await http.patch("/projects/\(pid)", ["title": "Scripted"]).status == 200)
        var runs: [JSON] = []
        try await waitFor(timeout: 90) {
            runs = try await http.get("/projects/\(pid)/activities?type=integration.script").json.arrayValue ?? []
            return runs.count == 2 && runs.allSatisfy { $0["state"]?.stringValue == "complete" }
        }
        var logs: [String] = []
        for run in runs { logs.append(try await http.get("/projects/\(pid)/activities/\(run["id"]?.stringValue ?? "")/log").text) }
        let good = try #require(logs.first { $0.contains("type=") })
        #expect(good.contains("type=project.modify.title state=complete project=\(pid) var=https://hooks.example.com/x"), "\(good)")
        #expect(good.contains("datadir=hidden") && !good.contains("uid=0"), "\(good)")
        #expect(good.contains("fetch failed as expected"), "\(good)")
        #expect(runs.contains { $0["result"]?.stringValue == "success" })
        let stuck = try #require(runs.first { $0["result"]?.stringValue == "failure" })
        let stuckLog = try await http.get("/projects/\(pid)/activities/\(stuck["id"]?.stringValue ?? "")/log").text
        #expect(stuckLog.contains("did not finish within 30 seconds"), "\(stuckLog)")
    }

    /// What differs between providers in `sourceProviders`.
    struct ProviderCase: Sendable, CustomTestStringConvertible {
        let type: String
        let repository: String  // under the fake's root
        let pullRef: String
        let extraArgs: @Sendable (String) -> [String]
        let body: @Sendable (String) -> JSON
        let registrationPath: String
        let secret: @Sendable (JSON) -> String?
        let authorization: (header: String, value: String)
        let statusPath: @Sendable (String) -> String
        /// (headers, body) of a delivery: push of a commit to main, or a pull request opened/closed at a commit.
        let push: @Sendable (String) -> ([String: String], JSON)
        let pull: @Sendable (_ open: Bool, _ commit: String) -> ([String: String], JSON)
        let signs: Bool  // HMAC signature (else a token header)
        var testDescription: String { type }
    }

    static let providerCases: [ProviderCase] = [
        ProviderCase(type: "gitlab", repository: "group/app.git", pullRef: "refs/merge-requests/1/head", extraArgs: { _ in [] },
                     body: { ["type": "gitlab", "token": "glpat-test", "project": "group/app", "base_url": .string($0)] },
                     registrationPath: "/api/v4/projects/group%2Fapp/hooks", secret: { $0["token"]?.stringValue },
                     authorization: ("private-token", "glpat-test"), statusPath: { "/api/v4/projects/group%2Fapp/statuses/\($0)" },
                     push: { (["X-Gitlab-Event": "Push Hook"], ["object_kind": "push", "ref": "refs/heads/main", "after": .string($0)]) },
                     pull: { open, c in (["X-Gitlab-Event": "Merge Request Hook"],
                                         ["object_kind": "merge_request", "object_attributes": ["iid": 1, "action": .string(open ? "open" : "close"),
                                                                                               "target_branch": "main", "last_commit": ["id": .string(c)]]]) },
                     signs: false),
        ProviderCase(type: "bitbucket_server", repository: "scm/PRJ/app.git", pullRef: "refs/pull-requests/1/from", extraArgs: { _ in [] },
                     body: { ["type": "bitbucket_server", "url": .string($0), "username": "grove", "token": "bbs-token", "project": "PRJ", "repository": "app"] },
                     registrationPath: "/rest/api/1.0/projects/PRJ/repos/app/webhooks", secret: { $0["configuration"]?["secret"]?.stringValue },
                     authorization: ("authorization", "Basic " + Data("grove:bbs-token".utf8).base64EncodedString()),
                     statusPath: { "/rest/build-status/1.0/commits/\($0)" },
                     push: { (["X-Event-Key": "repo:refs_changed"], ["changes": [["refId": "refs/heads/main", "toHash": .string($0), "type": "UPDATE"]]]) },
                     pull: { open, c in (["X-Event-Key": open ? "pr:opened" : "pr:declined"],
                                         ["pullRequest": ["id": 1, "fromRef": ["latestCommit": .string(c)], "toRef": ["id": "refs/heads/main"]]]) },
                     signs: true),
        ProviderCase(type: "bitbucket", repository: "team/app.git", pullRef: "refs/heads/feature",
                     extraArgs: { ["--bitbucket-api-url", $0 + "/2.0", "--bitbucket-url", $0] },
                     body: { _ in ["type": "bitbucket", "repository": "team/app", "app_credentials": ["key": "consumer", "secret": "consumer-secret"]] },
                     registrationPath: "/2.0/repositories/team/app/hooks", secret: { $0["secret"]?.stringValue },
                     authorization: ("authorization", "Bearer bb-access-token"), statusPath: { "/2.0/repositories/team/app/commit/\($0)/statuses/build" },
                     push: { (["X-Event-Key": "repo:push"], ["push": ["changes": [["new": ["type": "branch", "name": "main", "target": ["hash": .string($0)]]]]]]) },
                     pull: { open, c in (["X-Event-Key": open ? "pullrequest:created" : "pullrequest:rejected"],
                                         ["pullrequest": ["id": 1, "source": ["branch": ["name": "feature"], "commit": ["hash": .string(c)]],
                                                          "destination": ["branch": ["name": "main"]]]]) },
                     signs: true),
    ]

    @Test("GitLab, Bitbucket Server and Bitbucket Cloud: hook registered, branches deployed, statuses set, merge/pull requests as environments",
          arguments: providerCases)
    func sourceProviders(_ c: ProviderCase) async throws {
        let provider = try await FakeProvider.start()
        defer { provider.stop() }
        let (upstream, first, pr) = try Upstream.make(provider, c.repository, pullRef: c.pullRef, pullContent: "change request\n")
        defer { upstream.remove() }

        let s = try await TestServer.start(.sqlite, extraArgs: ["--allow-private-targets"] + c.extraArgs(provider.base))
        defer { s.stopNow() }
        let http = try await s.login()
        let pid = try #require(try await s.createProject(http)["id"]?.stringValue)
        let created = try await http.post("/projects/\(pid)/integrations", c.body(provider.base))
        #expect(created.status == 201, "\(created.text)")
        #expect(!created.text.contains("glpat-test") && !created.text.contains("bbs-token") && !created.text.contains("consumer-secret"))
        let hook = try #require(created.json["_embedded"]?["entity"]?["_links"]?["#hook"]?["href"]?.stringValue)
        let registration = try await provider.waitForRequest { $0["path"]?.stringValue == c.registrationPath }
        #expect(registration["headers"]?[c.authorization.header]?.stringValue == c.authorization.value, "\(registration)")
        let secret = try #require(c.secret(try JSON.parse(registration["body"]?.stringValue ?? "")))
        try await waitFor(timeout: 120) { try await http.get("/projects/\(pid)/environments/main").json["head_commit"]?.stringValue == first }
        let status = try await provider.waitForRequest(timeout: 120) {
            $0["path"]?.stringValue == c.statusPath(first) && ($0["body"]?.stringValue ?? "").range(of: "success|SUCCESSFUL", options: .regularExpression) != nil
        }
        #expect(status["headers"]?[c.authorization.header]?.stringValue == c.authorization.value)

        func deliver(_ delivery: ([String: String], JSON), id: String = UUID().uuidString, key: String? = nil) async throws -> HTTPResult {
            let body = Array(delivery.1.serialized().utf8)
            var headers = delivery.0
            headers["Content-Type"] = "application/json"
            headers["X-Request-Id"] = id
            headers["X-Request-UUID"] = id
            headers["X-Gitlab-Event-UUID"] = id
            if c.signs { headers["X-Hub-Signature"] = "sha256=" + hmacHex(key ?? secret, body) } else { headers["X-Gitlab-Token"] = key ?? secret }
            return try await HTTP(base: s.baseURL).request("POST", hook, raw: Data(body), headers: headers)
        }
        #expect(try await deliver(c.pull(true, pr), key: "forged").status == 401)
        let id = UUID().uuidString
        #expect(try await deliver(c.pull(true, pr), id: id).status == 202)
        #expect(try await deliver(c.pull(true, pr), id: id).status == 401, "a replay is refused")
        try await waitFor(timeout: 120) {
            let e = try await http.get("/projects/\(pid)/environments/pr-1").json
            return e["status"]?.stringValue == "active" && e["head_commit"]?.stringValue == pr
        }
        var served = (0, "")
        try await waitFor(timeout: 60) { served = try s.fetch(pid, environment: "pr-1", path: "/index.html"); return served.0 == 200 }
        #expect(served.1.contains("change request"))

        let second = try upstream.commitToMain(["index.html": "v2\n"])
        #expect(try await deliver(c.push(second)).status == 202)
        try await waitFor(timeout: 120) { try await http.get("/projects/\(pid)/environments/main").json["head_commit"]?.stringValue == second }
        #expect(try await deliver(c.pull(false, pr)).status == 202)
        try await waitFor(timeout: 120) { try await http.get("/projects/\(pid)/environments/pr-1").json["status"]?.stringValue == "inactive" }
    }
}

/// The detached HS256 JWS of Platform.sh webhooks, as a receiver verifies it.
enum WebhookSignature {
    static func hs256(_ header: String, _ body: String, key: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array((header + ".").utf8) + Array(body.utf8), using: SymmetricKey(data: Data(key.utf8)))
        return Data(mac).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
