import Foundation
import GroveModel
import Testing

/// PostgreSQL, MariaDB and Redis per environment, reached through PLATFORM_RELATIONSHIPS, and copied to branches.
@Suite("Managed services and branch data", .serialized)
struct ServiceTests {
    static let app = """
    name: app
    type: python:3.11
    relationships:
      database: "db:postgresql"
      cache: "cache:redis"
      mysql: "mdb:mysql"
    web:
      commands:
        start: python3 server.py
    """
    static let services = """
    db:
      type: postgresql:15
      disk: 512
    cache:
      type: redis-persistent:7.0
      disk: 256
    mdb:
      type: mariadb:10.11
      disk: 512
    """
    /// Reads every service from inside the sandbox with the distribution's clients and the relationship credentials.
    static let server = """
    import os, json, base64, subprocess, http.server
    rels = json.loads(base64.b64decode(os.environ["PLATFORM_RELATIONSHIPS"]))
    def run(argv, env=None):
        return subprocess.run(argv, capture_output=True, text=True, env=dict(os.environ, **(env or {}))).stdout.strip()
    def read():
        d, c, m = rels["database"][0], rels["cache"][0], rels["mysql"][0]
        return {
            "pg": run(["psql", "-h", d["host"], "-p", str(d["port"]), "-U", d["username"], "-d", d["path"], "-qAtc",
                       "select coalesce(string_agg(v, ',' order by v), '') from t"], {"PGPASSWORD": d["password"]}),
            "redis": run(["redis-cli", "-h", c["host"], "-p", str(c["port"]), "--no-auth-warning", "-a", c["password"], "get", "k"]),
            "maria": run(["mariadb", "--no-defaults", "-h", m["host"], "-P", str(m["port"]), "-u", m["username"], "-p" + m["password"], m["path"],
                          "-N", "-e", "select coalesce(group_concat(v order by v), '') from t"]),
        }
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def do_GET(self):
            body = json.dumps(rels if self.path == "/rels" else read()).encode()
            self.send_response(200); self.send_header("Content-Type", "application/json"); self.end_headers(); self.wfile.write(body)
    http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
    """

    /// Writes through the host's clients with the credentials an environment's app sees.
    /// `rels`: the API's view of the app's relationships, with `grove_host`, where this host reaches the environment.
    func write(_ rels: JSON, _ value: String, createTables: Bool = false) throws {
        let d = try #require(rels["database"]?.arrayValue?.first), c = try #require(rels["cache"]?.arrayValue?.first), m = try #require(rels["mysql"]?.arrayValue?.first)
        let host = try #require(d["grove_host"]?.stringValue)
        let pgSQL = (createTables ? "create table t (v text); " : "") + "insert into t values ('\(value)')"
        var (st, out) = try Spawn.run("/usr/bin/env", ["PGPASSWORD=\(d["password"]?.stringValue ?? "")", "/usr/bin/psql", "-h", host, "-p", "\(d["port"]?.intValue ?? 0)",
                                                       "-U", d["username"]?.stringValue ?? "", "-d", d["path"]?.stringValue ?? "", "-qAtc", pgSQL])
        #expect(st == 0, "psql: \(out)")
        // Redis asks for the relationship's password: without it, nothing is read or written.
        (st, out) = try Spawn.run("/usr/bin/redis-cli", ["-h", host, "-p", "\(c["port"]?.intValue ?? 0)", "get", "k"])
        #expect(out.contains("NOAUTH"), "redis without a password: \(out)")
        (st, out) = try Spawn.run("/usr/bin/redis-cli", ["-h", host, "-p", "\(c["port"]?.intValue ?? 0)", "--no-auth-warning", "-a", c["password"]?.stringValue ?? "", "set", "k", value])
        #expect(st == 0 && out.contains("OK"), "redis: \(out)")
        let mySQL = (createTables ? "create table t (v varchar(50)); " : "") + "insert into t values ('\(value)')"
        (st, out) = try Spawn.run("/usr/bin/mariadb", ["--no-defaults", "-h", host, "-P", "\(m["port"]?.intValue ?? 0)", "-u", m["username"]?.stringValue ?? "",
                                                       "-p" + (m["password"]?.stringValue ?? ""), m["path"]?.stringValue ?? "", "-e", mySQL])
        #expect(st == 0, "mariadb: \(out)")
    }

    func json(_ s: TestServer, _ pid: String, _ env: String, _ path: String = "/") throws -> JSON {
        let (code, body) = try s.fetch(pid, environment: env, path: path)
        #expect(code == 200, "\(body)")
        return (try? JSON.parse(body)) ?? .null
    }

    func branchWithData(extraArgs: [String], driver: String) async throws {
        let s = try await TestServer.start(.sqlite, extraArgs: extraArgs)
        defer { s.stopNow() }
        let (http, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit([".platform.app.yaml": Self.app, ".platform/services.yaml": Self.services, "server.py": Self.server])
        var (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        #expect(out.contains("Starting service db (postgresql:15)") && out.contains("on a \(driver) volume"), "\(out)")

        // The documented relationship shape.
        let rels = try json(s, pid, "main", "/rels")
        let db = try #require(rels["database"]?.arrayValue?.first)
        #expect(db["scheme"] == "pgsql" && db["username"] == "main" && db["path"] == "main" && db["rel"] == "postgresql" && db["service"] == "db")
        #expect(db["type"] == "postgresql:15" && db["host"] == "127.0.0.1" && db["query"]?["is_master"] == true && db["public"] == false)
        #expect(db["cluster"]?.stringValue?.hasPrefix(pid) == true && db["epoch"] == 0 && db["instance_ips"]?.arrayValue?.count == 1)
        #expect(rels["cache"]?.arrayValue?.first?["scheme"] == "redis" && rels["mysql"]?.arrayValue?.first?["scheme"] == "mysql" && rels["mysql"]?.arrayValue?.first?["path"] == "main")

        try write(try await http.get("/projects/\(pid)/environments/main/relationships").json["app"] ?? .null, "from-main", createTables: true)
        var seen = try json(s, pid, "main")
        #expect(seen["pg"] == "from-main" && seen["redis"] == "from-main" && seen["maria"] == "from-main", "\(seen)")

        // The CLI: services, relationships, SQL and dumps through the relationship.
        let cli = ["GROVE_API_URL": s.baseURL, "GROVE_TOKEN": s.initialToken, "GROVE_CONFIG_DIR": s.dataDir + "-cli"]
        var (cs, co) = try CLI.run(["service:list", "-p", pid, "--format", "csv"], env: cli)
        #expect(cs == 0 && co.contains("db,postgresql:15,512,AUTO") && co.contains("mdb,mariadb:10.11,512"), "\(co)")
        (cs, co) = try CLI.run(["relationships", "-p", pid], env: cli)
        #expect(cs == 0 && co.contains("\"scheme\" : \"pgsql\"") || co.contains("\"scheme\": \"pgsql\""), "\(co)")
        (cs, co) = try CLI.run(["db:sql", "-p", pid, "-r", "database", "select 'row:' || v from t"], env: cli)
        #expect(cs == 0 && co.contains("row:from-main"), "\(co)")
        (cs, co) = try CLI.run(["db:dump", "-p", pid, "-r", "mysql"], env: cli)
        #expect(cs == 0 && co.contains("INSERT INTO `t`") && co.contains("('from-main')"), "\(co)")
        (cs, co) = try CLI.run(["db:sql", "-p", pid], env: cli)
        #expect(cs != 0 && co.contains("Several database relationships"), "\(co)")

        // A new active branch starts with a copy of main's data; its writes stay its own.
        (st, out) = try tree.push(["-o", "environment.status=active", "HEAD:refs/heads/feature"])
        #expect(st == 0, "\(out)")
        #expect(out.contains("Cloned service db from main (\(driver)"), "\(out)")
        seen = try json(s, pid, "feature")
        #expect(seen["pg"] == "from-main" && seen["redis"] == "from-main" && seen["maria"] == "from-main", "\(seen)")
        let featureRels = try json(s, pid, "feature", "/rels")
        #expect(featureRels["database"]?.arrayValue?.first?["port"] != db["port"])
        try write(try await http.get("/projects/\(pid)/environments/feature/relationships").json["app"] ?? .null, "from-feature")
        seen = try json(s, pid, "feature")
        #expect(seen["pg"] == "from-feature,from-main" && seen["redis"] == "from-feature" && seen["maria"] == "from-feature,from-main", "\(seen)")
        seen = try json(s, pid, "main")
        #expect(seen["pg"] == "from-main" && seen["redis"] == "from-main" && seen["maria"] == "from-main", "\(seen)")

        // Deactivating deletes the branch's data; activating copies main's again.
        var r = try await http.post("/projects/\(pid)/environments/feature/deactivate")
        _ = try await waitForActivity(http, try #require(r.json["_embedded"]?["activities"]?.arrayValue?.first))
        #expect(!FileManager.default.fileExists(atPath: s.dataDir + "/volumes/\(pid)/feature/db"))
        r = try await http.post("/projects/\(pid)/environments/feature/activate")
        let a = try await waitForActivity(http, try #require(r.json["_embedded"]?["activities"]?.arrayValue?.first))
        #expect(a["result"] == "success", "\(a)")
        seen = try json(s, pid, "feature")
        #expect(seen["pg"] == "from-main" && seen["maria"] == "from-main", "\(seen)")

        // Services come back after a restart, with their data.
        await s.stop()
        try await s.launch()
        try await waitFor(timeout: 60) { (try? JSON.parse(s.fetch(pid, environment: "main").1))?["pg"] == "from-main" }
    }

    @Test("rows and keys written in main are in a new branch, the branch's writes stay there (plain copies)")
    func branchDataCopy() async throws {
        try await branchWithData(extraArgs: [], driver: "copy")
    }

    @Test("the same on a loop-mounted btrfs image: snapshots", .enabled(if: geteuid() == 0))
    func branchDataBtrfs() async throws {
        try await branchWithData(extraArgs: ["--volume-image", "1G"], driver: "btrfs")
    }

    @Test("disk is enforced on btrfs: a full disk fails writes and says so on deploy; raising it frees writes; shrinking below the data is refused",
          .enabled(if: geteuid() == 0))
    func diskQuota() async throws {
        let receiver = try await FakeProvider.start()
        defer { receiver.stop() }
        let s = try await TestServer.start(.sqlite, extraArgs: ["--volume-image", "2G", "--allow-private-targets", "--disk-check-interval", "2"])
        defer { s.stopNow() }
        let (http, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        #expect(try await http.post("/projects/\(pid)/integrations", ["type": "health.webhook", "url": .string(receiver.base + "/health")]).status == 201)
        let app = "name: app\ntype: python:3.11\nrelationships:\n  database: \"db:postgresql\"\nweb:\n  commands:\n    start: python3 -m http.server $PORT --bind 127.0.0.1\n"
        try tree.commit([".platform.app.yaml": app, ".platform/services.yaml": "db:\n  type: postgresql:15\n  disk: 256\n"])
        var (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        let psql: @Sendable ([String]) async throws -> (Int32, String) = { statements in
            let d = try #require(try await http.get("/projects/\(pid)/environments/main/relationships").json["app"]?["database"]?.arrayValue?.first)
            return try Spawn.run("/usr/bin/env", ["PGPASSWORD=\(d["password"]?.stringValue ?? "")", "/usr/bin/psql", "-h", d["grove_host"]?.stringValue ?? "", "-p", "\(d["port"]?.intValue ?? 0)",
                                                  "-U", "main", "-d", "main", "-v", "ON_ERROR_STOP=1", "-qAt"] + statements.flatMap { ["-c", $0] })
        }
        // Committed batches, so the space stays used after the write that fails.
        let fill = ["create table if not exists big (v text)", "do $$ begin for b in 1..25 loop "
            + "insert into big select repeat(md5(i::text), 40) from generate_series(1, 10000) i; commit; end loop; end $$"]
        (st, out) = try await psql(fill)
        // A table write that hits the limit fails the statement; a WAL write that does stops the server (PostgreSQL
        // panics) and the client only sees the connection drop. Either way the server log names the cause.
        let serviceLog = (try? String(contentsOfFile: s.dataDir + "/logs/\(pid)/main/db.service.log", encoding: .utf8)) ?? ""
        #expect(st != 0 && (out + serviceLog).contains("Disk quota exceeded"), "\(out)")
        // The project's health integration hears of it.
        let alert = try await receiver.waitForRequest(timeout: 60) { ($0["body"]?.stringValue ?? "").contains("disk.full") }
        let event = try JSON.parse(alert["body"]?.stringValue ?? "")
        #expect(event["subject"]?.stringValue == "db" && event["severity"]?.stringValue == "critical" && event["message"]?.stringValue?.contains("of 256 MB") == true,
                "\(event)")

        // The next deploy says the disk is full, and where to raise it.
        try tree.commit(["note.txt": "redeploy\n"])
        (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0 && out.contains("disk is full") && out.contains("services.yaml"), "\(out)")

        try tree.commit([".platform/services.yaml": "db:\n  type: postgresql:15\n  disk: 1536\n"])
        (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        var filled = false
        try await waitFor(timeout: 60) {
            // A WAL write that hit the limit may have restarted the server: retry until it is back.
            let r = try await psql(["drop table if exists big"])
            guard r.0 == 0 else { return false }
            let f = try await psql(fill)
            filled = f.0 == 0
            return filled
        }
        #expect(filled)

        // Shrinking below what the service holds is refused before anything changes.
        try tree.commit([".platform/services.yaml": "db:\n  type: postgresql:15\n  disk: 256\n"])
        (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st != 0 && out.contains("cannot shrink to 256 MB"), "\(out)")
        (st, out) = try await psql(["select count(*) from big"])
        #expect(out.trimmingCharacters(in: .whitespacesAndNewlines) == "250000", "\(out)")
    }

    func branchUnderLoad(extraArgs: [String]) async throws {
        let s = try await TestServer.start(.sqlite, extraArgs: extraArgs)
        defer { s.stopNow() }
        let (http, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit([".platform.app.yaml": "name: app\ntype: python:3.11\nrelationships:\n  database: \"db:postgresql\"\nweb:\n  commands:\n    start: python3 -m http.server $PORT --bind 127.0.0.1\n",
                         ".platform/services.yaml": "db:\n  type: postgresql:15\n  disk: 1024\n"])
        var (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        let d = try #require(try await http.get("/projects/\(pid)/environments/main/relationships").json["app"]?["database"]?.arrayValue?.first)
        let bin = "/usr/lib/postgresql/15/bin"
        let auth = ["PGPASSWORD=\(d["password"]?.stringValue ?? "")"]
        let conn = ["-h", d["grove_host"]?.stringValue ?? "", "-p", "\(d["port"]?.intValue ?? 0)", "-U", "main"]
        (st, out) = try Spawn.run("/usr/bin/env", auth + [bin + "/pgbench", "-q", "-i", "-s", "2"] + conn + ["main"])
        #expect(st == 0, "\(out)")
        // Writes go on while the branch is cloned.
        let load = try Spawn.start("/usr/bin/env", auth + [bin + "/pgbench", "-c", "1", "-T", "8", "-n"] + conn + ["main"])
        try await Task.sleep(for: .seconds(2))
        (st, out) = try tree.push(["-o", "environment.status=active", "HEAD:refs/heads/feature"])
        #expect(st == 0 && out.contains("Cloned service db from main"), "\(out)")
        load.signal(SIGKILL)
        _ = load.wait()
        let f = try #require(try await http.get("/projects/\(pid)/environments/feature/relationships").json["app"]?["database"]?.arrayValue?.first)
        let fport = "\(f["port"]?.intValue ?? 0)"
        let admin = ["-h", s.dataDir + "/run/services/\(pid)/feature/db", "-p", fport, "-U", "postgres"]
        (st, out) = try Spawn.run(bin + "/pg_amcheck", admin + ["--install-missing", "--heapallindexed", "--parent-check", "-d", "main"])
        #expect(st == 0, "amcheck: \(out)")
        let fhost = f["grove_host"]?.stringValue ?? ""
        (st, out) = try Spawn.run("/bin/sh", ["-c", "PGPASSWORD='\(f["password"]?.stringValue ?? "")' \(bin)/pg_dump -h \(fhost) -p \(fport) -U main main > /dev/null"])
        #expect(st == 0, "pg_dump: \(out)")
        (st, out) = try Spawn.run("/usr/bin/env", auth + [bin + "/psql", "-h", fhost, "-p", fport, "-U", "main", "-d", "main", "-qAtc", "select count(*) from pgbench_accounts"])
        #expect(out.trimmingCharacters(in: .whitespacesAndNewlines) == "200000", "\(out)")
    }

    @Test("a PostgreSQL under continuous writes is branched: the clone passes amcheck and a full pg_dump (plain copies, writes held still)")
    func branchUnderLoadCopy() async throws { try await branchUnderLoad(extraArgs: []) }

    @Test("the same on btrfs snapshots", .enabled(if: geteuid() == 0))
    func branchUnderLoadBtrfs() async throws { try await branchUnderLoad(extraArgs: ["--volume-image", "1G"]) }

    @Test("a service version this host cannot run refuses the push and changes nothing")
    func unavailableVersion() async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let (_, _, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit([".platform.app.yaml": "name: app\ntype: python:3.11\nrelationships:\n  database: \"db:postgresql\"\nweb:\n  commands:\n    start: python3 server.py\n",
                         ".platform/services.yaml": "db:\n  type: postgresql:17\n  disk: 512\n", "server.py": Self.server])
        let (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st != 0 && out.contains("postgresql:17 cannot run on this host"), "\(out)")
        #expect(try tree.remoteHead("main") == nil)
    }
}
