import Foundation
import GroveModel
import Testing

/// Real applications pushed through a real `grove serve`, fetched through its router.
@Suite("Build, deploy and serve")
struct DeployTests {
    static let pythonApp = """
    name: app
    type: python:3.11
    variables:
      env:
        FROM_CONFIG: "yes"
    hooks:
      build: |
        pip install -r requirements.txt
        echo built > built.txt
      deploy: |
        echo "deploying $PLATFORM_BRANCH"
    web:
      commands:
        start: python3 server.py
    """

    static let server = """
    import os, json, http.server
    from platformshconfig import Config
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def do_GET(self):
            c = Config()
            body = json.dumps({"version": open("version.txt").read().strip(), "valid": c.is_valid_platform(), "in_build": c.in_build(),
                               "app": c.applicationName, "branch": c.branch, "environment": c.environment, "project": c.project,
                               "routes": sorted(c.routes().keys()), "tree": os.environ.get("PLATFORM_TREE_ID"),
                               "greeting": os.environ.get("GREETING"), "from_config": os.environ.get("FROM_CONFIG"),
                               "built": open("built.txt").read().strip(), "app_dir": os.environ.get("PLATFORM_APP_DIR")}).encode()
            self.send_response(200); self.send_header("Content-Type", "application/json"); self.end_headers(); self.wfile.write(body)
    http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
    """

    @Test("a Python app with a pip requirement serves through the router; failed builds, starts and deploy hooks keep the old version", arguments: [Backend.sqlite])
    func pythonApp(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let (http, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        _ = try await http.post("/projects/\(pid)/variables", ["name": "env:GREETING", "value": "hello", "visible_build": false])
        try tree.commit([".platform.app.yaml": Self.pythonApp, "requirements.txt": "platformshconfig\n", "server.py": Self.server, "version.txt": "one\n"])
        var (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        #expect(out.contains("remote:     Successfully installed platformshconfig"), "\(out)")
        #expect(out.contains("deploying main"), "\(out)")
        #expect(out.contains("is served by application `app`"), "\(out)")
        var (code, body) = try s.fetch(pid)
        #expect(code == 200, "\(body)")
        var j = (try? JSON.parse(body)) ?? .null
        #expect(j["version"] == "one" && j["valid"] == true && j["in_build"] == false && j["app"] == "app" && j["branch"] == "main")
        #expect(j["project"]?.stringValue == pid && j["greeting"] == "hello" && j["from_config"] == "yes" && j["built"] == "built")
        #expect(j["routes"]?.arrayValue == [.string("http://main-\(pid).localhost:\(s.routerPort)/"), .string("https://main-\(pid).localhost:\(s.routerTLSPort)/")], "\(body)")
        #expect(j["environment"]?.stringValue?.hasPrefix("main-") == true)
        let firstTree = j["tree"]?.stringValue

        // A failing build: the push is refused, the old version keeps answering.
        let good = try tree.head()
        try tree.commit([".platform.app.yaml": Self.pythonApp.replacingOccurrences(of: "echo built > built.txt", with: "exit 3"), "version.txt": "two\n"])
        (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st != 0 && out.contains("Error building project: the build hook of 'app' exited with status 3"), "\(out)")
        (code, body) = try s.fetch(pid)
        #expect(code == 200 && body.contains("\"version\": \"one\""), "\(body)")
        #expect(try tree.remoteHead("main") == good)

        // A start command that exits, and a failing deploy hook: refused, old version serving.
        try tree.git(["reset", "-q", "--hard", good])
        try tree.commit([".platform.app.yaml": Self.pythonApp.replacingOccurrences(of: "python3 server.py", with: "echo bye; exit 1"), "version.txt": "three\n"])
        (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st != 0 && out.contains("start command exited before it listened"), "\(out)")
        try tree.git(["reset", "-q", "--hard", good])
        try tree.commit([".platform.app.yaml": Self.pythonApp.replacingOccurrences(of: "echo \"deploying $PLATFORM_BRANCH\"", with: "false"), "version.txt": "four\n"])
        (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st != 0 && out.contains("deploy hook of app exited with status 1"), "\(out)")
        (code, body) = try s.fetch(pid)
        #expect(code == 200 && body.contains("\"version\": \"one\""), "\(body)")

        // A new version replaces the old one.
        try tree.git(["reset", "-q", "--hard", good])
        try tree.commit(["version.txt": "five\n"])
        (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        (code, body) = try s.fetch(pid)
        #expect(code == 200 && body.contains("\"version\": \"five\""), "\(body)")
        j = (try? JSON.parse(body)) ?? .null
        #expect(j["tree"]?.stringValue != firstTree)

        // The same tree on a new active branch reuses the build and serves on its own host.
        (st, out) = try tree.push(["-o", "environment.status=active", "HEAD:refs/heads/feature"])
        #expect(st == 0 && out.contains("Reusing the build of 'app'"), "\(out)")
        (code, body) = try s.fetch(pid, environment: "feature")
        j = (try? JSON.parse(body)) ?? .null
        #expect(code == 200 && j["branch"] == "feature" && j["version"] == "five", "\(body)")

        // Deleting the branch stops its application.
        (st, out) = try tree.push([":refs/heads/feature"])
        #expect(st == 0, "\(out)")
        (code, _) = try s.fetch(pid, environment: "feature")
        #expect(code == 404)
    }

    @Test("two applications with routes to each, and a redirect", arguments: [Backend.sqlite])
    func twoApps(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let (_, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        func app(_ name: String) -> String {
            "- name: \(name)\n  type: python:3.11\n  source: {root: \(name)}\n  web: {commands: {start: 'python3 -m http.server $PORT --bind 127.0.0.1'}}\n"
        }
        let routes = """
        "https://{default}/": {type: upstream, upstream: "front:http"}
        "https://{default}/api": {type: upstream, upstream: "api:http"}
        "https://www.{default}/": {type: redirect, to: "https://{default}/"}
        """
        try tree.commit([".platform/applications.yaml": app("front") + app("api"), ".platform/routes.yaml": routes,
                         "front/index.html": "front page\n", "api/api/index.html": "api answer\n"])
        let (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        var (code, body) = try s.fetch(pid)
        #expect(code == 200 && body.contains("front page"), "\(body)")
        (code, body) = try s.fetch(pid, path: "/api/")
        #expect(code == 200 && body.contains("api answer"), "\(body)")
        // Plain http moves to https keeping the path; the www route redirects to the bare host.
        let www = "www.main-\(pid).localhost"
        var (_, head) = try Spawn.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "--resolve", "\(www):\(s.routerPort):127.0.0.1",
                                                        "http://\(www):\(s.routerPort)/x?y=1"])
        #expect(head == "301 https://\(www):\(s.routerTLSPort)/x?y=1", "\(head)")
        (_, head) = try Spawn.run("/usr/bin/curl", ["-s", "-k", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "--resolve", "\(www):\(s.routerTLSPort):127.0.0.1",
                                                    "https://\(www):\(s.routerTLSPort)/"])
        #expect(head == "301 https://main-\(pid).localhost:\(s.routerTLSPort)/", "\(head)")
        // Changing one application rebuilds only that one.
        try tree.commit(["front/index.html": "front page, second edition\n"])
        let (st2, out2) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st2 == 0, "\(out2)")
        #expect(out2.contains("Building application 'front'") && out2.contains("Reusing the build of 'api'"), "\(out2)")
        #expect(!out2.contains("Building application 'api'"), "\(out2)")
        (code, body) = try s.fetch(pid)
        #expect(code == 200 && body.contains("second edition"), "\(body)")
    }
}

@Suite("Workers, crons, mounts and restarts")
struct RuntimeLifecycleTests {
    static let app = """
    name: app
    type: python:3.11
    disk: 512
    mounts:
      data: {source: local, source_path: data}
    web:
      commands:
        start: python3 server.py
    workers:
      ticker:
        commands:
          start: "while true; do date +%s > data/worker.txt; sleep 1; done"
    crons:
      stamp:
        spec: "* * * * *"
        commands:
          start: "echo cron ran >> data/cron.txt"
    """

    static let server = """
    import os, http.server
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def do_GET(self):
            name = self.path.strip("/")
            if name == "write":
                open("data/note.txt", "w").write("kept")
                body = b"written"
            else:
                try: body = open("data/" + name + ".txt", "rb").read()
                except OSError: body = b"missing"
            try: open("readonly.txt", "w"); body += b" app-writable"
            except OSError: pass
            self.send_response(200); self.end_headers(); self.wfile.write(body)
    http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
    """

    @Test("a worker and a cron write to a mount that survives redeploys and restarts; the deployment and routes API describe it", arguments: [Backend.sqlite])
    func lifecycle(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let (http, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit([".platform.app.yaml": Self.app, "server.py": Self.server, "v.txt": "1"])
        var (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        #expect(out.contains("Starting worker app--ticker"), "\(out)")
        // The worker writes into the mount; the application directory itself is read-only.
        try await waitFor { let b = try s.fetch(pid, path: "/worker").1.trimmingCharacters(in: .whitespacesAndNewlines); return !b.isEmpty && b.allSatisfy(\.isNumber) }
        #expect(try s.fetch(pid, path: "/worker").1.contains("app-writable") == false)
        #expect(try s.fetch(pid, path: "/write").1 == "written")

        // The API describes what serves.
        let routes = try await http.get("/projects/\(pid)/environments/main/routes").json.arrayValue ?? []
        #expect(routes.count == 2 && routes.first?["upstream"] == "app" && routes.first?["original_url"] == "https://{default}/", "\(routes)")
        #expect(routes.last?["type"] == "redirect" && routes.last?["original_url"] == "http://{default}/")
        let current = try await http.get("/projects/\(pid)/environments/main/deployments/current").json
        #expect(current["webapps"]?["app"]?["type"] == "python:3.11" && current["environment_info"]?["name"] == "main")
        #expect(current["routes"]?.objectValue?.keys.first == "https://main-\(pid).localhost:\(s.routerTLSPort)/")
        #expect(current["routes"]?["http://main-\(pid).localhost:\(s.routerPort)/"]?["to"] == .string("https://main-\(pid).localhost:\(s.routerTLSPort)/"))
        #expect(try await http.get("/projects/\(pid)/environments/main/deployments").json.arrayValue?.count == 1)

        // A redeploy keeps the mount's data.
        try tree.commit(["v.txt": "2"])
        (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        #expect(try s.fetch(pid, path: "/note").1 == "kept")

        // The cron runs within a minute, as an activity with its log.
        try await waitFor(timeout: 100) { try s.fetch(pid, path: "/cron").1.contains("cron ran") }
        try await waitFor {
            let crons = try await http.get("/projects/\(pid)/environments/main/activities?type=environment.cron").json.arrayValue ?? []
            return crons.contains { $0["result"] == "success" }
        }
        let cron = try #require((try await http.get("/projects/\(pid)/environments/main/activities?type=environment.cron").json.arrayValue ?? [])
            .first { $0["result"] == "success" })
        let cronLog = try await http.get("/projects/\(pid)/activities/\(cron["id"]?.stringValue ?? "")").json["log"]?.stringValue ?? ""
        #expect(cronLog.contains("Running cron stamp"), "\(cronLog)")

        // After a restart of grove serve the environment serves again, data intact.
        await s.stop()
        try await s.launch()
        try await waitFor { try s.fetch(pid, path: "/note").1 == "kept" }
        // The router's ports changed with the restart: the restored routes name the new ones.
        let again = try await s.login()
        let restored = try await again.get("/projects/\(pid)/environments/main/deployments/current").json
        #expect(restored["routes"]?["https://main-\(pid).localhost:\(s.routerTLSPort)/"] != nil, "\(restored["routes"] ?? .null)")
    }
}

@Suite("PHP through PHP-FPM with web.locations")
struct PHPTests {
    static let app = """
    name: site
    type: php:8.2
    web:
      locations:
        "/":
          root: web
          passthru: /index.php
          index: [index.php]
        "/assets":
          root: web/assets
          expires: 1h
          passthru: false
          headers:
            X-Static: "yes"
          rules:
            '\\.secret$':
              allow: false
    """

    @Test("front controller, scripts, static files with headers and rules, PLATFORM_* in PHP", arguments: [Backend.sqlite])
    func php(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let (_, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit([
            ".platform.app.yaml": Self.app,
            "web/index.php": "<?php header('Content-Type: application/json'); echo json_encode(['front' => true, 'uri' => $_SERVER['REQUEST_URI'], 'app' => getenv('PLATFORM_APPLICATION_NAME'), 'branch' => getenv('PLATFORM_BRANCH')]);",
            "web/hello.php": "<?php echo 'hello from ' . PHP_VERSION;",
            "web/assets/app.css": "body{color:red}",
            "web/assets/key.secret": "s3cret",
        ])
        let (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        var (code, body) = try s.fetch(pid)
        var j = (try? JSON.parse(body)) ?? .null
        #expect(code == 200 && j["front"] == true && j["uri"] == "/" && j["app"] == "site" && j["branch"] == "main", "\(body)")
        (code, body) = try s.fetch(pid, path: "/some/page?x=1")
        j = (try? JSON.parse(body)) ?? .null
        #expect(code == 200 && j["uri"] == "/some/page?x=1", "\(body)")
        (code, body) = try s.fetch(pid, path: "/hello.php")
        #expect(code == 200 && body.hasPrefix("hello from 8."), "\(body)")
        (code, body) = try s.fetch(pid, path: "/assets/app.css")
        #expect(code == 200 && body == "body{color:red}", "\(body)")
        let (_, headers) = try Spawn.run("/usr/bin/curl", ["-s", "-k", "-D", "-", "-o", "/dev/null", "--resolve", "main-\(pid).localhost:\(s.routerTLSPort):127.0.0.1",
                                                           "https://main-\(pid).localhost:\(s.routerTLSPort)/assets/app.css"])
        #expect(headers.lowercased().contains("x-static: yes") && headers.lowercased().contains("cache-control: max-age=3600"), "\(headers)")
        (code, _) = try s.fetch(pid, path: "/assets/key.secret")
        #expect(code == 404)
        (code, _) = try s.fetch(pid, path: "/assets/missing.css")
        #expect(code == 404)
    }
}

@Suite("Lifecycle actions drive the runtime")
struct LifecycleActionTests {
    static let app = """
    name: app
    type: python:3.11
    hooks:
      deploy: echo deploy-hook-ran
      post_deploy: echo post-deploy-ran
    web:
      commands:
        start: python3 -m http.server $PORT --bind 127.0.0.1
    """

    @Test("pause, resume, redeploy, deactivate and activate", arguments: [Backend.sqlite])
    func actions(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let (http, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit([".platform.app.yaml": Self.app, "index.html": "up\n"])
        var (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        (st, out) = try tree.push(["-o", "environment.status=active", "HEAD:refs/heads/dev"])
        #expect(st == 0, "\(out)")
        #expect(try s.fetch(pid, environment: "dev").1.contains("up"))
        func act(_ action: String, _ env: String = "dev") async throws -> JSON {
            let r = try await http.post("/projects/\(pid)/environments/\(env)/\(action)")
            #expect(r.status == 200, "\(action): \(r.text)")
            let a = try #require(r.json["_embedded"]?["activities"]?.arrayValue?.first)
            return try await waitForActivity(http, a)
        }
        var a = try await act("pause")
        #expect(a["result"] == "success")
        #expect(try await http.get("/projects/\(pid)/environments/dev").json["status"] == "paused")
        #expect(try s.fetch(pid, environment: "dev").0 == 404)
        a = try await act("resume")
        #expect(a["result"] == "success")
        #expect(try s.fetch(pid, environment: "dev").1.contains("up"))
        // A redeploy reruns post_deploy only.
        a = try await act("redeploy")
        let log = try await http.get("/projects/\(pid)/activities/\(a["id"]?.stringValue ?? "")").json["log"]?.stringValue ?? ""
        #expect(log.contains("post-deploy-ran") && !log.contains("deploy-hook-ran") && log.contains("Reusing the build"), "\(log)")
        // The CLI follows the same links.
        let cli = ["GROVE_API_URL": s.baseURL, "GROVE_TOKEN": s.initialToken, "GROVE_CONFIG_DIR": s.dataDir + "-cli"]
        var (cs, co) = try CLI.run(["environment:pause", "-p", pid, "-e", "dev"], env: cli)
        let pausedStatus = try s.fetch(pid, environment: "dev").0
        #expect(cs == 0 && pausedStatus == 404, "\(co)")
        (cs, co) = try CLI.run(["environment:pause", "-p", pid, "-e", "dev"], env: cli)
        #expect(cs != 0 && co.contains("Operation not available"), "\(co)")
        (cs, co) = try CLI.run(["environment:resume", "-p", pid, "-e", "dev"], env: cli)
        let resumedBody = try s.fetch(pid, environment: "dev").1
        #expect(cs == 0 && resumedBody.contains("up"), "\(co)")
        a = try await act("deactivate")
        #expect(try await http.get("/projects/\(pid)/environments/dev").json["status"] == "inactive")
        #expect(try s.fetch(pid, environment: "dev").0 == 404)
        a = try await act("activate")
        #expect(a["result"] == "success")
        #expect(try s.fetch(pid, environment: "dev").1.contains("up"))
        // Production cannot be paused or deactivated.
        let refused = try await http.post("/projects/\(pid)/environments/main/deactivate")
        #expect(refused.status == 400)
    }
}

@Suite("Node.js and the application CLI")
struct NodeAppTests {
    @Test("a Node.js app without npm dependencies serves; app:list, app:config-get, environment:url", arguments: [Backend.sqlite])
    func node(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let (_, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit([
            ".platform.app.yaml": "name: web\ntype: nodejs:20\nweb:\n  commands:\n    start: node server.js\n",
            "server.js": "require('http').createServer((q, r) => r.end('node says ' + process.env.PLATFORM_BRANCH)).listen(process.env.PORT, '127.0.0.1');\n",
        ])
        let (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        #expect(try s.fetch(pid).1 == "node says main")
        let env = ["GROVE_API_URL": s.baseURL, "GROVE_TOKEN": s.initialToken, "GROVE_CONFIG_DIR": s.dataDir + "-cli"]
        var (cs, co) = try CLI.run(["app:list", "-p", pid, "--format", "csv"], env: env)
        #expect(cs == 0 && co.contains("web,nodejs:20"), "\(co)")
        (cs, co) = try CLI.run(["app:config-get", "-p", pid, "-P", "type"], env: env)
        #expect(cs == 0 && co.trimmingCharacters(in: .whitespacesAndNewlines) == "nodejs:20", "\(co)")
        (cs, co) = try CLI.run(["environment:url", "-p", pid, "--primary"], env: env)
        #expect(cs == 0 && co.trimmingCharacters(in: .whitespacesAndNewlines) == "https://main-\(pid).localhost:\(s.routerTLSPort)/", "\(co)")
    }
}
