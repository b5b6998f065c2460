import Foundation
import GroveModel
import Testing

/// OpenSSH's own client against `grove serve`'s SSH server: certificates from `POST /ssh` and keys from `/ssh_keys`
/// open commands and shells inside the application's sandbox; everyone else is refused.
@Suite("SSH into environments")
struct SSHTests {
    static let app = """
    name: app
    type: python:3.11
    mounts:
      data: {source: local, source_path: data}
    web:
      commands:
        start: python3 -m http.server $PORT --bind 127.0.0.1
    """

    /// A key pair made by ssh-keygen in `dir`, and ssh with only it (and `certificate` when given) on offer.
    struct Client {
        let dir: String
        let port: Int

        init(dir: String, port: Int, name: String = "id", type: [String] = ["-t", "ed25519"]) throws {
            self.dir = dir
            self.port = port
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let (st, out) = try Spawn.run("/usr/bin/ssh-keygen", ["-q"] + type + ["-N", "", "-C", "test@grove", "-f", dir + "/" + name], env: [:])
            guard st == 0 else { throw TestFailure("ssh-keygen: \(out)") }
        }

        var publicKey: String { (try? String(contentsOfFile: dir + "/id.pub", encoding: .utf8)) ?? "" }

        /// The options every OpenSSH tool takes to use only this key (and its certificate).
        func options(certificate: Bool = true) -> [String] {
            ["-F", "/dev/null", "-i", dir + "/id", "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
             "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"]
                + (certificate ? ["-o", "CertificateFile=\(dir)/id-cert.pub"] : ["-o", "CertificateFile=/dev/null"])
        }

        func ssh(_ user: String, _ command: [String], certificate: Bool = true, tty: Bool = false, stdin: String? = nil) throws -> (Int32, String) {
            var args = options(certificate: certificate) + ["-p", String(port)]
            if tty { args.append("-tt") }
            args += ["\(user)@127.0.0.1"] + command
            return try Spawn.run("/usr/bin/ssh", args, env: [:], stdin: stdin)
        }
    }

    @Test("a certificate or an account key runs commands and shells in the application's sandbox; strangers, viewers and inactive environments are refused",
          arguments: ["openssh", "builtin"])
    func sessions(server: String) async throws {
        // OpenSSH refuses user names it has no account for before Grove hears of them: a wrong application, worker
        // or instance is a plain "Permission denied" there, a message from Grove with the built-in server.
        let named = server == "builtin"
        let s = try await TestServer.start(.sqlite, extraArgs: ["--ssh-server", server])
        defer { s.stopNow() }
        let (http, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit([".platform.app.yaml": Self.app + "\nworkers:\n  queue:\n    commands:\n      start: sleep 100000\n", "index.html": "up\n"])
        let (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        let main = try await http.get("/projects/\(pid)/environments/main").json
        let machine = try #require(main["machine_name"]?.stringValue)
        let user = "\(pid)-\(machine)--app"
        // The environment links to its SSH target, in the form the official CLI reads.
        let sshURL = "ssh://\(user)@127.0.0.1:\(s.sshPort)"
        #expect(main["_links"]?["pf:ssh:app"]?["href"]?.stringValue == sshURL, "\(main["_links"] ?? .null)")
        #expect(main["_links"]?["ssh"]?["href"]?.stringValue == sshURL)
        let listed = try await http.get("/projects/\(pid)/environments").json.arrayValue ?? []
        #expect(listed.first { $0["id"] == "main" }?["_links"]?["pf:ssh:app"]?["href"]?.stringValue == sshURL)

        let dir = s.dataDir + "-ssh"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let client = try Client(dir: dir + "/a", port: s.sshPort)

        // The authority, and a certificate for the caller's key.
        let authority = try await http.get("/ssh/authority").json["authorities"]?.arrayValue ?? []
        #expect(authority.count == 1 && authority.first?.stringValue?.hasPrefix("ssh-ed25519 ") == true, "\(authority)")
        let signed = try await http.post("/ssh", ["key": .string(client.publicKey)])
        #expect(signed.status == 200, "\(signed.text)")
        let cert = try #require(signed.json["certificate"]?.stringValue)
        #expect(cert.hasPrefix("ssh-ed25519-cert-v01@openssh.com "))
        try cert.write(toFile: client.dir + "/id-cert.pub", atomically: true, encoding: .utf8)
        #expect(try await http.post("/ssh", ["key": "ssh-ed25519 nope"]).status == 400)

        // A command: the application's variables, its user, its mounts; the exit code comes back.
        var (code, text) = try client.ssh(user, ["echo $PLATFORM_APPLICATION_NAME $PLATFORM_BRANCH; id -u; echo hi > $PLATFORM_APP_DIR/data/x && cat $PLATFORM_APP_DIR/data/x; exit 7"])
        #expect(code == 7, "\(text)")
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.first == "app main", "\(text)")
        #expect(lines.count > 2 && lines[1] != "0" && lines[2] == "hi", "\(text)")
        // The instance form: instance 0 is the application; there is no other.
        (code, text) = try client.ssh(user + "--0", ["echo $PLATFORM_APPLICATION_NAME"])
        #expect(code == 0 && text.hasPrefix("app"), "\(text)")
        (code, text) = try client.ssh(user + "--1", ["true"])
        #expect(named ? code == 1 && text.contains("runs one instance") : code == 255 && text.contains("Permission denied"), "\(text)")
        // Stdin reaches the command; the code and the data directory of the host are out of reach.
        (code, text) = try client.ssh(user, ["cat; touch $PLATFORM_APP_DIR/new 2>/dev/null && echo WROTE-APP; ls \(s.dataDir) 2>&1 | head -1"], stdin: "from stdin\n")
        #expect(code == 0 && text.hasPrefix("from stdin\n"), "\(text)")
        #expect(!text.contains("WROTE-APP") && text.contains("No such file"), "\(text)")
        // A command that does not read its input while the client sends without end: the server stops reading from
        // the client instead of holding it (its memory is measured by nothing here; the session still ends normally).
        let flood = try Spawn.run("/bin/sh", ["-c", "/usr/bin/ssh \(client.options().map { "'\($0)'" }.joined(separator: " ")) -p \(s.sshPort) \(user)@127.0.0.1 'sleep 2; head -c 1000000 > /dev/null; echo drained' < /dev/zero"], env: [:])
        #expect(flood.0 == 0 && flood.1.contains("drained"), "\(flood.1)")
        // A terminal: the command has one, with the size the client sent.
        (code, text) = try client.ssh(user, ["[ -t 0 ] && echo HAS-TTY; stty size"], tty: true)
        #expect(code == 0 && text.contains("HAS-TTY"), "\(text)")
        // A shell with its script on stdin.
        (code, text) = try client.ssh(user, [], stdin: "echo shell $PLATFORM_ENVIRONMENT_TYPE\nexit 3\n")
        #expect(code == 3 && text.contains("shell production"), "\(text)")

        // An account key, without a certificate, once it is added; before that it is refused.
        let other = try Client(dir: dir + "/b", port: s.sshPort)
        (code, text) = try other.ssh(user, ["true"], certificate: false)
        #expect(code == 255 && text.contains("Permission denied"), "\(text)")
        #expect(try await http.post("/ssh_keys", ["value": .string(other.publicKey), "title": "laptop"]).status == 201)
        (code, text) = try other.ssh(user, ["echo key-ok"], certificate: false)
        #expect(code == 0 && text.contains("key-ok"), "\(text)")

        // RSA keys (which only OpenSSH's server speaks): an account key, and a certificate for another one.
        if server == "openssh" {
            let rsa = try Client(dir: dir + "/rsa", port: s.sshPort, type: ["-t", "rsa", "-b", "3072"])
            (code, text) = try rsa.ssh(user, ["true"], certificate: false)
            #expect(code == 255 && text.contains("Permission denied"), "\(text)")
            #expect(try await http.post("/ssh_keys", ["value": .string(rsa.publicKey), "title": "old laptop"]).status == 201)
            (code, text) = try rsa.ssh(user, ["echo rsa-key $PLATFORM_BRANCH"], certificate: false)
            #expect(code == 0 && text.contains("rsa-key main"), "\(text)")
            let rsaCert = try Client(dir: dir + "/rsa-cert", port: s.sshPort, type: ["-t", "rsa", "-b", "2048"])
            let signedRSA = try #require(try await http.post("/ssh", ["key": .string(rsaCert.publicKey)]).json["certificate"]?.stringValue)
            #expect(signedRSA.hasPrefix("ssh-rsa-cert-v01@openssh.com "))
            try signedRSA.write(toFile: rsaCert.dir + "/id-cert.pub", atomically: true, encoding: .utf8)
            // The certificate is offered first and accepted as such (ssh -v says which key the server took).
            (code, text) = try Spawn.run("/usr/bin/ssh", rsaCert.options() + ["-v", "-p", String(s.sshPort), "\(user)@127.0.0.1", "echo rsa-cert"], env: [:])
            #expect(code == 0 && text.contains("rsa-cert"), "\(text)")
            #expect(text.split(separator: "\n").first { $0.contains("Server accepts key") }?.contains("RSA-CERT") == true, "\(text)")
            // A certificate of another authority, naming the same user, for a key Grove never saw: refused.
            let forged = try Client(dir: dir + "/forged", port: s.sshPort, type: ["-t", "rsa", "-b", "2048"])
            #expect(try Spawn.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", forged.dir + "/ca"], env: [:]).0 == 0)
            let me = try #require(try await http.get("/me").json["id"]?.stringValue)
            #expect(try Spawn.run("/usr/bin/ssh-keygen", ["-q", "-s", forged.dir + "/ca", "-I", "forged", "-n", me, "-V", "-1m:+1h", forged.dir + "/id.pub"], env: [:]).0 == 0)
            (code, text) = try forged.ssh(user, ["true"])
            #expect(code == 255 && text.contains("Permission denied"), "a certificate Grove did not sign: \(text)")
            // sshd dying is not the end of SSH: Grove starts it again.
            let config = s.dataDir + "/ssh/openssh/sshd_config"
            #expect(try Spawn.run("/usr/bin/pkill", ["-KILL", "-f", "sshd -D -e -f \(config)"], env: [:]).0 == 0)
            var back = false
            for _ in 0..<40 where !back {
                try await Task.sleep(for: .milliseconds(250))
                back = (try? rsa.ssh(user, ["echo back"], certificate: false))?.1.contains("back") == true
            }
            #expect(back, "sshd was not started again")
        }

        // A worker of the application: its own instance's view, under the same rules.
        (code, text) = try client.ssh(user + "--queue", ["echo worker $PLATFORM_APPLICATION_NAME; cat $PLATFORM_APP_DIR/data/x"])
        #expect(code == 0 && text.contains("worker app") && text.contains("hi"), "\(text)")
        (code, text) = try client.ssh(user + "--nope", ["true"])
        #expect(named ? code == 1 && text.contains("no worker nope") && text.contains("queue") : code == 255, "\(text)")
        // Wrong targets: another project, an unknown application, a malformed name.
        (code, text) = try client.ssh("aaaaaaaaaaaaa-\(machine)--app", ["true"])
        #expect(code == 255, "\(text)")
        (code, text) = try client.ssh("\(pid)-\(machine)--nope", ["true"])
        #expect(named ? code == 1 && text.contains("no application nope runs on main") : code == 255, "\(text)")
        (code, text) = try client.ssh("root", ["true"])
        #expect(code == 255, "\(text)")

        // A viewer may see the project but not SSH into it (access.ssh defaults to contributor).
        let viewerToken = try s.createUser(email: "viewer@example.com")
        #expect(try await http.post("/projects/\(pid)/access", ["email": "viewer@example.com", "role": "viewer"]).status == 201)
        let viewerHTTP = try await s.login(token: viewerToken)
        let viewer = try Client(dir: dir + "/v", port: s.sshPort)
        let viewerCert = try #require(try await viewerHTTP.post("/ssh", ["key": .string(viewer.publicKey)]).json["certificate"]?.stringValue)
        try viewerCert.write(toFile: viewer.dir + "/id-cert.pub", atomically: true, encoding: .utf8)
        (code, text) = try viewer.ssh(user, ["true"])
        #expect(code == 1 && text.contains("no environment \(machine)"), "a project viewer without a role on production sees no environment: \(text)")
        #expect(try await http.post("/projects/\(pid)/environment-types/production/access", ["email": "viewer@example.com", "role": "viewer"]).status == 201)
        (code, text) = try viewer.ssh(user, ["true"])
        #expect(code == 1 && text.contains("needs the contributor role"), "\(text)")
        // Nor is the link shown to them.
        let viewerMain = try await viewerHTTP.get("/projects/\(pid)/environments/main").json
        #expect(viewerMain["_links"]?["self"] != nil && viewerMain["_links"]?["pf:ssh:app"] == nil, "\(viewerMain["_links"] ?? .null)")
        // A stranger's certificate names a user with no access to the project at all.
        let strangerToken = try s.createUser(email: "stranger@example.com")
        let stranger = try Client(dir: dir + "/s", port: s.sshPort)
        let strangerCert = try #require(try await s.login(token: strangerToken).post("/ssh", ["key": .string(stranger.publicKey)]).json["certificate"]?.stringValue)
        try strangerCert.write(toFile: stranger.dir + "/id-cert.pub", atomically: true, encoding: .utf8)
        (code, text) = try stranger.ssh(user, ["true"])
        #expect(code == 255 && text.contains("Permission denied"), "\(text)")

        // An inactive environment says so.
        let branched = try await http.post("/projects/\(pid)/environments/main/branch", ["name": "dev", "title": "Dev"])
        _ = try await waitForActivity(http, try #require(branched.json["_embedded"]?["activities"]?.arrayValue?.first))
        let deactivated = try await http.post("/projects/\(pid)/environments/dev/deactivate")
        _ = try await waitForActivity(http, try #require(deactivated.json["_embedded"]?["activities"]?.arrayValue?.first))
        let devMachine = try #require(try await http.get("/projects/\(pid)/environments/dev").json["machine_name"]?.stringValue)
        (code, text) = try client.ssh("\(pid)-\(devMachine)--app", ["true"])
        #expect(code == 1 && text.contains("is inactive"), "\(text)")
        #expect(try await http.get("/projects/\(pid)/environments/dev").json["_links"]?["ssh"] == nil)

        // The CLI: a certificate for its own key, then a command through the environment's link.
        let cli = ["GROVE_CONFIG_DIR": dir + "/cli", "GROVE_API_URL": s.baseURL, "GROVE_TOKEN": s.initialToken]
        (code, text) = try CLI.run(["ssh-cert:load"], env: cli)
        #expect(code == 0 && FileManager.default.fileExists(atPath: dir + "/cli/ssh/id_ed25519-cert.pub"), "\(text)")
        (code, text) = try CLI.run(["ssh", "-p", pid, "-e", "main", "--pipe"], env: cli)
        #expect(code == 0 && text.trimmingCharacters(in: .whitespacesAndNewlines) == sshURL, "\(text)")
        (code, text) = try CLI.run(["ssh", "-p", pid, "-e", "main", "--", "echo cli $PLATFORM_BRANCH; exit 4"], env: cli)
        #expect(code == 4 && text.contains("cli main"), "\(text)")
        (code, text) = try CLI.run(["ssh", "-p", pid, "-e", "dev", "true"], env: cli)
        #expect(code != 0 && text.contains("not currently active"), "\(text)")

        // The server's host key is the one system:info reports.
        #expect(try await http.get("/grove/system").json["ssh_host_key"]?.stringValue == s.sshHostKey)
    }

    @Test("sftp, scp and rsync move files in and out of the application's mounts, and nowhere else")
    func fileTransfer() async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let (http, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit([".platform.app.yaml": Self.app, "index.html": "up\n"])
        #expect(try tree.push(["HEAD:refs/heads/main"]).0 == 0)
        let machine = try #require(try await http.get("/projects/\(pid)/environments/main").json["machine_name"]?.stringValue)
        let target = "\(pid)-\(machine)--app@127.0.0.1"
        let dir = s.dataDir + "-files"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let client = try Client(dir: dir + "/key", port: s.sshPort)
        let cert = try #require(try await http.post("/ssh", ["key": .string(client.publicKey)]).json["certificate"]?.stringValue)
        try cert.write(toFile: client.dir + "/id-cert.pub", atomically: true, encoding: .utf8)
        let local = dir + "/local"
        try FileManager.default.createDirectory(atPath: local + "/tree/sub", withIntermediateDirectories: true)
        try "by scp\n".write(toFile: local + "/scp.txt", atomically: true, encoding: .utf8)
        try "by sftp\n".write(toFile: local + "/sftp.txt", atomically: true, encoding: .utf8)
        try "one\n".write(toFile: local + "/tree/one.txt", atomically: true, encoding: .utf8)
        try "two\n".write(toFile: local + "/tree/sub/two.txt", atomically: true, encoding: .utf8)

        // scp (over SFTP, OpenSSH's default) into the mount, relative to the application's directory.
        var (code, text) = try Spawn.run("/usr/bin/scp", client.options() + ["-P", String(s.sshPort), local + "/scp.txt", target + ":data/"], env: [:])
        #expect(code == 0, "\(text)")
        // sftp: a batch that uploads, lists and downloads.
        try "put \(local)/sftp.txt data/sftp.txt\nls data\nget data/scp.txt \(local)/back.txt\n".write(toFile: dir + "/batch", atomically: true, encoding: .utf8)
        (code, text) = try Spawn.run("/usr/bin/sftp", client.options() + ["-P", String(s.sshPort), "-b", dir + "/batch", target], env: [:])
        #expect(code == 0 && text.contains("sftp.txt"), "\(text)")
        #expect((try? String(contentsOfFile: local + "/back.txt", encoding: .utf8)) == "by scp\n")
        // rsync over ssh: a tree up, and back down.
        let rsh = (["/usr/bin/ssh"] + client.options() + ["-p", String(s.sshPort)]).joined(separator: " ")
        (code, text) = try Spawn.run("/usr/bin/rsync", ["-a", "-e", rsh, local + "/tree/", target + ":data/tree/"], env: [:])
        #expect(code == 0, "\(text)")
        (code, text) = try Spawn.run("/usr/bin/rsync", ["-a", "-e", rsh, target + ":data/tree/", local + "/down/"], env: [:])
        #expect(code == 0, "\(text)")
        #expect((try? String(contentsOfFile: local + "/down/sub/two.txt", encoding: .utf8)) == "two\n")
        (code, text) = try client.ssh("\(pid)-\(machine)--app", ["cat data/scp.txt data/sftp.txt data/tree/one.txt"])
        #expect(code == 0 && text == "by scp\nby sftp\none\n", "\(text)")
        // The CLI's mount:upload and mount:download are rsync through the environment's link.
        let cli = ["GROVE_CONFIG_DIR": dir + "/cli", "GROVE_API_URL": s.baseURL, "GROVE_TOKEN": s.initialToken]
        (code, text) = try CLI.run(["mount:upload", "-p", pid, "-e", "main", "--mount", "data", "--source", local + "/tree"], env: cli)
        #expect(code == 0, "\(text)")
        (code, text) = try CLI.run(["mount:download", "-p", pid, "-e", "main", "--mount", "/data", "--target", local + "/all"], env: cli)
        #expect(code == 0, "\(text)")
        #expect((try? String(contentsOfFile: local + "/all/sftp.txt", encoding: .utf8)) == "by sftp\n")
        #expect((try? String(contentsOfFile: local + "/all/sub/two.txt", encoding: .utf8)) == "two\n")
        (code, text) = try CLI.run(["mount:download", "-p", pid, "-e", "main", "--mount", "../..", "--target", local + "/escape"], env: cli)
        #expect(code != 0 && text.contains("by its path"), "\(text)")

        // The application's code is read-only, and the host's files are not there to take.
        (code, text) = try Spawn.run("/usr/bin/scp", client.options() + ["-P", String(s.sshPort), local + "/scp.txt", target + ":index.html"], env: [:])
        #expect(code != 0, "\(text)")
        (code, text) = try Spawn.run("/usr/bin/scp", client.options() + ["-P", String(s.sshPort), target + ":\(s.dataDir)/grove.sqlite", local + "/stolen"], env: [:])
        #expect(code != 0 && !FileManager.default.fileExists(atPath: local + "/stolen"), "\(text)")
        (code, text) = try client.ssh("\(pid)-\(machine)--app", ["cat index.html"])
        #expect(code == 0 && text == "up\n", "\(text)")
    }

    /// The first answer of `query` through a local port that forwards to the relationship `db`, retried while the
    /// tunnel comes up.
    static func psql(_ db: JSON, port: Int, _ query: String) async throws -> String {
        var answer = ""
        for _ in 0..<50 {
            let (status, out) = try Spawn.run("/usr/bin/psql", ["-h", "127.0.0.1", "-p", String(port), "-U", db["username"]?.stringValue ?? "main",
                                                               "-d", db["path"]?.stringValue ?? "main", "-tAc", query],
                                              env: ["PGPASSWORD": db["password"]?.stringValue ?? "", "PGCONNECT_TIMEOUT": "3"])
            answer = out
            if status == 0 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        return answer
    }

    @Test("a tunnel (ssh -L) reaches the environment's database as its relationship names it, and nothing else")
    func tunnels() async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let (http, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit([".platform.app.yaml": Self.app + "\nrelationships:\n  database: \"db:postgresql\"\n",
                         ".platform/services.yaml": "db:\n  type: postgresql:15\n  disk: 256\n", "index.html": "up\n"])
        let (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        let machine = try #require(try await http.get("/projects/\(pid)/environments/main").json["machine_name"]?.stringValue)
        let user = "\(pid)-\(machine)--app"
        let dir = s.dataDir + "-tunnel"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let client = try Client(dir: dir, port: s.sshPort)
        let cert = try #require(try await http.post("/ssh", ["key": .string(client.publicKey)]).json["certificate"]?.stringValue)
        try cert.write(toFile: client.dir + "/id-cert.pub", atomically: true, encoding: .utf8)

        // What the official CLI does: read the relationships over SSH, then forward to the endpoint they name.
        let (code, text) = try client.ssh(user, ["echo $PLATFORM_RELATIONSHIPS"])
        #expect(code == 0, "\(text)")
        let relationships = try JSON.parse(Array(try #require(Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)))))
        let db = try #require(relationships["database"]?.arrayValue?.first)
        let host = try #require(db["host"]?.stringValue), port = try #require(db["port"]?.intValue)
        let local = try PostgresHarness.freePort()
        let forward = try Spawn.start("/usr/bin/ssh", client.options() + ["-p", String(s.sshPort), "-N", "-o", "ExitOnForwardFailure=yes",
                                                                            "-L", "127.0.0.1:\(local):\(host):\(port)", "\(user)@127.0.0.1"])
        defer { forward.signal(SIGKILL); _ = forward.wait() }
        var answer = try await Self.psql(db, port: local, "select 40 + 2")
        #expect(answer.trimmingCharacters(in: .whitespacesAndNewlines) == "42", "\(answer) \(db) forward: \(forward.output) server: \(s.output.suffix(3000))")

        // The CLI's tunnel does the same in one command, and prints the relationship as seen through it.
        let cli = ["GROVE_CONFIG_DIR": dir + "/cli", "GROVE_API_URL": s.baseURL, "GROVE_TOKEN": s.initialToken]
        let cliPort = try PostgresHarness.freePort()
        let tunnel = try Spawn.start(Paths.groveBinary, ["tunnel:single", "-p", pid, "-e", "main", "--port", String(cliPort)], env: cli)
        defer { tunnel.signal(SIGKILL); _ = tunnel.wait() }
        answer = try await Self.psql(db, port: cliPort, "select 6 * 7")
        #expect(answer.trimmingCharacters(in: .whitespacesAndNewlines) == "42", "\(answer) tunnel: \(tunnel.output)")
        #expect(tunnel.output.contains("\"port\": \(cliPort)") || tunnel.output.contains("\"port\":\(cliPort)"), "\(tunnel.output)")

        // Background tunnels: opened, listed, used, closed.
        var (oc, otext) = try CLI.run(["tunnel:open", "-p", pid, "-e", "main", "--format", "csv"], env: cli)
        #expect(oc == 0 && otext.contains("database,127.0.0.1:"), "\(otext)")
        let openPort = Int(otext.split(separator: "\n").first { $0.hasPrefix("database,") }?.split(separator: ":").last ?? "") ?? 0
        answer = try await Self.psql(db, port: openPort, "select 'bg'")
        #expect(answer.trimmingCharacters(in: .whitespacesAndNewlines) == "bg", "\(answer)")
        (oc, otext) = try CLI.run(["tunnel:list", "--format", "csv"], env: cli)
        #expect(oc == 0 && otext.contains("\(pid),main,app,database,127.0.0.1:\(openPort)"), "\(otext)")
        (oc, otext) = try CLI.run(["tunnel:close"], env: cli)
        #expect(oc == 0 && otext.contains("Closed 1 tunnel"), "\(otext)")
        try await waitFor(timeout: 10) { try CLI.run(["tunnel:list", "--format", "csv"], env: cli).1.contains("database") == false }

        // db:sql and db:dump run the client inside the application over SSH (what a laptop away from the Grove host does).
        (oc, otext) = try CLI.run(["db:sql", "-p", pid, "-e", "main", "--ssh", "create table notes (body text); insert into notes values ('over ssh');"], env: cli)
        #expect(oc == 0, "\(otext)")
        (oc, otext) = try CLI.run(["db:sql", "-p", pid, "-e", "main", "--ssh", "select body from notes"], env: cli)
        #expect(oc == 0 && otext.contains("over ssh"), "\(otext)")
        let dumpFile = dir + "/dump.sql"
        (oc, otext) = try CLI.run(["db:dump", "-p", pid, "-e", "main", "--ssh", "-f", dumpFile], env: cli)
        #expect(oc == 0 && otext.contains("over SSH"), "\(otext)")
        let dump = (try? String(contentsOfFile: dumpFile, encoding: .utf8)) ?? ""
        #expect(dump.contains("CREATE TABLE public.notes") && dump.contains("over ssh"), "\(dump.prefix(400))")

        let system = try await http.get("/grove/system").json
        if system["ssh_server"]?.stringValue == "openssh" {
            // With networks of their own, sshd's tunnels land on Grove's forwarder at the endpoint's address on the host:
            // it serves the accounts sshd runs tunnels as, nobody else (this test runs as root, not as an account).
            if system["network"]?.stringValue == "isolated" {
                let direct = try await Self.psql(db, port: Int(port), "select 1")
                #expect(direct.trimmingCharacters(in: .whitespacesAndNewlines) != "1", "a connection that is not a tunnel: \(direct)")
            }
            try Self.bridgeRefusesStrangers(s, project: pid, user: user, client: client)
        }

        // Anything its relationships do not name is refused: the API, another port, the host's own services.
        for target in ["127.0.0.1:\(URL(string: s.baseURL)?.port ?? 80)", "\(host):\(port + 1)", "127.0.0.1:22"] {
            let (ws, wout) = try Spawn.run("/usr/bin/ssh", client.options() + ["-p", String(s.sshPort), "-W", target, "\(user)@127.0.0.1"], env: [:], stdin: "")
            #expect(ws == 255 && wout.contains("forwarding failed"), "\(target): \(wout)")
        }
    }

    @Test("a certificate stops opening sessions when it expires, and so does the key it certified", arguments: ["openssh", "builtin"])
    func expiredCertificates(server: String) async throws {
        // Long enough for a loaded CI machine (a session on sshd starts three helpers and a sandbox) to log in while
        // the certificate is valid; the wait for its expiry is idle.
        let lifetime: TimeInterval = 30
        let s = try await TestServer.start(.sqlite, extraArgs: ["--ssh-server", server, "--ssh-certificate-lifetime", "\(Int(lifetime))"])
        defer { s.stopNow() }
        let (http, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit([".platform.app.yaml": Self.app, "index.html": "up\n"])
        let (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        let machine = try #require(try await http.get("/projects/\(pid)/environments/main").json["machine_name"]?.stringValue)
        let user = "\(pid)-\(machine)--app"
        let dir = s.dataDir + "-expiry"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let client = try Client(dir: dir, port: s.sshPort)
        let cert = try #require(try await http.post("/ssh", ["key": .string(client.publicKey)]).json["certificate"]?.stringValue)
        try cert.write(toFile: client.dir + "/id-cert.pub", atomically: true, encoding: .utf8)
        let signed = Date()
        // While it is valid it opens sessions (a loaded machine may drop a connection before the login: tried again a
        // second later then, while there is time left for a whole session).
        var (code, text) = (Int32(-1), "")
        var attempts: [String] = []
        while code != 0, Date().timeIntervalSince(signed) < lifetime * 2 / 3 {
            if !attempts.isEmpty { try await Task.sleep(for: .seconds(1)) }
            (code, text) = try client.ssh(user, ["echo fresh"])
            attempts.append("status \(code) at \(Int(Date().timeIntervalSince(signed) * 1000)) ms: \(text)")
        }
        #expect(code == 0 && text.contains("fresh"), "\(attempts)")
        try await Task.sleep(for: .seconds(max(0, lifetime + 1.5 - Date().timeIntervalSince(signed))))
        (code, text) = try client.ssh(user, ["echo stale"])
        #expect(code == 255 && text.contains("Permission denied") && !text.contains("stale"), "\(text)")
    }

    /// The bridge between sshd and Grove takes key questions from sshd's authorizer only and sessions from the account
    /// they name only, with a login that is valid now: root, another account, or a forged login get nothing.
    static func bridgeRefusesStrangers(_ s: TestServer, project: String, user: String, client: Client) throws {
        let dir = s.dataDir + "/ssh/openssh"
        let accounts = try String(contentsOfFile: dir + "/passwd", encoding: .utf8).split(separator: "\n")
        func uid(_ name: String) -> String? { accounts.first { $0.hasPrefix(name + ":") }?.split(separator: ":")[2].description }
        let target = try #require(uid(user)), repository = try #require(uid(project)), authorizer = try #require(uid("grove-ssh"))
        #expect(Set([target, repository, authorizer]).count == 3)
        let key = client.publicKey.split(separator: " ")
        // As sshd's helpers would run: in a namespace where the socket is reachable, as a given uid.
        func helper(_ uid: String, _ args: [String], env: [String: String]) throws -> (Int32, String) {
            try Spawn.run("/usr/bin/bwrap", ["--dev-bind", "/", "/", "--bind", dir + "/bridge", "/run/grove-test-bridge", "/usr/bin/setpriv",
                                             "--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", Paths.groveBinary]
                          + args.map { $0.replacingOccurrences(of: "SOCKET", with: "/run/grove-test-bridge/bridge.sock") }, env: env, stdin: "")
        }
        // The authorizer gets the key's line; root and the account itself get nothing.
        var (code, text) = try helper(authorizer, ["ssh:authorize", "--socket", "SOCKET", user, String(key[0]), String(key[1])], env: [:])
        #expect(code == 0 && text.contains("cert-authority") == false && text.contains(String(key[1])) && text.hasPrefix("restrict,pty"), "\(text)")
        for stranger in ["0", target] {
            (code, text) = try helper(stranger, ["ssh:authorize", "--socket", "SOCKET", user, String(key[0]), String(key[1])], env: [:])
            #expect(code != 0 && !text.contains(String(key[1])), "uid \(stranger): \(text)")
        }
        // A session claimed by another account's uid, or with a login sshd never accepted, runs nothing.
        // What sshd writes for a session (ExposeAuthInfo), readable by the account: outside the private data directory.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("bridge-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let marker = scratch + "/bridge-ran"
        let auth = scratch + "/forged-auth"
        let (_, forgedKey) = try Spawn.run("/bin/sh", ["-c", "ssh-keygen -q -t ed25519 -N '' -f \(scratch)/forged && cat \(scratch)/forged.pub"], env: [:])
        try ("publickey " + forgedKey.split(separator: " ").prefix(2).joined(separator: " ") + "\n").write(toFile: auth, atomically: true, encoding: .utf8)
        try ("publickey " + key.prefix(2).joined(separator: " ") + "\n").write(toFile: auth + "-real", atomically: true, encoding: .utf8)
        chmod(auth, 0o644)
        chmod(auth + "-real", 0o644)
        let command = "touch \(marker)"
        (code, text) = try helper(repository, ["ssh:relay", "--socket", "SOCKET"], env: ["USER": user, "SSH_USER_AUTH": auth + "-real", "SSH_ORIGINAL_COMMAND": command])
        #expect(code == 1 && text.contains("not available"), "another account's uid: \(text)")
        (code, text) = try helper(target, ["ssh:relay", "--socket", "SOCKET"], env: ["USER": user, "SSH_USER_AUTH": auth, "SSH_ORIGINAL_COMMAND": command])
        #expect(code == 1 && text.contains("no longer valid"), "a key sshd never accepted: \(text)")
        #expect(!FileManager.default.fileExists(atPath: marker))
        // The account's own uid with the login sshd accepted is what sshd itself runs: that works.
        (code, text) = try helper(target, ["ssh:relay", "--socket", "SOCKET"], env: ["USER": user, "SSH_USER_AUTH": auth + "-real", "SSH_ORIGINAL_COMMAND": "echo relayed"])
        #expect(code == 0 && text.contains("relayed"), "\(text)")
    }

    @Test("git over SSH: clone, push with the same validation, log and deploy as over HTTP; read-only users cannot push")
    func gitOverSSH() async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let (http, pid, seed) = try await GitPushTests().project(s)
        defer { seed.remove() }
        try seed.commit(["README": "seed\n"])
        #expect(try seed.push(["HEAD:refs/heads/main"]).0 == 0)
        let dir = s.dataDir + "-git"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let client = try Client(dir: dir + "/key", port: s.sshPort)
        let cert = try #require(try await http.post("/ssh", ["key": .string(client.publicKey)]).json["certificate"]?.stringValue)
        try cert.write(toFile: client.dir + "/id-cert.pub", atomically: true, encoding: .utf8)
        // The project's repository URL is this SSH remote.
        let remote = try #require(try await http.get("/projects/\(pid)").json["repository"]?["url"]?.stringValue)
        #expect(remote == "ssh://\(pid)@127.0.0.1:\(s.sshPort)/\(pid).git")
        func git(_ args: [String], in work: String? = nil, key: Client = client) throws -> (Int32, String) {
            let ssh = (["/usr/bin/ssh"] + key.options()).joined(separator: " ")
            let base = ["-c", "user.name=Test", "-c", "user.email=test@example.com"] + (work.map { ["-C", $0] } ?? [])
            return try Spawn.run("/usr/bin/git", base + args, env: ["GIT_SSH_COMMAND": ssh, "HOME": dir, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"])
        }

        // Clone over SSH, commit an application, push: the push's activity log comes back as remote: lines.
        var (code, text) = try git(["clone", "-q", remote, dir + "/work"])
        #expect(code == 0 && FileManager.default.fileExists(atPath: dir + "/work/README"), "\(text)")
        try Self.app.write(toFile: dir + "/work/.platform.app.yaml", atomically: true, encoding: .utf8)
        try "over ssh\n".write(toFile: dir + "/work/index.html", atomically: true, encoding: .utf8)
        // Several megabytes that do not compress: the upload outruns git's reading, so the server pauses and resumes it.
        try Data((0..<(4 << 20)).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: dir + "/work/blob.bin"))
        _ = try git(["add", "-A"], in: dir + "/work")
        _ = try git(["commit", "-q", "-m", "app over ssh"], in: dir + "/work")
        (code, text) = try git(["push", "origin", "HEAD:refs/heads/main"], in: dir + "/work")
        #expect(code == 0 && text.contains("remote: Building application 'app'"), "\(text)")
        #expect(try s.fetch(pid, path: "/index.html").1 == "over ssh\n")
        // PLATFORMSH_PUSH_NO_WAIT (what the official CLI sends with SendEnv) returns once the activity is queued.
        try "no wait\n".write(toFile: dir + "/work/index.html", atomically: true, encoding: .utf8)
        _ = try git(["commit", "-qam", "no wait"], in: dir + "/work")
        let sshNoWait = (["/usr/bin/ssh"] + client.options() + ["-o", "SendEnv=PLATFORMSH_PUSH_NO_WAIT"]).joined(separator: " ")
        (code, text) = try Spawn.run("/usr/bin/git", ["-C", dir + "/work", "push", "origin", "HEAD:refs/heads/main"],
                                     env: ["GIT_SSH_COMMAND": sshNoWait, "HOME": dir, "GIT_CONFIG_NOSYSTEM": "1", "PLATFORMSH_PUSH_NO_WAIT": "1"])
        #expect(code == 0 && text.contains("not waiting for it"), "\(text)")
        try await waitFor(timeout: 60) { try s.fetch(pid, path: "/index.html").1 == "no wait\n" }
        // A broken configuration is refused over SSH as over HTTP, naming the file.
        try "name: app\ntype: nope:1\n".write(toFile: dir + "/work/.platform.app.yaml", atomically: true, encoding: .utf8)
        _ = try git(["commit", "-qam", "broken"], in: dir + "/work")
        (code, text) = try git(["push", "origin", "HEAD:refs/heads/main"], in: dir + "/work")
        #expect(code != 0 && text.contains(".platform.app.yaml"), "\(text)")
        #expect(try s.fetch(pid, path: "/index.html").1 == "no wait\n")

        // A viewer may clone but not push; a shell on the repository's name is refused.
        let readerToken = try s.createUser(email: "reader2@example.com")
        #expect(try await http.post("/projects/\(pid)/access", ["email": "reader2@example.com", "role": "viewer"]).status == 201)
        let reader = try Client(dir: dir + "/reader", port: s.sshPort)
        let readerCert = try #require(try await s.login(token: readerToken).post("/ssh", ["key": .string(reader.publicKey)]).json["certificate"]?.stringValue)
        try readerCert.write(toFile: reader.dir + "/id-cert.pub", atomically: true, encoding: .utf8)
        (code, text) = try git(["clone", "-q", remote, dir + "/reader-work"], key: reader)
        #expect(code == 0, "\(text)")
        _ = try git(["commit", "-q", "--allow-empty", "-m", "nope"], in: dir + "/reader-work", key: reader)
        (code, text) = try git(["push", "origin", "HEAD:refs/heads/main"], in: dir + "/reader-work", key: reader)
        #expect(code != 0 && text.contains("read-only access"), "\(text)")
        (code, text) = try client.ssh(pid, ["ls"])
        #expect(code == 1 && text.contains("git repository"), "\(text)")
    }
}
