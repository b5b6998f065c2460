import Foundation
import GroveModel
import Testing

/// The attacker's suite: a contributor who pushes hostile configuration and code, and calls the API with hostile
/// names, must not reach the host, other tenants or the control plane.
@Suite("Tenants cannot harm the host or each other", .serialized)
struct TenantIsolationTests {
    static let runsAsRoot = geteuid() == 0
    static let hasBubblewrap = FileManager.default.isExecutableFile(atPath: "/usr/bin/bwrap")

    static let app = """
    name: app
    type: python:3.11
    web:
      commands:
        start: python3 server.py
    """

    /// Reports what the application can see and do from inside its sandbox.
    static let probe = """
    import os, json, socket, subprocess, http.server
    def readable(p):
        try:
            open(p, "rb").read(1); return True
        except Exception:
            return False
    def listing(p):
        try:
            return sorted(os.listdir(p))
        except Exception:
            return None
    def connects(port):
        s = socket.socket(); s.settimeout(1)
        try:
            s.connect(("127.0.0.1", port)); return True
        except Exception:
            return False
        finally:
            s.close()
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def do_GET(self):
            q = self.path.split("?", 1)[1] if "?" in self.path else ""
            body = json.dumps({"uid": os.getuid(), "euid": os.geteuid(), "groups": os.getgroups(),
                               "shadow": readable("/etc/shadow"), "root": listing("/root"), "home": listing("/home"),
                               "top": sorted(os.listdir("/")), "target": os.path.exists(q) if q else None,
                               "build_uid": open("build-uid.txt").read().strip(), "build_api": open("build-api.txt").read().strip(),
                               "uploads_writable": os.access("uploads", os.W_OK)}).encode()
            self.send_response(200); self.send_header("Content-Type", "application/json"); self.end_headers(); self.wfile.write(body)
    http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
    """

    @Test("paths from configuration stay inside their base: mount source_path, symlinked mounts, web roots", arguments: Backend.allCases)
    func pathEscapes(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let (_, _, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        let marker = "grove-escape-\(UUID().uuidString.prefix(8))"
        let escape = Self.app + "\nmounts:\n  var:\n    source: local\n    source_path: ../../../../../../../../tmp/\(marker)\n"
        try tree.commit([".platform.app.yaml": escape, "server.py": "print()\n"])
        var (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st != 0)
        #expect(out.contains(".platform.app.yaml:9: mounts.var.source_path: ../../../../../../../../tmp/\(marker) leaves the mount's storage"), "\(out)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/\(marker)"))

        // A mount path committed as a link to a host directory.
        let linked = Self.app + "\nmounts:\n  web/uploads:\n    source: local\n"
        try FileManager.default.createSymbolicLink(atPath: tree.dir + "/web", withDestinationPath: "/etc")
        _ = try tree.commit([".platform.app.yaml": linked, "server.py": "print()\n"], message: "link")
        (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st != 0)
        #expect(out.contains("mounts.web/uploads: web is a symbolic link in the repository; a mount must be a plain directory"), "\(out)")

        // A web root climbing out of the application.
        try tree.git(["rm", "-q", "web"])
        let root = Self.app + "\n  locations:\n    /:\n      root: ../../..\n      passthru: true\n"
        _ = try tree.commit([".platform.app.yaml": root, "server.py": "print()\n"])
        (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st != 0)
        #expect(out.contains("root: ../../.. leaves the application's directory"), "\(out)")
        #expect(try tree.remoteHead("main") == nil)
    }

    @Test("names with control characters are refused; the data directory and its files are private", arguments: Backend.allCases)
    func namesAndDataDirectory(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let http = try await s.login()
        let project = try await s.createProject(http)
        let pid = try #require(project["id"]?.stringValue)
        for name in ["bad\u{0}name", "bad\u{1}name", "bad\u{7F}name", "env:A\u{0}B"] {
            let r = try await http.post("/projects/\(pid)/variables", ["name": .string(name), "value": "x"])
            #expect(r.status == 400, "\(name.debugDescription): \(r.status) \(r.text)")
            #expect(r.json["detail"]?["name"] != nil || r.text.contains("name"), "\(r.text)")
        }
        let nulValue = try await http.post("/projects/\(pid)/variables", ["name": "fine", "value": "a\u{0}b"])
        #expect(nulValue.status == 400, "\(nulValue.text)")
        #expect(try await http.get("/projects/\(pid)/variables").json.arrayValue?.isEmpty == true)

        func mode(_ path: String) -> mode_t {
            var st = stat()
            return stat(path, &st) == 0 ? st.st_mode & 0o777 : 0o7777
        }
        #expect(mode(s.dataDir) == 0o700)
        for f in (backend == .sqlite ? ["grove.sqlite"] : []) + ["secret.key", "initial-api-token"] { #expect(mode(s.dataDir + "/" + f) & 0o077 == 0, "\(f): \(String(mode(s.dataDir + "/" + f), radix: 8))") }
    }

    @Test("sensitive values and the signing key are sealed at rest", arguments: Backend.allCases)
    func secretsAtRest(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let (http, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        let secret = "sealed-\(UUID().uuidString)"
        var r = try await http.post("/projects/\(pid)/variables", ["name": "env:API_KEY", "value": .string(secret), "is_sensitive": true])
        #expect(r.status == 201, "\(r.text)")
        r = try await http.post("/projects/\(pid)/environments/main/variables", ["name": "env:OTHER_KEY", "value": .string(secret + "-env"), "is_sensitive": true])
        #expect(r.status == 201, "\(r.text)")
        let server = "import os, http.server\nclass H(http.server.BaseHTTPRequestHandler):\n    def do_GET(self):\n        self.send_response(200); self.end_headers(); self.wfile.write(os.environ['API_KEY'].encode())\nhttp.server.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()\n"
        try tree.commit([".platform.app.yaml": Self.app, "server.py": server])
        let (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        // The application gets the value; nothing on disk holds it in plain text.
        let (code, body) = try s.fetch(pid)
        #expect(code == 200 && body == secret, "\(code) \(body)")
        let (_, grep) = try Spawn.run("/bin/grep", ["-r", "-l", "-a", "-F", secret, s.dataDir])
        #expect(grep.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "found in: \(grep)")
        if backend == .postgres, let url = s.databaseURL {
            let (dst, dump) = try Spawn.run(PostgresHarness.binary("pg_dump"), ["--no-owner", url])
            #expect(dst == 0 && dump.contains("CREATE TABLE"), "\(dump.prefix(300))")
            #expect(!dump.contains(secret))
            #expect(dump.contains("grove-sealed:v1:"))
        }
        // A restart reads them back with the key file.
        await s.stop()
        try await s.launch()
        let again = try await s.login()
        let v = try await again.get("/projects/\(pid)/variables/env:API_KEY").json
        #expect(v["is_sensitive"]?.boolValue == true && v["value"] == nil)
        // The application comes back with the value (unsealed from its deployment record) once it listens again.
        var (code2, body2) = (0, "")
        try await waitFor {
            (code2, body2) = try s.fetch(pid)
            return code2 == 200
        }
        #expect(code2 == 200 && body2 == secret, "\(code2) \(body2)")
    }

    @Test("a push right after the project is requested waits for its repository", arguments: Backend.allCases)
    func pushWhileTheProjectIsCreated(backend: Backend) async throws {
        // Each step of project.create pauses a second: the repository appears only seconds after the request.
        let s = try await TestServer.start(backend, stepDelayMs: 1000)
        defer { s.stopNow() }
        let http = try await s.login()
        let org = try #require(try await http.get("/organizations").json["items"]?.arrayValue?.first?["id"]?.stringValue)
        let sub = try await http.post("/organizations/\(org)/subscriptions", ["project_title": "Fresh"])
        let pid = try #require(sub.json["project_id"]?.stringValue)
        let url = try #require(try await http.get("/projects/\(pid)").json["repository"]?["http_url"]?.stringValue)
        let tree = GitWorkTree(remote: url.replacingOccurrences(of: "http://", with: "http://grove:\(s.initialToken)@"))
        try tree.initialize()
        defer { tree.remove() }
        try tree.commit(["README": "hello\n"])
        let (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out) (work tree there: \(FileManager.default.fileExists(atPath: tree.dir)))")
        #expect(!out.contains("Repository not found"), "\(out)")
    }

    @Test("a restart removes half-made builds, scratch checkouts and backups without a record", arguments: Backend.allCases)
    func leftoversOfAKilledRun(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let (_, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit([".platform.app.yaml": Self.app, "server.py": "import os, http.server\nhttp.server.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), http.server.SimpleHTTPRequestHandler).serve_forever()\n"])
        let (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        let fm = FileManager.default
        let finished = try fm.contentsOfDirectory(atPath: s.dataDir + "/builds")
        // What a SIGKILL in the middle of a build, a source operation and a backup copy leaves.
        let leftovers = [s.dataDir + "/builds/0123456789abcdef-half/app/big", s.dataDir + "/tmp/source-operations/act1/.git",
                         s.dataDir + "/backups/\(pid)/unrecorded/mounts/app"]
        for path in leftovers { try fm.createDirectory(atPath: path, withIntermediateDirectories: true) }
        s.process?.signal(SIGKILL)
        _ = s.process?.wait()
        await s.stop()
        try await s.launch()
        #expect(!fm.fileExists(atPath: s.dataDir + "/builds/0123456789abcdef-half"))
        #expect(!fm.fileExists(atPath: s.dataDir + "/tmp"))
        #expect(!fm.fileExists(atPath: s.dataDir + "/backups/\(pid)/unrecorded"))
        for b in finished { #expect(fm.fileExists(atPath: s.dataDir + "/builds/\(b)/.grove-ready"), "\(b)") }
        try await waitFor { try s.fetch(pid).0 == 200 }
    }

    @Test("tenant code runs unprivileged and sees only its own files", .enabled(if: runsAsRoot && hasBubblewrap), arguments: Backend.allCases)
    func unprivilegedSandbox(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let (http, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        let apiPort = URL(string: s.baseURL)?.port ?? 0
        // The build also tries Grove's API on the host's loopback: it has a network of its own.
        let reach = "python3 -c 'import socket; s = socket.socket(); s.settimeout(2); print(\"open\" if s.connect_ex((\"127.0.0.1\", \(apiPort))) == 0 else \"closed\")' > build-api.txt"
        let app = Self.app + "\nhooks:\n  build: |\n    id -u > build-uid.txt\n    \(reach)\nmounts:\n  uploads:\n    source: local\n"
        try tree.commit([".platform.app.yaml": app, "server.py": Self.probe])
        var (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        var (code, body) = try s.fetch(pid, path: "/?" + s.dataDir)
        #expect(code == 200, "\(body)")
        let j = (try? JSON.parse(body)) ?? .null
        #expect(j["uid"]?.intValue != 0 && j["euid"]?.intValue != 0, "\(body)")
        #expect(j["build_uid"]?.stringValue != "0", "\(body)")
        if Self.hasNetworkTools { #expect(j["build_api"] == "closed", "\(body)") }
        #expect(j["groups"]?.arrayValue?.contains(.int(0)) != true, "\(body)")
        #expect(j["shadow"] == false, "\(body)")
        #expect(j["root"] == .null && j["home"] == .null, "\(body)")
        #expect(j["target"] == false, "the data directory is visible: \(body)")
        #expect(j["uploads_writable"] == true, "\(body)")
        let top = Set((j["top"]?.arrayValue ?? []).compactMap(\.stringValue))
        #expect(top.isDisjoint(with: ["root", "home", "srv", "opt", "work", "mnt"]), "\(top.sorted())")

        // A second project's mount holds a file; the first project's app cannot name it.
        let (_, pid2, tree2) = try await GitPushTests().project(s)
        defer { tree2.remove() }
        _ = pid2
        let writer = app.replacingOccurrences(of: "id -u > build-uid.txt", with: "id -u > build-uid.txt")
        try tree2.commit([".platform.app.yaml": writer, "server.py": Self.probe])
        (st, out) = try tree2.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        let otherMount = s.dataDir + "/mounts/\(pid2)/main/app/local/uploads"
        #expect(FileManager.default.fileExists(atPath: otherMount))
        (code, body) = try s.fetch(pid, path: "/?" + otherMount)
        #expect(code == 200 && ((try? JSON.parse(body))?["target"] == false), "\(body)")
        _ = http
    }

    /// Answers `/?host:port` with whether a TCP connection there opens, from inside the application's sandbox.
    static let connector = """
    import os, socket, http.server
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def do_GET(self):
            host, port = self.path.split("?", 1)[1].rsplit(":", 1)
            if host == "dns":
                try:
                    socket.getaddrinfo(port, 443); ok = b"resolved"
                except Exception:
                    ok = b"unresolved"
                self.send_response(200); self.end_headers(); self.wfile.write(ok); return
            s = socket.socket(); s.settimeout(2)
            try:
                s.connect((host, int(port))); ok = b"open"
            except Exception as e:
                ok = b"closed"
            finally:
                s.close()
            self.send_response(200); self.end_headers(); self.wfile.write(ok)
    http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
    """

    static let hasNetworkTools = ["/usr/sbin/ip", "/usr/sbin/nft", "/usr/bin/nsenter"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }

    @Test("each environment has its own network: its services yes, other projects' services, Grove's API and the host no",
          .enabled(if: runsAsRoot && hasBubblewrap && hasNetworkTools), arguments: Backend.allCases)
    func networkPerEnvironment(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let app = Self.app + "\nrelationships:\n  cache: \"cache:redis\"\n"
        let services = "cache:\n  type: redis:7.0\n"
        var projects: [(http: HTTP, pid: String, tree: GitWorkTree)] = []
        for _ in 0..<2 {
            let (http, pid, tree) = try await GitPushTests().project(s)
            try tree.commit([".platform.app.yaml": app, ".platform/services.yaml": services, "server.py": Self.connector])
            let (st, out) = try tree.push(["HEAD:refs/heads/main"])
            #expect(st == 0, "\(out)")
            projects.append((http, pid, tree))
        }
        defer { for p in projects { p.tree.remove() } }
        func rel(_ i: Int) async throws -> JSON {
            try #require(try await projects[i].http.get("/projects/\(projects[i].pid)/environments/main/relationships").json["app"]?["cache"]?.arrayValue?.first)
        }
        let mine = try await rel(0), theirs = try await rel(1)
        func probe(_ target: String) throws -> String { try s.fetch(projects[0].pid, path: "/?" + target).1 }
        // Its own service, on its own loopback.
        #expect(try probe("127.0.0.1:\(mine["port"]?.intValue ?? 0)") == "open")
        // The other project's service: neither on this loopback nor at the address the host reaches it by.
        #expect(try probe("127.0.0.1:\(theirs["port"]?.intValue ?? 0)") == "closed")
        #expect(try probe("\(theirs["grove_host"]?.stringValue ?? ""):\(theirs["port"]?.intValue ?? 0)") == "closed")
        // Grove's API and router on the host's loopback.
        let apiPort = URL(string: s.baseURL)?.port ?? 0
        #expect(try probe("127.0.0.1:\(apiPort)") == "closed")
        #expect(try probe("127.0.0.1:\(s.routerPort)") == "closed")
        // The host's end of the environment's own link: nothing of the host answers there either.
        let hostEnd = (mine["grove_host"]?.stringValue ?? "").split(separator: ".").map(String.init)
        if hostEnd.count == 4, let last = Int(hostEnd[3]) {
            let gateway = hostEnd.dropLast().joined(separator: ".") + ".\(last - 1)"
            // A host service listening on every address, as many do.
            let port = try PostgresHarness.freePort()
            let listener = try Spawn.start("/usr/bin/python3", ["-m", "http.server", "--bind", "0.0.0.0", String(port)])
            defer { listener.signal(SIGKILL); _ = listener.wait() }
            try await waitFor { Spawn.curlCode("http://127.0.0.1:\(port)/") == 200 }
            #expect(try probe("\(gateway):\(port)") == "closed")
        }
        // The host reaches the service where the API says (the CLI's db:sql does the same).
        let (st, out) = try Spawn.run("/usr/bin/redis-cli", ["-h", mine["grove_host"]?.stringValue ?? "", "-p", "\(mine["port"]?.intValue ?? 0)", "--no-auth-warning",
                                                           "-a", mine["password"]?.stringValue ?? "", "ping"])
        #expect(st == 0 && out.contains("PONG"), "\(out)")
    }

    @Test("private networks around the host are closed to environments, except the host's DNS resolvers and what --egress-allow opens",
          .enabled(if: runsAsRoot && hasBubblewrap && hasNetworkTools))
    func privateNetworks() async throws {
        // A machine on a private network beside the host: a namespace of its own behind a veth pair, serving HTTP.
        let id = String(UUID().uuidString.prefix(4)).lowercased(), block = Int.random(in: 1...250)
        let ns = "gtp\(id)", hostEnd = "10.213.\(block).1", target = "10.213.\(block).2", port = 8080
        func ip(_ args: [String]) throws {
            let (st, out) = try Spawn.run("/usr/sbin/ip", args)
            guard st == 0 else { throw TestFailure("ip \(args.joined(separator: " ")): \(out)") }
        }
        try ip(["netns", "add", ns])
        defer { _ = try? Spawn.run("/usr/sbin/ip", ["netns", "delete", ns]) }
        try ip(["link", "add", ns + "h", "type", "veth", "peer", "name", ns + "n", "netns", ns])
        try ip(["addr", "add", hostEnd + "/30", "dev", ns + "h"])
        try ip(["link", "set", ns + "h", "up"])
        try ip(["-n", ns, "addr", "add", target + "/30", "dev", ns + "n"])
        try ip(["-n", ns, "link", "set", ns + "n", "up"])
        try ip(["-n", ns, "link", "set", "lo", "up"])
        let listener = try Spawn.start("/usr/sbin/ip", ["netns", "exec", ns, "/usr/bin/python3", "-m", "http.server", "--bind", target, String(port)])
        defer { listener.signal(SIGKILL); _ = listener.wait() }
        try await waitFor { Spawn.curlCode("http://\(target):\(port)/") == 200 }
        let hostResolves = (try? Spawn.run("/usr/bin/getent", ["hosts", "pypi.org"]).0) == 0

        for (args, expected) in [([String](), "closed"), (["--egress-allow", "10.213.\(block).0/30"], "open")] {
            let s = try await TestServer.start(.sqlite, extraArgs: args)
            defer { s.stopNow() }
            let (http, pid, tree) = try await GitPushTests().project(s)
            defer { tree.remove() }
            try tree.commit([".platform.app.yaml": Self.app, "server.py": Self.connector])
            let (st, out) = try tree.push(["HEAD:refs/heads/main"])
            #expect(st == 0, "\(out)")
            guard try await http.get("/grove/system").json["network"]?.stringValue == "isolated" else { return }
            #expect(try s.fetch(pid, path: "/?\(target):\(port)").1 == expected, "\(args)")
            // Names still resolve through the host's resolvers (here, as on many clouds, at a private address).
            if hostResolves { #expect(try s.fetch(pid, path: "/?dns:pypi.org").1 == "resolved") }
        }
        #expect(Spawn.curlCode("http://\(target):\(port)/") == 200, "the host itself still reaches it")
    }

    /// `/fork` forks until refused and reports how many children it got; `/fill` writes 400 MB to /tmp.
    static let greedy = """
    import os, time, http.server
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def do_GET(self):
            if self.path == "/fork":
                kids = 0
                for i in range(400):
                    try:
                        pid = os.fork()
                    except OSError:
                        break
                    if pid == 0:
                        time.sleep(5); os._exit(0)
                    kids += 1
                body = str(kids).encode()
            else:
                with open("/tmp/fill", "wb") as f:
                    for i in range(40):
                        f.write(b"x" * (10 << 20)); f.flush()
                body = b"wrote 400 MB"
            self.send_response(200); self.end_headers(); self.wfile.write(body)
    http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
    """

    @Test("an application of size AUTO is still held: processes and memory (its /tmp) have a ceiling", .enabled(if: runsAsRoot && hasBubblewrap))
    func runtimeCeilings() async throws {
        let s = try await TestServer.start(.sqlite, extraArgs: ["--app-max-memory", "128", "--app-max-processes", "64"])
        defer { s.stopNow() }
        let (_, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit([".platform.app.yaml": Self.app, "server.py": Self.greedy])
        let (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        let (code, body) = try s.fetch(pid, path: "/fork")
        #expect(code == 200 && (Int(body) ?? 999) < 64, "\(code) \(body)")
        let (_, filled) = try s.fetch(pid, path: "/fill")
        #expect(filled != "wrote 400 MB", "an AUTO application filled 400 MB of /tmp past a 128 MB ceiling")
    }

    @Test("a build past its limits fails naming the limit: disk, processes, memory", .enabled(if: runsAsRoot && hasBubblewrap), arguments: Backend.allCases)
    func buildLimits(backend: Backend) async throws {
        let s = try await TestServer.start(backend, extraArgs: ["--build-max-output", "64", "--build-max-processes", "64"])
        defer { s.stopNow() }
        let (http, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        let server = "import os, http.server\nhttp.server.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), http.server.SimpleHTTPRequestHandler).serve_forever()\n"
        func push(_ hook: String) throws -> (Int32, String) {
            _ = try tree.commit([".platform.app.yaml": Self.app + "\nhooks:\n  build: |\n" + hook.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n") + "\n",
                                 "server.py": server])
            return try tree.push(["HEAD:refs/heads/main"])
        }
        // Disk: 400 MB written in small steps; stopped once the output passes 64 MB.
        var (st, out) = try push("for i in $(seq 400); do head -c 1048576 /dev/zero > blob-$i; sleep 0.01; done")
        #expect(st != 0)
        #expect(out.contains("over the build limit of 64 MB"), "\(out)")
        // Processes: a fork bomb stops at the limit.
        (st, out) = try push("python3 -c 'import os, sys, time\nkids = 0\nfor i in range(400):\n    try:\n        pid = os.fork()\n    except OSError:\n        print(\"fork refused after\", kids); sys.exit(3)\n    if pid == 0:\n        time.sleep(30); os._exit(0)\n    kids += 1\n'")
        #expect(st != 0)
        #expect(out.contains("fork refused after"), "\(out)")
        #expect(out.contains("limit of 64 processes"), "\(out)")
        // Memory: /tmp is memory; 600 MB in it with a 256 MB build is stopped.
        let r = try await http.patch("/projects/\(pid)/settings", ["build_resources": ["cpu": 1.0, "memory": 256]])
        #expect(r.status == 200, "\(r.text)")
        let tooMuch = try await http.patch("/projects/\(pid)/settings", ["build_resources": ["cpu": 1.0, "memory": 999_999]])
        #expect(tooMuch.status == 400, "\(tooMuch.text)")
        (st, out) = try push("head -c 629145600 /dev/zero > /tmp/fill")
        #expect(st != 0)
        #expect(out.contains("more than the build's 256 MB of memory"), "\(out)")
        // Within the limits the same project builds and serves.
        (st, out) = try push("echo fine > fine.txt")
        #expect(st == 0, "\(out)")
    }
}
