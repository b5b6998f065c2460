import Foundation
import GroveModel
import Testing

@Suite("Merge and synchronize")
struct MergeSyncTests {
    static let app = """
    name: app
    type: python:3.11
    relationships:
      database: "db:postgresql"
    web:
      commands:
        start: python3 server.py
    """
    static let server = """
    import os, json, base64, subprocess, http.server
    d = json.loads(base64.b64decode(os.environ["PLATFORM_RELATIONSHIPS"]))["database"][0]
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def do_GET(self):
            rows = subprocess.run(["psql", "-h", d["host"], "-p", str(d["port"]), "-U", d["username"], "-d", d["path"], "-qAtc",
                                   "select coalesce(string_agg(v, ',' order by v), '') from t"],
                                  capture_output=True, text=True, env=dict(os.environ, PGPASSWORD=d["password"])).stdout.strip()
            body = (open("version.txt").read().strip() + "|" + rows).encode()
            self.send_response(200); self.end_headers(); self.wfile.write(body)
    http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
    """

    func sql(_ http: HTTP, _ pid: String, _ env: String, _ statement: String) async throws {
        let rels = try await http.get("/projects/\(pid)/environments/\(env)/relationships").json
        let d = try #require(rels["app"]?["database"]?.arrayValue?.first)
        let (st, out) = try Spawn.run("/usr/bin/env", ["PGPASSWORD=\(d["password"]?.stringValue ?? "")", "/usr/bin/psql", "-h", d["grove_host"]?.stringValue ?? "", "-p", "\(d["port"]?.intValue ?? 0)",
                                                       "-U", "main", "-d", "main", "-qAtc", statement])
        #expect(st == 0, "\(out)")
    }

    func act(_ http: HTTP, _ pid: String, _ env: String, _ action: String, _ body: JSON = [:]) async throws -> (HTTPResult, JSON?) {
        let r = try await http.post("/projects/\(pid)/environments/\(env)/\(action)", body)
        guard r.status == 200, let a = r.json["_embedded"]?["activities"]?.arrayValue?.first else { return (r, nil) }
        return (r, try await waitForActivity(http, a))
    }

    @Test("merge fast-forwards or merges code into the parent, keeps its data; conflicts refused; synchronize brings data down")
    func mergeAndSynchronize() async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let (http, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit([".platform.app.yaml": Self.app, ".platform/services.yaml": "db:\n  type: postgresql:15\n  disk: 512\n",
                         "server.py": Self.server, "version.txt": "one\n"])
        var (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        try await sql(http, pid, "main", "create table t (v text); insert into t values ('m1')")
        try tree.git(["checkout", "-q", "-b", "feature"])
        (st, out) = try tree.push(["-o", "environment.status=active", "HEAD:refs/heads/feature"])
        #expect(st == 0, "\(out)")
        try await sql(http, pid, "feature", "insert into t values ('f1')")
        try tree.commit(["version.txt": "two\n"])
        (st, out) = try tree.push(["HEAD:refs/heads/feature"])
        #expect(st == 0, "\(out)")
        #expect(try s.fetch(pid, environment: "feature").1 == "two|f1,m1")

        // Fast-forward merge: main runs the new code with its own data.
        var (r, a) = try await act(http, pid, "feature", "merge")
        #expect(a?["result"] == "success" && a?["type"] == "environment.merge", "\(r.text) \(a ?? .null)")
        #expect(try s.fetch(pid).1 == "two|m1")
        #expect(try tree.remoteHead("main") == tree.remoteHead("feature"))

        // Diverged: a merge commit; then a conflict is refused with the file named.
        try tree.git(["checkout", "-q", "main"])
        try tree.git(["pull", "-q", tree.remote, "main"])
        try tree.commit(["main.txt": "m\n"])
        (st, out) = try tree.push(["HEAD:refs/heads/main"])
        try tree.git(["checkout", "-q", "feature"])
        try tree.commit(["version.txt": "three\n"])
        (st, out) = try tree.push(["HEAD:refs/heads/feature"])
        (r, a) = try await act(http, pid, "feature", "merge")
        #expect(a?["result"] == "success", "\(r.text)")
        #expect(try s.fetch(pid).1 == "three|m1")
        let merged = try await http.get("/projects/\(pid)/git/commits/\(try tree.remoteHead("main") ?? "")").json
        #expect(merged["parents"]?.arrayValue?.count == 2 && merged["message"]?.stringValue?.hasPrefix("Merge branch 'feature' into main") == true, "\(merged)")

        try tree.commit(["version.txt": "feature-side\n"])
        (st, out) = try tree.push(["HEAD:refs/heads/feature"])
        try tree.git(["checkout", "-q", "main"])
        try tree.git(["pull", "-q", tree.remote, "main"])
        try tree.commit(["version.txt": "main-side\n"])
        (st, out) = try tree.push(["HEAD:refs/heads/main"])
        let mainBefore = try tree.remoteHead("main")
        (r, _) = try await act(http, pid, "feature", "merge")
        #expect(r.status == 409 && r.text.contains("version.txt"), "\(r.text)")
        #expect(try tree.remoteHead("main") == mainBefore)

        // Synchronize: unmerged commits need rebase for code (refused here: it would conflict too); data comes down.
        (r, _) = try await act(http, pid, "feature", "synchronize", ["synchronize_code": true, "synchronize_data": false, "rebase": false, "synchronize_resources": false])
        #expect(r.status == 400 && r.json["detail"]?["rebase"] != nil, "\(r.text)")
        (r, a) = try await act(http, pid, "feature", "synchronize", ["synchronize_code": false, "synchronize_data": true, "rebase": false, "synchronize_resources": false])
        #expect(a?["result"] == "success", "\(r.text)")
        #expect(try s.fetch(pid, environment: "feature").1 == "feature-side|m1")
        let cli = ["GROVE_API_URL": s.baseURL, "GROVE_TOKEN": s.initialToken, "GROVE_CONFIG_DIR": s.dataDir + "-cli"]
        let (cs, co) = try CLI.run(["environment:synchronize", "-p", pid, "-e", "feature", "code", "--rebase"], env: cli)
        #expect(cs != 0 && co.contains("conflicts in: version.txt"), "\(co)")
        #expect(try s.fetch(pid, environment: "feature").1 == "feature-side|m1")
    }
}
