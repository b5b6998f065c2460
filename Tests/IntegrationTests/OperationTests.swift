import Foundation
import GroveModel
import Testing

@Suite("Source and runtime operations")
struct OperationTests {
    static let app = """
    name: app
    type: python:3.11
    source:
      operations:
        bump:
          command: |
            echo "$GREETING from $PLATFORM_APPLICATION_NAME" > bumped.txt
            git add bumped.txt
            git commit -q -m "Bump by source operation"
        noop:
          command: echo nothing to commit
        broken:
          command: exit 3
    operations:
      stamp:
        role: admin
        commands:
          start: 'echo "op $1 $2 on $PLATFORM_BRANCH" > $PLATFORM_APP_DIR/data/op.txt'
    mounts:
      data: {source: local, source_path: data}
    web:
      commands:
        start: python3 -m http.server $PORT --bind 127.0.0.1
    """

    @Test("a source operation commits and redeploys; no commit changes nothing; runtime operations run beside the app", arguments: [Backend.sqlite])
    func operations(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let (http, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        let first = try tree.commit([".platform.app.yaml": Self.app, "index.html": "up\n"])
        let (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        #expect(try s.fetch(pid, path: "/bumped.txt").0 == 404)
        let env = "/projects/\(pid)/environments/main"

        let listed = try await http.get(env + "/source-operations").json.arrayValue ?? []
        #expect(listed.compactMap { $0["operation"]?.stringValue } == ["broken", "bump", "noop"], "\(listed)")

        // The operation's commit lands on the branch and deploys.
        var r = try await http.post(env + "/source-operation", ["operation": "bump", "variables": ["env": ["GREETING": "hi"]]])
        #expect(r.status == 200, "\(r.text)")
        var a = try await waitForActivity(http, try #require(r.json["_embedded"]?["activities"]?.arrayValue?.first))
        #expect(a["result"] == "success" && a["type"] == "environment.source-operation", "\(a)")
        let head = try #require(try await http.get(env).json["head_commit"]?.stringValue)
        #expect(head != first)
        #expect(try s.fetch(pid, path: "/bumped.txt").1 == "hi from app\n")
        let commit = try await http.get("/projects/\(pid)/git/commits/\(head)").json
        #expect(commit["message"]?.stringValue?.hasPrefix("Bump by source operation") == true && commit["parents"] == [.string(first)], "\(commit)")
        #expect(commit["author"]?["email"] == "admin@grove.local", "\(commit)")
        #expect(try tree.remoteHead("main") == head)

        // No commit: nothing changes. A failing command: the activity fails, nothing changes.
        r = try await http.post(env + "/source-operation", ["operation": "noop"])
        a = try await waitForActivity(http, try #require(r.json["_embedded"]?["activities"]?.arrayValue?.first))
        #expect(a["result"] == "success")
        let log = try await http.get("/projects/\(pid)/activities/\(a["id"]?.stringValue ?? "")").json["log"]?.stringValue ?? ""
        #expect(log.contains("nothing to commit") && log.contains("made no commits"), "\(log)")
        r = try await http.post(env + "/source-operation", ["operation": "broken"])
        a = try await waitForActivity(http, try #require(r.json["_embedded"]?["activities"]?.arrayValue?.first))
        #expect(a["result"] == "failure")
        #expect(try await http.get(env).json["head_commit"]?.stringValue == head)
        r = try await http.post(env + "/source-operation", ["operation": "missing"])
        #expect(r.status == 400 && r.json["detail"]?["operation"] != nil, "\(r.text)")
        r = try await http.post(env + "/source-operation", ["operation": "bump", "variables": ["env": "x"]])
        #expect(r.status == 400)

        // A runtime operation writes to the mount with its parameters.
        r = try await http.post(env + "/deployments/current/operations", ["service": "app", "operation": "stamp", "parameters": ["a", "b"]])
        #expect(r.status == 200, "\(r.text)")
        a = try await waitForActivity(http, try #require(r.json["_embedded"]?["activities"]?.arrayValue?.first))
        #expect(a["result"] == "success" && a["type"] == "environment.operation", "\(a)")
        #expect(try s.fetch(pid, path: "/data/op.txt").1 == "op a b on main\n")
        r = try await http.post(env + "/deployments/current/operations", ["service": "app", "operation": "nope"])
        #expect(r.status == 400)
        r = try await http.post(env + "/deployments/current/operations", ["service": "ghost", "operation": "stamp"])
        #expect(r.status == 400)
        r = try await http.post(env + "/deployments/old/operations", ["service": "app", "operation": "stamp"])
        #expect(r.status == 404)

        // The CLI runs both and follows their logs.
        let cli = ["GROVE_API_URL": s.baseURL, "GROVE_TOKEN": s.initialToken, "GROVE_CONFIG_DIR": s.dataDir + "-cli"]
        var (cs, co) = try CLI.run(["source-operation:list", "-p", pid, "--format", "csv"], env: cli)
        #expect(cs == 0 && co.contains("bump,app,"), "\(co)")
        (cs, co) = try CLI.run(["operation:list", "-p", pid, "--format", "csv"], env: cli)
        #expect(cs == 0 && co.contains("stamp,app,admin,"), "\(co)")
        (cs, co) = try CLI.run(["operation:run", "-p", pid, "stamp", "--param", "cli"], env: cli)
        #expect(cs == 0, "\(co)")
        #expect(try s.fetch(pid, path: "/data/op.txt").1 == "op cli  on main\n")
        (cs, co) = try CLI.run(["source-operation:run", "-p", pid, "bump", "--variable", "env:GREETING=hello"], env: cli)
        #expect(cs == 0 && co.contains("Bump by source operation"), "\(co)")
        #expect(try s.fetch(pid, path: "/bumped.txt").1 == "hello from app\n")

        // Logs: the source operation's output, the app's own, the router's access log (flushed within a second).
        (cs, co) = try CLI.run(["log", "-p", pid, "source-operation"], env: cli)
        #expect(cs == 0 && co.contains("nothing to commit"), "\(co)")
        (cs, co) = try CLI.run(["log", "-p", pid, "app", "--lines", "5"], env: cli)
        #expect(cs == 0 && co.contains("GET /bumped.txt"), "\(co)")
        try await waitFor(timeout: 10) { try CLI.run(["log", "-p", pid, "access"], env: cli).1.contains("\"GET /data/op.txt HTTP/1.1\" 200") }
        (cs, co) = try CLI.run(["log", "-p", pid, "nope"], env: cli)
        #expect(cs != 0 && co.contains("No nope log"), "\(co)")
        let logs = try await http.get(env + "/logs").json.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(["access", "app", "operation", "source-operation"].allSatisfy(logs.contains), "\(logs)")
        #expect(try await http.get(env + "/logs/..%2Fx").status == 400)
    }
}
