import Foundation
import GroveModel
import Testing

@Suite("The grove CLI against a running server")
struct CLITests {
    @Test("credentials live under $HOME: two homes, two logins, neither overwrites the other")
    func credentialsFollowHome() async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let other = try s.createUser(email: "second@example.com")
        let homes = [s.dataDir + "-home-a", s.dataDir + "-home-b"]
        defer { for h in homes { try? FileManager.default.removeItem(atPath: h) } }
        for (home, token) in zip(homes, [s.initialToken, other]) {
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
            let (st, out) = try CLI.run(["auth:api-token-login"], env: ["HOME": home, "GROVE_CONFIG_DIR": "", "XDG_CONFIG_HOME": "", "GROVE_API_URL": s.baseURL, "GROVE_TOKEN": ""],
                                        stdin: token + "\n")
            #expect(st == 0, "\(out)")
            #expect(FileManager.default.fileExists(atPath: home + "/.config/grove/credentials.json"))
        }
        for (home, email) in zip(homes, ["admin@grove.local", "second@example.com"]) {
            let (_, out) = try CLI.run(["auth:info", "email"], env: ["HOME": home, "GROVE_CONFIG_DIR": "", "XDG_CONFIG_HOME": "", "GROVE_API_URL": s.baseURL, "GROVE_TOKEN": ""])
            #expect(out.trimmingCharacters(in: .whitespacesAndNewlines) == email, "\(home): \(out)")
        }
    }

    @Test("app:config-validate checks a local tree as a push would, without a server")
    func configValidate() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grove-validate-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".platform"), withIntermediateDirectories: true)
        let app = "name: app\ntype: python:3.12\nweb: {commands: {start: python3 -m http.server $PORT}}\n"
        try Data((app + "relationships: {db: \"db:postgresql\"}\n").utf8).write(to: dir.appendingPathComponent(".platform.app.yaml"))
        try Data("db: {type: \"postgresql:16\", disk: 256}\n".utf8).write(to: dir.appendingPathComponent(".platform/services.yaml"))
        let env = ["GROVE_API_URL": "http://127.0.0.1:9", "GROVE_TOKEN": ""]
        let (ok, okOut) = try CLI.run(["app:config-validate", "--dir", dir.path], env: env)
        #expect(ok == 0 && okOut.contains("valid: 1 application(s) (app), 1 service(s)"), "\(okOut)")
        // A mistake is named with its file and line, and the exit status says so.
        try Data("db: {type: \"postgresql:16\", disk: many}\n".utf8).write(to: dir.appendingPathComponent(".platform/services.yaml"))
        let (bad, badOut) = try CLI.run(["app:config-validate", "--dir", dir.path], env: env)
        #expect(bad == 1 && badOut.contains(".platform/services.yaml:1"), "\(badOut)")
        let (missing, missingOut) = try CLI.run(["validate", "--dir", dir.path + "/nope"], env: env)
        #expect(missing != 0 && missingOut.contains("is not a directory"), "\(missingOut)")
    }

    @Test("login, projects, environments, variables and activities through the CLI", arguments: [Backend.sqlite])
    func cli(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let config = s.dataDir + "-cli"
        defer { try? FileManager.default.removeItem(atPath: config) }
        let env = ["GROVE_CONFIG_DIR": config, "GROVE_API_URL": s.baseURL, "GROVE_TOKEN": ""]
        func grove(_ args: String..., stdin: String? = nil) throws -> String {
            let (status, out) = try CLI.run(args, env: env, stdin: stdin)
            if status != 0 { throw TestFailure("grove \(args.joined(separator: " ")) exited \(status): \(out)") }
            return out
        }
        #expect(try grove("auth:api-token-login", stdin: s.initialToken + "\n").contains("Logged in as admin"))
        let attrs = try FileManager.default.attributesOfItem(atPath: config + "/credentials.json")
        #expect((attrs[.posixPermissions] as? Int) == 0o600)
        #expect(try grove("auth:info", "email").trimmingCharacters(in: .whitespacesAndNewlines) == "admin@grove.local")
        #expect(try grove("organization:list", "--format", "csv").contains("default"))

        let created = try grove("project:create", "--title", "CLI Project")
        let pid = try #require(created.firstMatch(of: /Project ([a-z2-7]{13})/)?.1).description
        #expect(try grove("project:list").contains(pid))
        #expect(try grove("project:info", "-p", pid, "title").contains("CLI Project"))
        #expect(try grove("environment:list", "-p", pid, "--format", "csv").contains("main,Main,active,production"))
        _ = try grove("environment:branch", "-p", pid, "feature-x")
        #expect(try grove("env", "-p", pid, "--format", "plain").contains("feature-x"))
        #expect(try grove("environment:info", "-p", pid, "-e", "feature-x", "status").contains("active"))

        _ = try grove("variable:create", "-p", pid, "--level", "project", "GREETING", "--value", "hello")
        #expect(try grove("variable:list", "-p", pid, "--level", "project").contains("hello"))
        #expect(try grove("variable:get", "-p", pid, "--level", "project", "GREETING", "-P", "value").contains("hello"))
        _ = try grove("variable:update", "-p", pid, "--level", "project", "GREETING", "--value", "bye")
        #expect(try grove("variable:get", "-p", pid, "--level", "project", "GREETING", "-P", "value").contains("bye"))
        let (dupStatus, dupOut) = try CLI.run(["variable:create", "-p", pid, "--level", "project", "GREETING", "--value", "x"], env: env)
        #expect(dupStatus != 0 && dupOut.contains("already exists"))
        _ = try grove("variable:delete", "-p", pid, "--level", "project", "GREETING", "--yes")

        let acts = try grove("activity:list", "-p", pid, "--all", "--format", "json")
        let list = try JSON.parse(acts)
        #expect((list.arrayValue?.count ?? 0) >= 3)
        let branchAct = try #require(list.arrayValue?.first { $0["type"]?.stringValue == "environment.branch" }?["id"]?.stringValue)
        #expect(try grove("activity:log", "-p", pid, branchAct).contains("Creating environment feature-x"))
        #expect(try grove("activity:get", "-p", pid, branchAct, "-P", "result").contains("success"))
        let (cs, co) = try CLI.run(["activity:cancel", "-p", pid, branchAct], env: env)
        #expect(cs != 0 && co.contains("cannot be cancelled"))
        _ = try grove("project:delete", "-p", pid, "--yes")
        _ = try grove("auth:logout")
        let (st, out) = try CLI.run(["project:list"], env: env)
        #expect(st != 0 && out.contains("Not logged in"))
    }
}
