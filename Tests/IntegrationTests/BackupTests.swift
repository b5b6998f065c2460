import Foundation
import GroveModel
import Testing

@Suite("Backups and restores")
struct BackupTests {
    @Test("backup, write, restore gives back the backed-up rows; restore into a new environment; delete")
    func backupAndRestore() async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let (http, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        let m = MergeSyncTests()
        try tree.commit([".platform.app.yaml": MergeSyncTests.app, ".platform/services.yaml": "db:\n  type: postgresql:15\n  disk: 512\n",
                         "server.py": MergeSyncTests.server, "version.txt": "one\n"])
        let (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        try await m.sql(http, pid, "main", "create table t (v text); insert into t values ('b1')")
        let env = "/projects/\(pid)/environments/main"

        var r = try await http.post(env + "/backup", ["safe": true])
        #expect(r.status == 202, "\(r.text)")
        var a = try await waitForActivity(http, try #require(r.json["_embedded"]?["activities"]?.arrayValue?.first))
        #expect(a["result"] == "success" && a["type"] == "environment.backup", "\(a)")
        let backups = try await http.get(env + "/backups").json.arrayValue ?? []
        let b = try #require(backups.first)
        let id = try #require(b["id"]?.stringValue)
        let mainHead = try tree.remoteHead("main")
        #expect(backups.count == 1 && b["safe"] == true && b["status"] == "CREATED" && b["commit_id"]?.stringValue == mainHead)
        #expect((b["size_of_volumes"]?.intValue ?? 0) > 0 && b["restorable"] == true)

        try await m.sql(http, pid, "main", "insert into t values ('after')")
        #expect(try s.fetch(pid).1 == "one|after,b1")
        r = try await http.post(env + "/backups/\(id)/restore", [:])
        a = try await waitForActivity(http, try #require(r.json["_embedded"]?["activities"]?.arrayValue?.first))
        #expect(a["result"] == "success" && a["type"] == "environment.restore", "\(a)")
        #expect(try s.fetch(pid).1 == "one|b1")

        // Into a new environment: created from main, with the backup's data.
        r = try await http.post(env + "/backups/\(id)/restore", ["environment_name": "restored"])
        a = try await waitForActivity(http, try #require(r.json["_embedded"]?["activities"]?.arrayValue?.first))
        #expect(a["result"] == "success", "\(a)")
        #expect(try s.fetch(pid, environment: "restored").1 == "one|b1")
        #expect(try await http.get("/projects/\(pid)/environments/restored").json["status"] == "active")

        // Bad input: unknown backups, and a backup restored through another environment's path.
        #expect(try await http.post(env + "/backups/nope/restore", [:]).status == 404)
        #expect(try await http.get("/projects/\(pid)/environments/restored/backups/\(id)").status == 404)
        // Deleting through a path that climbs, or another environment's path: refused, nothing queued, the data stays.
        let before = (try await http.get(env + "/activities").json.arrayValue ?? []).count
        for hostile in ["..%2F..%2Fvolumes", "%2E%2E", "..%2F\(id)"] {
            let d = try await http.delete(env + "/backups/\(hostile)")
            #expect(d.status == 404 && d.json["message"]?.stringValue?.isEmpty == false, "\(hostile): \(d.status) \(d.text)")
        }
        #expect(try await http.delete("/projects/\(pid)/environments/restored/backups/\(id)").status == 404)
        #expect((try await http.get(env + "/activities").json.arrayValue ?? []).count == before)
        #expect(FileManager.default.fileExists(atPath: s.dataDir + "/volumes/_backups/\(pid)/\(id)"))

        let cli = ["GROVE_API_URL": s.baseURL, "GROVE_TOKEN": s.initialToken, "GROVE_CONFIG_DIR": s.dataDir + "-cli"]
        var (cs, co) = try CLI.run(["backup:list", "-p", pid, "--format", "csv"], env: cli)
        #expect(cs == 0 && co.contains(id), "\(co)")
        (cs, co) = try CLI.run(["backup:create", "-p", pid, "--live"], env: cli)
        #expect(cs == 0 && co.contains("Backup"), "\(co)")
        (cs, co) = try CLI.run(["backup:delete", "-p", pid, id], env: cli)
        #expect(cs == 0, "\(co)")
        let left = try await http.get(env + "/backups").json.arrayValue ?? []
        #expect(left.count == 1 && left.first?["safe"] == false && left.first?["id"]?.stringValue != id)
        #expect(!FileManager.default.fileExists(atPath: s.dataDir + "/volumes/_backups/\(pid)/\(id)"))
    }

    @Test("automated backups follow the project's data_retention schedule and expire; manual backups beyond manual_count are replaced")
    func automatedBackupsAndRetention() async throws {
        let s = try await TestServer.start(.sqlite, extraArgs: ["--backup-check-interval", "1"])
        defer { s.stopNow() }
        let (http, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit([".platform.app.yaml": """
            name: app
            type: python:3.11
            web:
              commands:
                start: python3 -m http.server $PORT --bind 127.0.0.1
            mounts:
              data:
                source: local
                source_path: data
            """])
        let (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        let settings = "/projects/\(pid)/settings"
        let env = "/projects/\(pid)/environments/main"

        // Bad policies are refused and change nothing.
        let before = try await http.get(settings).json["data_retention"]
        var r = try await http.patch(settings, ["data_retention": ["production": ["max_backups": 4, "default_config": ["manual_count": 1, "schedule": [["interval": "3 days", "count": 2]]]]]])
        #expect(r.status == 400 && r.text.contains("interval"), "\(r.text)")
        r = try await http.patch(settings, ["data_retention": ["preview": ["max_backups": 4, "default_config": ["manual_count": 1, "schedule": []]]]])
        #expect(r.status == 400 && r.text.contains("data_retention.preview"), "\(r.text)")
        #expect(try await http.get(settings).json["data_retention"] == before)

        r = try await http.patch(settings, ["data_retention": ["production": ["max_backups": 4, "default_config": ["manual_count": 1, "schedule": [["interval": "3s", "count": 2]]]]]])
        #expect(r.status == 200, "\(r.text)")

        // The scheduler takes a live backup every 3 s; the third one expires the first.
        var completed: [JSON] = []
        try await waitFor(timeout: 60) {
            completed = try await http.get("/projects/\(pid)/activities?type=environment.backup&state=complete").json.arrayValue ?? []
            return completed.count >= 3
        }
        // The first backup is the one the earliest backup activity made (whenever this test got to look).
        let firstId = completed.min { ($0["created_at"]?.stringValue ?? "") < ($1["created_at"]?.stringValue ?? "") }?["parameters"]?["backup_name"]?.stringValue
        let automated = try await http.get(env + "/backups").json.arrayValue ?? []
        #expect(!automated.isEmpty && automated.count <= 2, "\(automated)")
        #expect(automated.allSatisfy { $0["automated"] == true && $0["safe"] == false && $0["expires_at"]?.stringValue != nil })
        let ids = automated.compactMap { $0["id"]?.stringValue }
        #expect(firstId != nil && !ids.contains(firstId ?? ""), "the oldest automated backup \(firstId ?? "?") expired: \(ids)")
        #expect(completed.allSatisfy { $0["result"] == "success" }, "\(completed)")

        // Stop the schedule; manual backups keep only the newest one.
        r = try await http.patch(settings, ["data_retention": ["production": ["max_backups": 4, "default_config": ["manual_count": 1, "schedule": []]]]])
        #expect(r.status == 200)
        var manual: [String] = []
        for _ in 0..<2 {
            r = try await http.post(env + "/backup", ["safe": true])
            let a = try await waitForActivity(http, try #require(r.json["_embedded"]?["activities"]?.arrayValue?.first))
            #expect(a["result"] == "success", "\(a)")
            manual.append(try #require(a["parameters"]?["backup_name"]?.stringValue))
        }
        let left = (try await http.get(env + "/backups").json.arrayValue ?? []).filter { $0["automated"] == false }
        #expect(left.map { $0["id"]?.stringValue } == [manual[1]], "\(left)")

        // Bad input: a backup restored through another project, a branch from an inactive environment.
        let (_, other, otherTree) = try await GitPushTests().project(s)
        defer { otherTree.remove() }
        try otherTree.commit(["README": "x\n"])
        _ = try otherTree.push(["HEAD:refs/heads/main"])
        r = try await http.post("/projects/\(other)/environments/main/backups/\(manual[1])/restore", [:])
        #expect(r.status == 404 && r.json["code"] == 404, "\(r.text)")
        _ = try tree.push(["HEAD:refs/heads/idle"])
        r = try await http.post("/projects/\(pid)/environments/idle/branch", ["name": "child"])
        #expect(r.status == 400 && r.text.contains("only an active environment can be branched"), "\(r.text)")
    }
}
