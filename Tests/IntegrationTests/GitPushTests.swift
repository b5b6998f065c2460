import Foundation
import GroveModel
import Testing

@Suite("git push creates and updates environments")
struct GitPushTests {
    static let app = """
    name: app
    type: python:3.12
    relationships:
      database: "db:postgresql"
    web:
      commands:
        start: python -m http.server $PORT
    """
    static let services = "db:\n  type: postgresql:15\n  disk: 512\n"
    static let routes = "\"https://{default}/\":\n  type: upstream\n  upstream: \"app:http\"\n"

    func project(_ s: TestServer) async throws -> (HTTP, String, GitWorkTree) {
        let http = try await s.login()
        let project = try await s.createProject(http)
        let pid = try #require(project["id"]?.stringValue)
        let url = try #require(project["repository"]?["http_url"]?.stringValue)
        let tree = GitWorkTree(remote: url.replacingOccurrences(of: "http://", with: "http://grove:\(s.initialToken)@"))
        try tree.initialize()
        return (http, pid, tree)
    }

    @Test("push main, branches with options, nowait, deletion; environments follow git", arguments: Backend.allCases)
    func pushSemantics(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let (http, pid, tree) = try await project(s)
        defer { tree.remove() }

        let first = try tree.commit([".platform.app.yaml": Self.app, ".platform/services.yaml": Self.services, ".platform/routes.yaml": Self.routes], message: "first")
        var (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        // The activity's log reaches the pusher as remote: lines.
        #expect(out.contains("remote: Validating configuration files"), "\(out)")
        #expect(out.contains("remote: Building application 'app' (runtime type: python:3.12"), "\(out)")
        var main = try await http.get("/projects/\(pid)/environments/main").json
        #expect(main["head_commit"]?.stringValue == first && main["has_code"]?.boolValue == true)
        let acts = try await http.get("/projects/\(pid)/environments/main/activities").json.arrayValue ?? []
        let push = try #require(acts.first { $0["type"]?.stringValue == "environment.push" })
        #expect(push["result"]?.stringValue == "success" && push["parameters"]?["new_commit"]?.stringValue == first)
        #expect(push["payload"]?["commits"]?.arrayValue?.first?["sha"]?.stringValue == first)

        // A new branch with push options becomes an active staging environment with that title.
        try tree.git(["checkout", "-q", "-b", "feature"])
        let feat = try tree.commit(["feature.txt": "f\n"], message: "feature")
        (st, out) = try tree.push(["-o", "environment.status=active", "-o", "environment.title=My Feature", "-o", "environment.type=staging", "HEAD:refs/heads/feature"])
        #expect(st == 0, "\(out)")
        let feature = try await http.get("/projects/\(pid)/environments/feature").json
        #expect(feature["status"]?.stringValue == "active" && feature["type"]?.stringValue == "staging")
        #expect(feature["title"]?.stringValue == "My Feature" && feature["parent"]?.stringValue == "main")
        #expect(feature["head_commit"]?.stringValue == feat)

        // Without options: inactive, code stored.
        (st, out) = try tree.push(["HEAD:refs/heads/quiet"])
        #expect(st == 0 && out.contains("inactive"), "\(out)")
        let quiet = try await http.get("/projects/\(pid)/environments/quiet").json
        #expect(quiet["status"]?.stringValue == "inactive" && quiet["has_code"]?.boolValue == true && quiet["type"]?.stringValue == "development")

        // nowait returns before the activity; the environment catches up.
        (st, out) = try tree.push(["-o", "nowait", "HEAD:refs/heads/later"])
        #expect(st == 0 && out.contains("nowait"), "\(out)")
        try await waitFor { try await http.get("/projects/\(pid)/environments/later").json["head_commit"]?.stringValue == feat }

        // Invalid configuration: refused with file, line and reason; nothing moves.
        try tree.git(["checkout", "-q", "main"])
        _ = try tree.commit([".platform.app.yaml": Self.app.replacingOccurrences(of: "python:3.12", with: "python:9.9")], message: "bad")
        (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st != 0)
        #expect(out.contains(".platform.app.yaml:2: type: python version 9.9 is not supported"), "\(out)")
        #expect(try tree.remoteHead("main") == first)
        main = try await http.get("/projects/\(pid)/environments/main").json
        #expect(main["head_commit"]?.stringValue == first)
        try tree.git(["reset", "-q", "--hard", first])
        _ = try tree.commit([".platform/routes.yaml": "\"https://{default}/\": {type: upstream, upstream: \"ghost:http\"}\n"], message: "bad route")
        (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st != 0 && out.contains(".platform/routes.yaml:1: https://{default}/.upstream: no application named ghost"), "\(out)")
        try tree.git(["reset", "-q", "--hard", first])
        _ = try tree.commit([".platform/services.yaml": "cache: {type: 'redis:7.2'}\n"], message: "bad relationship")
        (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st != 0 && out.contains("relationships.database: no service or application named db"), "\(out)")
        try tree.git(["reset", "-q", "--hard", first])
        _ = try tree.commit([".platform.app.yaml": "name: app\ntype: [python\n"], message: "broken yaml")
        (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st != 0 && out.contains(".platform.app.yaml:") && out.contains("invalid YAML"), "\(out)")
        #expect(try tree.remoteHead("main") == first)
        try tree.git(["reset", "-q", "--hard", first])

        // Branch names the platform cannot use, and the production branch, are refused.
        (st, out) = try tree.push(["HEAD:refs/heads/odd@name"])
        #expect(st != 0 && out.contains("cannot be an environment"), "\(out)")
        (st, out) = try tree.push([":refs/heads/main"])
        #expect(st != 0 && out.contains("cannot be deleted"), "\(out)")

        // Deleting a branch deactivates its environment.
        (st, out) = try tree.push([":refs/heads/feature"])
        #expect(st == 0, "\(out)")
        let gone = try await http.get("/projects/\(pid)/environments/feature").json
        #expect(gone["status"]?.stringValue == "inactive" && gone["has_code"]?.boolValue == false)
        #expect(try tree.remoteHead("feature") == nil)

        // Diffs match git's own.
        let diffs = try await http.get("/projects/\(pid)/git/diffs/\(first)/\(feat)").json.arrayValue ?? []
        let d = try #require(diffs.first)
        #expect(diffs.count == 1 && d["new_path"]?.stringValue == "feature.txt" && d["old_path"] == .null)
        let gitDiff = try tree.git(["diff", "--full-index", "--no-color", first, feat]).1
        #expect(d["diff"]?.stringValue == gitDiff)
        #expect(d["new_id"]?.stringValue == (try tree.head("\(feat):feature.txt")))
    }

    @Test("roles decide which branches a user may push", arguments: [Backend.sqlite])
    func roles(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let (_, pid, tree) = try await project(s)
        defer { tree.remove() }
        try tree.commit(["README": "x\n"])
        #expect(try tree.push(["HEAD:refs/heads/main"]).0 == 0)
        let token = try s.createUser(email: "dev@example.com")
        _ = try s.admin(["admin:grant", "-p", pid, "--email", "dev@example.com", "--permission", "viewer", "--permission", "development:contributor",
                         "--permission", "production:viewer"])
        let dev = GitWorkTree(remote: tree.remote.replacingOccurrences(of: s.initialToken, with: token))
        defer { dev.remove() }
        try dev.initialize()
        try dev.git(["fetch", "-q", dev.remote, "main"])
        try dev.git(["checkout", "-q", "-b", "work", "FETCH_HEAD"])
        let c = try dev.commit(["a.txt": "a\n"])
        var (st, out) = try dev.push(["HEAD:refs/heads/main"])
        #expect(st != 0 && out.contains("contributor role"), "\(out)")
        #expect(try dev.remoteHead("main") != c)
        (st, out) = try dev.push(["-o", "environment.type=staging", "HEAD:refs/heads/stage"])
        #expect(st != 0 && out.contains("staging"), "\(out)")
        (st, out) = try dev.push(["HEAD:refs/heads/dev-work"])
        #expect(st == 0, "\(out)")
        #expect(try dev.remoteHead("dev-work") == c)
    }

    @Test("grove push, project:set-remote and repo:ls|cat|log", arguments: [Backend.sqlite])
    func cli(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let (_, pid, tree) = try await project(s)
        defer { tree.remove() }
        let config = s.dataDir + "-cli"
        defer { try? FileManager.default.removeItem(atPath: config) }
        let env = ["GROVE_CONFIG_DIR": config, "GROVE_API_URL": s.baseURL, "GROVE_TOKEN": s.initialToken, "HOME": FileManager.default.temporaryDirectory.path,
                   "GIT_CONFIG_NOSYSTEM": "1"]
        func grove(_ args: [String]) throws -> (Int32, String) {
            let (st, out) = try Spawn.run("/bin/sh", ["-c", "cd '\(tree.dir)' && exec \"$0\" \"$@\"", Paths.groveBinary] + args, env: env)
            return (st, out)
        }
        try tree.commit(["docs/guide.md": "# Guide\n", "README": "hello\n"], message: "docs")
        var (st, out) = try grove(["push", "-p", pid, "--target", "main"])
        #expect(st == 0 && out.contains("remote: Validating configuration files"), "\(out)")
        (st, out) = try grove(["push", "-p", pid, "--target", "topic", "--activate", "--type", "staging", "--title", "Topic"])
        #expect(st == 0, "\(out)")
        (st, out) = try grove(["environment:info", "-p", pid, "-e", "topic", "status"])
        #expect(out.contains("active"), "\(out)")
        (st, out) = try grove(["project:set-remote", "-p", pid])
        #expect(st == 0, "\(out)")
        try tree.commit(["README": "again\n"])
        (st, out) = try Spawn.run("/usr/bin/git", ["-C", tree.dir, "push", "grove", "HEAD:refs/heads/main"], env: env.merging(["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]) { $1 })
        #expect(st == 0, "\(out)")
        (st, out) = try grove(["environment:checkout", "-p", pid, "topic"])
        #expect(st == 0, "\(out)")
        #expect(try tree.git(["rev-parse", "--abbrev-ref", "HEAD"]).1.trimmingCharacters(in: .whitespacesAndNewlines) == "topic")
        try tree.git(["checkout", "-q", "main"])
        (st, out) = try grove(["repo:ls", "-p", pid, "--format", "csv"])
        #expect(out.contains("blob,README") && out.contains("tree,docs/"), "\(out)")
        (st, out) = try grove(["repo:cat", "-p", pid, "docs/guide.md"])
        #expect(out == "# Guide\n", "\(out)")
        (st, out) = try grove(["repo:log", "-p", pid, "-n", "5", "--format", "csv"])
        let headShort = String(try tree.head().prefix(7))
        #expect(out.contains("docs") && out.contains(headShort), "\(out)")
    }
}

@Suite("git push and activity outcomes")
struct GitPushSerialTests {
    func project(_ s: TestServer) async throws -> (HTTP, String, GitWorkTree) { try await GitPushTests().project(s) }

    @Test("a push fails when its activity fails; pushes to different branches run in parallel; one branch serializes", arguments: [Backend.sqlite])
    func activityOutcome(backend: Backend) async throws {
        let s = try await TestServer.start(backend, stepDelayMs: 2000)
        defer { s.stopNow() }
        let (http, pid, tree) = try await project(s)
        defer { tree.remove() }
        let first = try tree.commit(["README": "x\n"])
        #expect(try tree.push(["HEAD:refs/heads/main"]).0 == 0)

        // Cancel the push's activity while it runs: the push is rejected and the branch stays.
        let second = try tree.commit(["README": "y\n"])
        let pusher = try Spawn.start("/usr/bin/git", ["-C", tree.dir, "push", tree.remote, "HEAD:refs/heads/main"],
                                     env: ["GIT_TERMINAL_PROMPT": "0", "HOME": FileManager.default.temporaryDirectory.path])
        var running: JSON = .null
        try await waitFor {
            running = (try await http.get("/projects/\(pid)/environments/main/activities").json.arrayValue ?? [])
                .first { $0["type"]?.stringValue == "environment.push" && $0["state"]?.stringValue != "complete" } ?? .null
            return !running.isNull
        }
        let aid = try #require(running["id"]?.stringValue)
        _ = try await http.post("/projects/\(pid)/activities/\(aid)/cancel")
        #expect(pusher.wait() != 0)
        #expect(pusher.output.contains("cancelled"), "\(pusher.output)")
        #expect(try tree.remoteHead("main") == first)
        #expect(try await http.get("/projects/\(pid)/environments/main").json["head_commit"]?.stringValue == first)
        _ = second

        // Two branches at once: both succeed and their activities overlap in time.
        let a = try Spawn.start("/usr/bin/git", ["-C", tree.dir, "push", "-o", "environment.status=active", tree.remote, "HEAD:refs/heads/one"], env: ["GIT_TERMINAL_PROMPT": "0"])
        let b = try Spawn.start("/usr/bin/git", ["-C", tree.dir, "push", "-o", "environment.status=active", tree.remote, "HEAD:refs/heads/two"], env: ["GIT_TERMINAL_PROMPT": "0"])
        #expect(a.wait() == 0, "\(a.output)")
        #expect(b.wait() == 0, "\(b.output)")
        func span(_ env: String) async throws -> (String, String) {
            let act = try #require((try await http.get("/projects/\(pid)/environments/\(env)/activities").json.arrayValue ?? [])
                .first { $0["type"]?.stringValue == "environment.push" })
            return (act["started_at"]?.stringValue ?? "", act["completed_at"]?.stringValue ?? "")
        }
        let (s1, e1) = try await span("one"), (s2, e2) = try await span("two")
        #expect(s1 < e2 && s2 < e1, "one \(s1)-\(e1), two \(s2)-\(e2)")

        // Two pushes to one branch from different starting points: they queue; the second finds the branch
        // moved and is refused, so the branch and the environment agree.
        let other = GitWorkTree(remote: tree.remote)
        defer { other.remove() }
        try other.initialize()
        try other.git(["fetch", "-q", other.remote, "main"])
        try other.git(["checkout", "-q", "-b", "x", "FETCH_HEAD"])
        _ = try other.commit(["other.txt": "o\n"])
        try tree.git(["reset", "-q", "--hard", first])
        _ = try tree.commit(["mine.txt": "m\n"])
        let p1 = try Spawn.start("/usr/bin/git", ["-C", tree.dir, "push", tree.remote, "HEAD:refs/heads/main"], env: ["GIT_TERMINAL_PROMPT": "0"])
        let p2 = try Spawn.start("/usr/bin/git", ["-C", other.dir, "push", other.remote, "HEAD:refs/heads/main"], env: ["GIT_TERMINAL_PROMPT": "0"])
        let r1 = p1.wait(), r2 = p2.wait()
        #expect((r1 == 0) != (r2 == 0), "\(p1.output)\n\(p2.output)")
        let remoteMain = try tree.remoteHead("main")
        #expect(try await http.get("/projects/\(pid)/environments/main").json["head_commit"]?.stringValue == remoteMain)
    }
}
