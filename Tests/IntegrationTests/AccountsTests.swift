import Foundation
import GroveModel
import Testing

/// Access control and accounts through a real `grove serve`: the role matrix, every view of the same grants,
/// teams, SSH keys, TOTP (pyotp as the oracle) and invitations through a local SMTP sink.
@Suite("Access and accounts")
struct AccountsTests {
    struct Caller: Sendable {
        let name: String
        let http: HTTP
        let id: String
    }

    /// A project with main (production) and dev (development); users for each role; returns them with the admin.
    func setup(_ s: TestServer) async throws -> (admin: HTTP, pid: String, callers: [String: Caller]) {
        let admin = try await s.login()
        let pid = try #require(try await s.createProject(admin)["id"]?.stringValue)
        let b = try await admin.post("/projects/\(pid)/environments/main/branch", ["name": "dev"])
        _ = try await waitForActivity(admin, try #require(b.json["_embedded"]?["activities"]?.arrayValue?.first))
        var callers: [String: Caller] = [:]
        let grants: [(String, [String]?)] = [("padmin", ["admin"]), ("viewer", ["viewer"]),
                                             ("contributor", ["viewer", "production:viewer", "development:contributor"]), ("stranger", nil)]
        for (name, perms) in grants {
            let token = try s.createUser(email: "\(name)@example.com")
            let http = try await s.login(token: token)
            let id = try #require(try await http.get("/users/me").json["id"]?.stringValue)
            if let perms {
                let r = try await admin.post("/projects/\(pid)/user-access", .array([["user_id": .string(id), "permissions": JSON(perms)]]))
                #expect(r.status == 204, "\(r.text)")
            }
            callers[name] = Caller(name: name, http: http, id: id)
        }
        return (admin, pid, callers)
    }

    @Test("role matrix: each role is allowed or refused per endpoint family as Platform.sh documents")
    func roleMatrix() async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let (_, pid, callers) = try await setup(s)
        let P = "/projects/\(pid)"
        typealias Probe = (name: String, run: @Sendable (HTTP) async throws -> Int)
        let probes: [Probe] = [
            ("read project", { try await $0.get(P).status }),
            ("edit project", { try await $0.patch(P, ["description": "x"]).status }),
            ("project variables", { try await $0.post(P + "/variables", ["name": .string("V\(Int.random(in: 0...1_000_000))"), "value": "1"]).status }),
            ("read access list", { try await $0.get(P + "/access").status }),
            ("grant access", { try await $0.post(P + "/environment-types/staging/access", ["email": "padmin@example.com", "role": "viewer"]).status }),
            ("read production", { try await $0.get(P + "/environments/main").status }),
            ("edit production", { try await $0.patch(P + "/environments/main", ["title": "Main"]).status }),
            ("back up production", { try await $0.post(P + "/environments/main/backup", ["safe": false]).status }),
            ("read development", { try await $0.get(P + "/environments/dev").status }),
            ("branch development", { try await $0.post(P + "/environments/dev/branch", ["name": .string("b\(Int.random(in: 0...1_000_000))")]).status }),
            ("development variables", { try await $0.post(P + "/environments/dev/variables", ["name": .string("V\(Int.random(in: 0...1_000_000))"), "value": "1"]).status }),
            ("read activities", { try await $0.get(P + "/activities").status }),
        ]
        // Expected status class per role: 2 = allowed, 403 = refused, 404 = not visible.
        let expected: [String: [Int]] = [
            "padmin": [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2],
            "viewer": [2, 403, 403, 2, 403, 404, 404, 404, 404, 404, 404, 2],
            "contributor": [2, 403, 403, 2, 403, 2, 403, 403, 2, 2, 403, 2],
            "stranger": [404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404],
        ]
        var table: [String] = []
        for role in ["padmin", "viewer", "contributor", "stranger"] {
            guard let c = callers[role], let want = expected[role] else { continue }
            for (i, probe) in probes.enumerated() {
                let got = try await probe.run(c.http)
                let ok = want[i] == 2 ? (200..<300).contains(got) : got == want[i]
                if !ok { table.append("\(role) / \(probe.name): got \(got), want \(want[i] == 2 ? "2xx" : String(want[i]))") }
            }
        }
        #expect(table.isEmpty, "\(table.joined(separator: "\n"))")

        // `_links` follow the same decision.
        let main = try await callers["contributor"]!.http.get(P + "/environments/main").json
        #expect(main["_links"]?["#edit"] == nil && main["_links"]?["#backup"] == nil)
        let dev = try await callers["contributor"]!.http.get(P + "/environments/dev").json
        #expect(dev["_links"]?["#branch"] != nil)
        let asAdmin = try await callers["padmin"]!.http.get(P + "/environments/main").json
        #expect(asAdmin["_links"]?["#edit"] != nil)
    }

    @Test("project ACL, environment-type ACL, the deprecated environment ACL and user-access are views of the same grants",
          arguments: Backend.allCases)
    func accessViewsAgree(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let (admin, pid, callers) = try await setup(s)
        let P = "/projects/\(pid)"
        let stranger = try #require(callers["stranger"])

        var r = try await admin.post(P + "/access", ["email": "stranger@example.com", "role": "viewer"])
        #expect(r.status == 201, "\(r.text)")
        r = try await admin.post(P + "/environment-types/development/access", ["user": .string(stranger.id), "role": "contributor"])
        #expect(r.status == 201, "\(r.text)")
        var ua = try await admin.get(P + "/user-access/\(stranger.id)").json
        #expect(ua["permissions"] == ["viewer", "development:contributor"], "\(ua)")
        // The deprecated per-environment ACL is the environment type's.
        let viaEnv = try await admin.get(P + "/environments/dev/access").json.arrayValue ?? []
        #expect(viaEnv.contains { $0["user"]?.stringValue == stranger.id && $0["role"] == "contributor" }, "\(viaEnv)")
        // Lists name each user's email (read for all entries at once).
        #expect(viaEnv.contains { $0["user"]?.stringValue == stranger.id && $0["email"] == "stranger@example.com" }, "\(viaEnv)")
        let acl = try await admin.get(P + "/access").json.arrayValue ?? []
        #expect(acl.contains { $0["id"]?.stringValue == stranger.id && $0["email"] == "stranger@example.com" && $0["role"] == "viewer" }, "\(acl)")
        #expect(acl.allSatisfy { $0["email"]?.stringValue?.contains("@") == true }, "\(acl)")
        r = try await admin.patch(P + "/environments/dev/access/\(stranger.id)", ["role": "admin"])
        #expect(r.status == 200, "\(r.text)")
        #expect(try await admin.get(P + "/environment-types/development/access/\(stranger.id)").json["role"] == "admin")
        #expect(try await stranger.http.patch(P + "/environments/dev", ["title": "Dev"]).status == 200)

        // From the user's side.
        let mine = try await stranger.http.get("/users/\(stranger.id)/project-access").json
        #expect(mine["items"]?.arrayValue?.first?["project_id"]?.stringValue == pid, "\(mine)")
        #expect(try await stranger.http.get("/users/\(callers["viewer"]!.id)/project-access").status == 403)
        r = try await admin.patch("/users/\(stranger.id)/project-access/\(pid)", ["permissions": ["admin"]])
        #expect(r.status == 204, "\(r.text)")
        #expect(try await admin.get(P + "/access/\(stranger.id)").json["role"] == "admin")
        let list = try await admin.get(P + "/user-access").json
        #expect(list["_links"]?["ref:users:0"]?["href"]?.stringValue?.contains(stranger.id) == true, "\(list)")

        // Bad input: a role that does not exist, an unknown permission, taking admin from the owner, a duplicate grant.
        r = try await admin.post(P + "/access", ["email": "viewer@example.com", "role": "owner"])
        #expect(r.status == 400 && r.text.contains("role"), "\(r.text)")
        r = try await admin.patch(P + "/user-access/\(stranger.id)", ["permissions": ["production:superuser"]])
        #expect(r.status == 400 && r.text.contains("production:superuser"), "\(r.text)")
        let owner = try #require(try await admin.get("/users/me").json["id"]?.stringValue)
        r = try await admin.delete(P + "/access/\(owner)")
        #expect(r.status == 400 && r.text.contains("owner"), "\(r.text)")
        r = try await admin.patch(P + "/user-access/\(owner)", ["permissions": ["viewer"]])
        #expect(r.status == 400, "\(r.text)")
        r = try await admin.post(P + "/user-access", .array([["user_id": .string(stranger.id), "permissions": ["viewer"]]]))
        #expect(r.status == 409, "\(r.text)")
        #expect(try await admin.get(P + "/access/\(stranger.id)").json["role"] == "admin", "nothing changed")

        r = try await admin.delete("/users/\(stranger.id)/project-access/\(pid)")
        #expect(r.status == 204)
        #expect(try await stranger.http.get(P).status == 404)
    }

    @Test("teams: a member's access is the union of direct and team grants, both ways", arguments: Backend.allCases)
    func teams(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let (admin, pid, callers) = try await setup(s)
        let stranger = try #require(callers["stranger"])
        let org = try #require(try await admin.get("/projects/\(pid)").json["organization"]?.stringValue)
        var r = try await admin.post("/teams", ["organization_id": .string(org), "label": "Developers", "project_permissions": ["viewer", "development:contributor"]])
        #expect(r.status == 201, "\(r.text)")
        let team = try #require(r.json["id"]?.stringValue)
        #expect(try await admin.post("/teams", ["organization_id": .string(org), "label": "Bad", "project_permissions": ["root"]]).status == 400)
        r = try await admin.post("/teams/\(team)/members", ["user_id": .string(stranger.id)])
        #expect(r.status == 201, "\(r.text)")
        #expect(try await stranger.http.get("/projects/\(pid)").status == 404, "a team without project access grants nothing")
        #expect(try await stranger.http.get("/projects").json["projects"]?.arrayValue?.contains { $0["id"]?.stringValue == pid } == false)
        #expect(try await stranger.http.get("/ref/projects?in=\(pid)").json[pid] == .null)

        r = try await admin.post("/projects/\(pid)/team-access", .array([["team_id": .string(team)]]))
        #expect(r.status == 204, "\(r.text)")
        #expect(try await stranger.http.get("/projects/\(pid)/environments/dev").status == 200)
        #expect(try await stranger.http.get("/projects/\(pid)/environments/main").status == 404)
        #expect(try await stranger.http.get("/projects").json["projects"]?.arrayValue?.contains { $0["id"]?.stringValue == pid } == true)
        #expect(try await stranger.http.get("/ref/projects?in=\(pid)").json[pid]?["id"]?.stringValue == pid)
        // A direct grant adds to the team's.
        r = try await admin.post("/projects/\(pid)/environment-types/production/access", ["user": .string(stranger.id), "role": "viewer"])
        #expect(r.status == 201, "\(r.text)")
        #expect(try await stranger.http.get("/projects/\(pid)/environments/main").status == 200)

        let fromTeam = try await admin.get("/teams/\(team)/project-access").json["items"]?.arrayValue ?? []
        #expect(fromTeam.map { $0["project_id"]?.stringValue } == [pid])
        let fromProject = try await admin.get("/projects/\(pid)/team-access").json["items"]?.arrayValue ?? []
        #expect(fromProject.map { $0["team_id"]?.stringValue } == [team])
        #expect(try await stranger.http.get("/users/\(stranger.id)/teams").json["items"]?.arrayValue?.first?["id"]?.stringValue == team)
        #expect(try await admin.get("/ref/teams?in=\(team)").json[team]?["label"] == "Developers")
        #expect(try await admin.get("/teams/\(team)").json["counts"]?["member_count"] == 1)
        #expect(try await stranger.http.post("/teams/\(team)/members", ["user_id": .string(callers["viewer"]!.id)]).status == 403)

        r = try await admin.delete("/teams/\(team)/project-access/\(pid)")
        #expect(r.status == 204)
        #expect(try await stranger.http.get("/projects/\(pid)/environments/dev").status == 404)
        #expect(try await stranger.http.get("/projects/\(pid)/environments/main").status == 200, "the direct grant stays")
        #expect(try await admin.delete("/teams/\(team)").status == 204)
        #expect(try await admin.get("/teams/\(team)").status == 404)
    }

    @Test("SSH keys: OpenSSH keys validated and fingerprinted as ssh-keygen does; malformed and duplicate keys refused")
    func sshKeys() async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let http = try await s.login()
        let dir = s.dataDir + "-ssh"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var (st, out) = try Spawn.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "laptop", "-f", dir + "/k"])
        #expect(st == 0, "\(out)")
        let pub = try String(contentsOfFile: dir + "/k.pub", encoding: .utf8)
        (st, out) = try Spawn.run("/usr/bin/ssh-keygen", ["-l", "-f", dir + "/k.pub"])
        let fingerprint = String(out.split(separator: " ")[1])

        var r = try await http.post("/ssh_keys", ["value": .string(pub), "title": "Laptop"])
        #expect(r.status == 201 && r.json["fingerprint"]?.stringValue == fingerprint && r.json["title"] == "Laptop", "\(r.text)")
        let id = try #require(r.json["key_id"]?.intValue)
        #expect(try await http.get("/ssh_keys/\(id)").json["value"]?.stringValue?.hasPrefix("ssh-ed25519 ") == true)
        #expect(try await http.get("/me").json["ssh_keys"]?.arrayValue?.first?["key_id"]?.intValue == id)
        r = try await http.post("/ssh_keys", ["value": .string(pub)])
        #expect(r.status == 409, "\(r.text)")
        r = try await http.post("/ssh_keys", ["value": "ssh-ed25519 AAAAnotakey"])
        #expect(r.status == 400 && r.json["detail"]?["value"] != nil || r.text.contains("SSH key"), "\(r.text)")
        #expect(try await http.get("/me").json["ssh_keys"]?.arrayValue?.count == 1, "nothing added")
        let other = try await s.login(token: try s.createUser(email: "other@example.com"))
        #expect(try await other.get("/ssh_keys/\(id)").status == 404)
        #expect(try await other.post("/ssh_keys", ["value": .string(pub)]).status == 409, "a key belongs to one user")
        #expect(try await http.delete("/ssh_keys/\(id)").status == 204)
        #expect(try await http.get("/ssh_keys/\(id)").status == 404)
    }

    static func pyotp(_ secret: String) throws -> String {
        let venv = ProcessInfo.processInfo.environment["GROVE_VENV"] ?? Paths.root.appendingPathComponent(".venv").path
        let (st, out) = try Spawn.run(venv + "/bin/python3", ["-c", "import pyotp, sys; print(pyotp.TOTP(sys.argv[1]).now())", secret])
        guard st == 0 else { throw TestFailure("pyotp is needed (scripts/test.sh installs it into .venv): \(out)") }
        return out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func passwordLogin(_ s: TestServer, _ user: String, _ password: String, totp: String? = nil) async throws -> HTTPResult {
        var form = "grant_type=password&username=\(user)&password=\(password)"
        if let totp { form += "&totp=\(totp)" }
        return try await HTTP(base: s.baseURL).request("POST", "/oauth2/token", raw: Data(form.utf8), contentType: "application/x-www-form-urlencoded")
    }

    static func amr(_ token: String) throws -> [String] {
        let parts = token.split(separator: ".")
        var b64 = String(parts[1]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        let claims = try JSON.parse(Array(Data(base64Encoded: b64) ?? Data()))
        return claims["amr"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    @Test("TOTP: enrollment confirmed with pyotp's code; logins then need a code; organizations can enforce it")
    func totp() async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let admin = try await s.login()
        let pid = try #require(try await s.createProject(admin)["id"]?.stringValue)
        let org = try #require(try await admin.get("/projects/\(pid)").json["organization"]?.stringValue)
        func apiToken(_ out: String) -> String {
            out.components(separatedBy: "API token (shown once): ").dropFirst().first?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        }
        var (st, out) = try s.admin(["admin:user-create", "--email", "mia@example.com", "--password", "correct horse", "--with-token"])
        #expect(st == 0, "\(out)")
        let miaToken = apiToken(out)
        (st, out) = try s.admin(["admin:user-create", "--email", "ned@example.com", "--password", "battery staple", "--with-token"])
        #expect(st == 0, "\(out)")
        let nedToken = apiToken(out)
        var login = try await Self.passwordLogin(s, "mia@example.com", "correct horse")
        let mia = HTTP(base: s.baseURL, bearer: try #require(login.json["access_token"]?.stringValue))
        let miaId = try #require(try await mia.get("/users/me").json["id"]?.stringValue)
        let nedLogin = try await Self.passwordLogin(s, "ned@example.com", "battery staple")
        let nedId = try #require(try await HTTP(base: s.baseURL, bearer: nedLogin.json["access_token"]?.stringValue ?? "").get("/users/me").json["id"]?.stringValue)
        for u in [miaId, nedId] {
            #expect(try await admin.post("/projects/\(pid)/user-access", .array([["user_id": .string(u), "permissions": ["viewer"], "auto_add_member": true]])).status == 204)
        }
        // The organization's owner signs in with API tokens only; mia becomes an organization admin to enforce MFA,
        // which needs her own second factor first.
        #expect(try await admin.patch("/organizations/\(org)/members/\(miaId)", ["permissions": ["admin"]]).status == 200)
        var r = try await mia.post("/organizations/\(org)/mfa-enforcement/enable", [:])
        #expect(r.status == 400 && r.text.contains("two-factor"), "\(r.text)")

        let enrollment = try await mia.get("/users/\(miaId)/totp").json
        let secret = try #require(enrollment["secret"]?.stringValue)
        #expect(enrollment["provisioning_uri"]?.stringValue?.hasPrefix("otpauth://totp/") == true)
        r = try await mia.post("/users/\(miaId)/totp", ["secret": .string(secret), "passcode": "000000"])
        #expect(r.status == 400 && r.text.contains("passcode"), "\(r.text)")
        r = try await mia.post("/users/\(miaId)/totp", ["secret": .string(secret), "passcode": .string(try Self.pyotp(secret))])
        #expect(r.status == 200, "\(r.text)")
        let codes = r.json["recovery_codes"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(codes.count == 10)
        #expect(try await mia.get("/users/\(miaId)/totp").status == 409)
        #expect(try await mia.get("/users/me").json["mfa_enabled"] == true)

        // The token endpoint now demands a code.
        login = try await Self.passwordLogin(s, "mia@example.com", "correct horse")
        #expect(login.status == 400 && login.text.contains("two-factor code is required"), "\(login.text)")
        login = try await Self.passwordLogin(s, "mia@example.com", "correct horse", totp: "123456")
        #expect(login.status == 400 && login.text.contains("incorrect"), "\(login.text)")
        login = try await Self.passwordLogin(s, "mia@example.com", "correct horse", totp: codes[0])
        #expect(login.status == 200, "\(login.text)")
        let strong = HTTP(base: s.baseURL, bearer: try #require(login.json["access_token"]?.stringValue))
        #expect(try Self.amr(login.json["access_token"]?.stringValue ?? "").contains("mfa"))
        login = try await Self.passwordLogin(s, "mia@example.com", "correct horse", totp: codes[0])
        #expect(login.status == 400, "a recovery code works once")

        // Enforcement: tokens without a second factor no longer reach the organization's projects.
        r = try await strong.post("/organizations/\(org)/mfa-enforcement/enable", [:])
        #expect(r.status == 204, "\(r.text)")
        #expect(try await strong.get("/organizations/\(org)/mfa-enforcement").json["enforce_mfa"] == true)
        #expect(try await strong.get("/projects/\(pid)").status == 200)
        login = try await Self.passwordLogin(s, "ned@example.com", "battery staple")
        let ned = HTTP(base: s.baseURL, bearer: try #require(login.json["access_token"]?.stringValue))
        r = try await ned.get("/projects/\(pid)")
        #expect(r.status == 403 && r.text.contains("two-factor"), "\(r.text)")
        #expect(try await ned.post("/organizations/\(org)/mfa-enforcement/disable", [:]).status == 403, "only admins change it")
        #expect(try await ned.get("/organizations/\(org)/members").status == 403, "the organization's own resources too")
        // Git authenticates with API tokens: enough for an enrolled member, refused for the others.
        let host = s.baseURL.replacingOccurrences(of: "http://", with: "")
        let gitEnv = ["GIT_TERMINAL_PROMPT": "0", "HOME": FileManager.default.temporaryDirectory.path]
        (st, out) = try Spawn.run("/usr/bin/git", ["ls-remote", "http://ned:\(nedToken)@\(host)/\(pid).git"], env: gitEnv)
        #expect(st != 0 && out.contains("two-factor"), "\(out)")
        (st, out) = try Spawn.run("/usr/bin/git", ["ls-remote", "http://mia:\(miaToken)@\(host)/\(pid).git"], env: gitEnv)
        #expect(st == 0, "\(out)")
        // SSH: only a certificate issued from a token with a second factor is enough; one from a password-only token,
        // or a plain account key, is refused with the reason.
        let sshDir = s.dataDir + "-mfa-ssh"
        defer { try? FileManager.default.removeItem(atPath: sshDir) }
        let miaKey = try SSHTests.Client(dir: sshDir + "/mia", port: s.sshPort)
        let nedKey = try SSHTests.Client(dir: sshDir + "/ned", port: s.sshPort)
        for (who, key, http) in [("mia", miaKey, strong), ("ned", nedKey, ned)] {
            let cert = try #require(try await http.post("/ssh", ["key": .string(key.publicKey)]).json["certificate"]?.stringValue, "\(who)")
            try cert.write(toFile: key.dir + "/id-cert.pub", atomically: true, encoding: .utf8)
        }
        let upload = ["git-upload-pack '\(pid).git'"]
        (st, out) = try miaKey.ssh(pid, upload, stdin: "0000")
        #expect(st == 0 && out.hasPrefix("0000"), "an empty repository's advertisement: \(out)")
        (st, out) = try nedKey.ssh(pid, upload, stdin: "0000")
        #expect(st == 1 && out.contains("two-factor"), "\(out)")
        #expect(try await strong.post("/ssh_keys", ["value": .string(miaKey.publicKey), "title": "laptop"]).status == 201)
        (st, out) = try miaKey.ssh(pid, upload, certificate: false, stdin: "0000")
        #expect(st == 1 && out.contains("two-factor"), "a plain key proves no second factor: \(out)")
        let remind = try await strong.post("/organizations/\(org)/mfa/remind", [:]).json
        #expect(remind.objectValue?.contains { $0.value["message"] == "reminder sent" } == true, "\(remind)")
        #expect(try await strong.delete("/users/\(miaId)/totp").status == 403, "cannot withdraw while enforced")
        #expect(try await strong.post("/organizations/\(org)/mfa-enforcement/disable", [:]).status == 204)
        #expect(try await ned.get("/projects/\(pid)").status == 200)
        #expect(try await strong.delete("/users/\(miaId)/totp").status == 204)
        #expect(try await Self.passwordLogin(s, "mia@example.com", "correct horse").status == 200)
    }

    @Test("invitations: mailed through an SMTP server, accepted through the link, expired and duplicate ones refused")
    func invitations() async throws {
        let sink = try await SMTPSink.start()
        defer { sink.stop() }
        let s = try await TestServer.start(.sqlite, extraArgs: ["--smtp-url", "smtp://grove:secret@127.0.0.1:\(sink.port)?from=noreply@grove.test", "--invitation-ttl", "3600"])
        defer { s.stopNow() }
        let admin = try await s.login()
        let pid = try #require(try await s.createProject(admin)["id"]?.stringValue)
        let org = try #require(try await admin.get("/projects/\(pid)").json["organization"]?.stringValue)
        let mail: @Sendable (String) async throws -> String = { needle in
            var text = ""
            try await waitFor(timeout: 15) {
                text = sink.text
                return text.contains(needle)
            }
            return text
        }
        func token(in text: String, for email: String) throws -> String {
            let message = try #require(text.components(separatedBy: "--END--").last { $0.contains("RCPT: " + email) })
            let link = try #require(message.range(of: "/invitations/[A-Za-z0-9_-]+", options: .regularExpression))
            return String(message[link].dropFirst("/invitations/".count))
        }
        let P = "/projects/\(pid)/invitations"

        var r = try await admin.post(P, ["email": "Newbie@Example.com", "permissions": ["viewer", "development:contributor"]])
        #expect(r.status == 201 && r.json["state"] == "pending" && r.json["email"] == "newbie@example.com", "\(r.text)")
        let first = try token(in: try await mail("RCPT: newbie@example.com"), for: "newbie@example.com")
        r = try await admin.post(P, ["email": "newbie@example.com", "role": "viewer"])
        #expect(r.status == 409 && r.text.contains("force"), "\(r.text)")
        r = try await admin.post(P, ["email": "newbie@example.com", "permissions": ["viewer", "development:contributor"], "force": true])
        #expect(r.status == 201, "\(r.text)")
        try await waitFor(timeout: 15) { sink.text.components(separatedBy: "RCPT: newbie@").count == 3 }
        let text = try await mail("RCPT: newbie@example.com")
        #expect(text.contains("Subject: Invitation to the project") && text.contains("From: Grove <noreply@grove.test>"), "\(text)")
        let second = try token(in: text, for: "newbie@example.com")
        #expect(second != first)
        let states = (try await admin.get(P).json.arrayValue ?? []).compactMap { $0["state"]?.stringValue }.sorted()
        #expect(states == ["cancelled", "pending"], "\(states)")

        let anon = HTTP(base: s.baseURL)
        #expect(try await anon.get("/invitations/\(first)").status == 410, "the replaced invitation is void")
        #expect(try await anon.get("/invitations/\(second)").json["project_id"]?.stringValue == pid)
        r = try await anon.post("/invitations/\(second)/accept", [:])
        #expect(r.status == 400 && r.text.contains("password"), "\(r.text)")
        r = try await anon.post("/invitations/\(second)/accept", ["password": "a long passphrase", "username": "newbie"])
        #expect(r.status == 200, "\(r.text)")
        let login = try await Self.passwordLogin(s, "newbie@example.com", "a long passphrase")
        let newbie = HTTP(base: s.baseURL, bearer: try #require(login.json["access_token"]?.stringValue))
        #expect(try await newbie.get("/projects/\(pid)").status == 200)
        #expect(try await anon.post("/invitations/\(second)/accept", ["password": "a long passphrase"]).status == 410)

        // An existing user is granted at once and told by mail.
        _ = try s.createUser(email: "member@example.com")
        r = try await admin.post("/organizations/\(org)/invitations", ["email": "member@example.com", "permissions": ["projects:list"]])
        #expect(r.status == 201 && r.json["state"] == "accepted", "\(r.text)")
        #expect(try await mail("RCPT: member@example.com").contains("You were added to the organization"))
        #expect(try await admin.get("/organizations/\(org)/members").json["items"]?.arrayValue?.count == 3, "owner, newbie, member")

        // Bad input: not an email, an unknown permission, a viewer inviting, an expired link.
        #expect(try await admin.post(P, ["email": "not-an-email"]).status == 400)
        #expect(try await admin.post("/organizations/\(org)/invitations", ["email": "x@example.com", "permissions": ["root"]]).status == 400)
        #expect(try await newbie.post(P, ["email": "x@example.com"]).status == 403)

        // Without --smtp-url the mail, link included, is in the server log; links expire after --invitation-ttl.
        let s2 = try await TestServer.start(.sqlite, extraArgs: ["--invitation-ttl", "1"])
        defer { s2.stopNow() }
        let admin2 = try await s2.login()
        let pid2 = try #require(try await s2.createProject(admin2)["id"]?.stringValue)
        r = try await admin2.post("/projects/\(pid2)/invitations", ["email": "late@example.com"])
        #expect(r.status == 201)
        var late = ""
        try await waitFor(timeout: 10) {
            guard let range = s2.output.range(of: "/invitations/[A-Za-z0-9_-]+", options: .regularExpression) else { return false }
            late = String(s2.output[range].dropFirst("/invitations/".count))
            return true
        }
        #expect(s2.output.contains("mail not sent (no --smtp-url) to late@example.com"))
        try await Task.sleep(for: .seconds(2))
        r = try await HTTP(base: s2.baseURL).post("/invitations/\(late)/accept", ["password": "a long passphrase"])
        #expect(r.status == 410 && r.text.contains("expired"), "\(r.text)")
        #expect((try await admin2.get("/projects/\(pid2)/invitations?filter[state]=expired").json.arrayValue ?? []).map { $0["email"] } == ["late@example.com"])
        #expect(try await admin2.get("/users/email=late@example.com").status == 404, "no account was made")
    }

    @Test("CLI: user:*, team:*, organization:user:*, ssh-key:* and auth:mfa")
    func cli() async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let admin = try await s.login()
        let pid = try #require(try await s.createProject(admin)["id"]?.stringValue)
        let carolToken = try s.createUser(email: "carol@example.com")
        _ = try s.createUser(email: "dave@example.com")
        let env = ["GROVE_API_URL": s.baseURL, "GROVE_TOKEN": s.initialToken, "GROVE_CONFIG_DIR": s.dataDir + "-cli"]
        func grove(_ args: [String], _ e: [String: String]? = nil) throws -> String {
            let (st, out) = try CLI.run(args, env: e ?? env)
            #expect(st == 0, "grove \(args.joined(separator: " ")): \(out)")
            return out
        }
        #expect(try grove(["user:add", "carol@example.com", "-p", pid, "-r", "viewer", "-r", "development:c"]).contains("Added carol@example.com"))
        #expect(try grove(["user:add", "ghost@example.com", "-p", pid]).contains("Invited ghost@example.com"))
        var out = try grove(["user:list", "-p", pid, "--format", "csv"])
        #expect(out.contains("carol@example.com") && out.contains("development:contributor"), "\(out)")
        _ = try grove(["user:update", "carol@example.com", "-p", pid, "-r", "admin"])
        #expect(try grove(["user:get", "carol@example.com", "-p", pid, "--format", "json"]).contains("\"admin\""))
        let (bad, badOut) = try CLI.run(["user:update", "carol@example.com", "-p", pid, "-r", "production:boss"], env: env)
        #expect(bad != 0 && badOut.contains("production:boss"), "\(badOut)")

        #expect(try grove(["team:create", "Devs", "-r", "viewer", "-r", "development:admin"]).contains("Created team Devs"))
        _ = try grove(["team:user:add", "Devs", "carol@example.com"])
        _ = try grove(["team:project:add", "Devs", "-p", pid])
        out = try grove(["team:list", "--format", "csv"])
        #expect(out.contains("Devs") && out.contains("development:admin"), "\(out)")
        #expect(try grove(["organization:user:add", "dave@example.com", "--permission", "projects:list"]).contains("Added dave@example.com"))
        out = try grove(["organization:user:list", "--format", "csv"])
        #expect(out.contains("carol@example.com") && out.contains("dave@example.com"), "\(out)")
        _ = try grove(["user:delete", "carol@example.com", "-p", pid])
        #expect(!(try grove(["user:list", "-p", pid, "--format", "csv"])).contains("carol@example.com"))

        // Carol's own account: SSH keys and two-factor authentication.
        let carol = ["GROVE_API_URL": s.baseURL, "GROVE_TOKEN": carolToken, "GROVE_CONFIG_DIR": s.dataDir + "-carol"]
        let keyPath = s.dataDir + "-carol-key"
        _ = try Spawn.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", keyPath])
        defer { try? FileManager.default.removeItem(atPath: keyPath); try? FileManager.default.removeItem(atPath: keyPath + ".pub") }
        out = try grove(["ssh-key:add", keyPath + ".pub", "--title", "work"], carol)
        let keyId = try #require(out.range(of: "[0-9]+", options: .regularExpression).map { String(out[$0]) })
        #expect(try grove(["ssh-key:list", "--format", "csv"], carol).contains("work"))
        _ = try grove(["ssh-key:delete", keyId], carol)
        #expect(!(try grove(["ssh-key:list", "--format", "csv"], carol)).contains("work"))

        out = try grove(["auth:mfa"], carol)
        let secret = try #require(out.range(of: "--secret [A-Z2-7]+", options: .regularExpression).map { String(out[$0].dropFirst(9)) })
        out = try grove(["auth:mfa", "--secret", secret, "--code", try Self.pyotp(secret)], carol)
        #expect(out.contains("Two-factor authentication is on") && out.components(separatedBy: "\n").filter { $0.hasPrefix("  ") && $0.contains("-") }.count == 10, "\(out)")
    }
}
