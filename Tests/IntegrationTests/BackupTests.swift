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
}
