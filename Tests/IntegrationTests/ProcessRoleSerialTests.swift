import Foundation
import GroveModel
import Testing

/// `grove serve --role`: two API processes and a worker on one PostgreSQL and one data directory.
@Suite("API and worker processes apart", .serialized)
struct ProcessRoleSerialTests {
    static let app = """
        name: app
        type: python:3.12
        web:
          commands:
            start: python3 -m http.server $PORT --bind 127.0.0.1
        hooks:
          deploy: sleep 4
        """
    static let routes = "\"http://{default}/\":\n  type: upstream\n  upstream: \"app:http\"\n"

    @Test("push through one API, read through the other; a worker killed mid-deploy finishes the activity when it starts again")
    func apart() async throws {
        let url = try await PostgresHarness.shared.newDatabase()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grove-roles-\(UUID().uuidString.prefix(8))").path
        let worker = TestServer(dataDir: dir, backend: .postgres, databaseURL: url, stepDelayMs: 0)
        worker.role = "worker"
        try await worker.launch()
        defer { worker.stopNow() }
        let token = try String(contentsOfFile: dir + "/initial-api-token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        var apis: [TestServer] = []
        defer { for a in apis { a.stopNow() } }
        for _ in 0..<2 {
            let a = TestServer(dataDir: dir, backend: .postgres, databaseURL: url, stepDelayMs: 0)
            a.role = "api"
            a.ownsDataDir = false
            a.initialToken = token
            try await a.launch()
            apis.append(a)
        }
        let one = try await apis[0].login(), two = try await apis[1].login()
        #expect(try await two.get("/grove/system").json["role"]?.stringValue == "api")

        // Created through the first API, run by the worker, visible through the second.
        let project = try await apis[0].createProject(one)
        let pid = try #require(project["id"]?.stringValue)
        let remote = try #require(project["repository"]?["http_url"]?.stringValue).replacingOccurrences(of: "http://", with: "http://grove:\(token)@")
        let tree = GitWorkTree(remote: remote)
        try tree.initialize()
        defer { tree.remove() }
        try tree.commit([".platform.app.yaml": Self.app, ".platform/routes.yaml": Self.routes, "index.html": "one\n"])
        let (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        #expect(out.contains("Executing deploy hook for application app"), "the worker's log reaches the pusher: \(out)")
        #expect(try worker.fetch(pid).1.contains("one"))
        let current = try await two.get("/projects/\(pid)/environments/main/deployments/current").json
        #expect(current["webapps"]?["app"]?["type"]?.stringValue == "python:3.12", "\(current)")
        #expect(try await two.get("/projects/\(pid)/environments/main").json["has_deployment"]?.boolValue == true)
        let acts = try await two.get("/projects/\(pid)/environments/main/activities").json.arrayValue ?? []
        let push = try #require(acts.first { $0["type"]?.stringValue == "environment.push" })
        let log = try await two.get("/projects/\(pid)/activities/\(push["id"]?.stringValue ?? "")/log").text
        #expect(log.contains("Environment routes"), "\(log)")
        let appLog = try await two.get("/projects/\(pid)/environments/main/logs/app")
        #expect(appLog.status == 200, "the second API reads the worker's logs: \(appLog.text)")

        // The application crashes: the worker restarts it and records so, and the other API process shows it.
        #expect(current["grove_instances"]?.arrayValue?.first?["state"]?.stringValue == "running", "\(current)")
        _ = try Spawn.run("/usr/bin/pkill", ["-f", "^python3 -m http.server"])
        try await waitFor(timeout: 60) {
            let instances = try await two.get("/projects/\(pid)/environments/main/deployments/current").json["grove_instances"]?.arrayValue ?? []
            return instances.contains { $0["state"]?.stringValue == "restarted" && $0["error"]?.stringValue?.contains("exited with status") == true }
        }
        try await waitFor(timeout: 60) { try worker.fetch(pid).1.contains("one") }

        // The worker dies during the next deploy hook; the push waits, the restarted worker runs the activity again.
        let second = try tree.commit(["index.html": "two\n"])
        let pusher = try Spawn.start("/usr/bin/git", ["-C", tree.dir, "push", tree.remote, "HEAD:refs/heads/main"],
                                     env: ["GIT_TERMINAL_PROMPT": "0", "HOME": FileManager.default.temporaryDirectory.path])
        var running = ""
        try await waitFor(timeout: 120) {
            let list = try await two.get("/projects/\(pid)/environments/main/activities").json.arrayValue ?? []
            guard let a = list.first(where: { $0["type"]?.stringValue == "environment.push" && $0["state"]?.stringValue == "in_progress" }),
                  let id = a["id"]?.stringValue else { return false }
            running = id
            // The activity's own `log` (its /log link streams until the end).
            return try await two.get("/projects/\(pid)/activities/\(id)").json["log"]?.stringValue?.contains("Executing deploy hook") == true
        }
        worker.crash()
        try await worker.launch()
        var finished: JSON = .null
        try await waitFor(timeout: 180) {
            finished = try await one.get("/projects/\(pid)/activities/\(running)").json
            return finished["state"]?.stringValue == "complete"
        }
        let pushed = pusher.wait()
        let result = finished["result"]?.stringValue
        if result == "success" {
            #expect(pushed == 0, "\(pusher.output)")
            let main = try await two.get("/projects/\(pid)/environments/main").json
            #expect(main["head_commit"]?.stringValue == second)
            #expect(try worker.fetch(pid).1.contains("two"))
        } else {
            #expect(finished["failure_reason"]?.stringValue != nil, "a failure says why: \(finished)")
        }
        let text = finished["log"]?.stringValue ?? ""
        #expect(text.contains("restarted"), "the log says the worker restarted: \(text)")
        // Nothing runs twice: one application process (this suite runs alone), the record names the new commit.
        let (_, ps) = try Spawn.run("/bin/sh", ["-c", "ps -eo args"])
        let servers = ps.split(separator: "\n").filter { $0.hasPrefix("python3 -m http.server") }
        #expect(servers.count == 1, "\(servers)")
        if result == "success" {
            #expect(try await two.get("/projects/\(pid)/environments/main/deployments/current").json["webapps"]?["app"] != nil)
        }

        // Deleting the project through an API process: the worker tears it down.
        #expect(try await two.delete("/projects/\(pid)").status == 200)
        #expect(try await one.get("/projects/\(pid)").status == 404)
        #expect(!(try worker.fetch(pid).1.contains("two")))
    }
}
