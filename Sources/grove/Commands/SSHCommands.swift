import ArgumentParser
import Foundation
import GroveClient
import GroveModel
import GroveProcess

/// The CLI's SSH identity: an Ed25519 key pair made for it and the short-lived certificate `POST /ssh` signs for the
/// logged-in user, under the config directory (`ssh/id_ed25519`, `ssh/id_ed25519-cert.pub`).
enum SSHIdentity {
    static var directory: String { CredentialsFile.directory + "/ssh" }
    static var key: String { directory + "/id_ed25519" }
    static var certificate: String { key + "-cert.pub" }
    static var knownHosts: String { directory + "/known_hosts" }
    /// A certificate is renewed when it is older than this (they are valid one hour).
    static let renewAfter: TimeInterval = 50 * 60

    /// Makes the key pair if missing, then asks for a certificate; returns where it is.
    @discardableResult
    static func load(_ client: APIClient, force: Bool) async throws -> String {
        let fm = FileManager.default
        if !force, let age = (try? fm.attributesOfItem(atPath: certificate)[.modificationDate] as? Date).map({ Date().timeIntervalSince($0) }),
           age < renewAfter, fm.fileExists(atPath: key) {
            return certificate
        }
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if !fm.fileExists(atPath: key) {
            let out = try await Subprocess.run(["/usr/bin/env", "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "grove-temporary-cert", "-f", key],
                                               environment: nil, mergeErrors: true)
            guard out.status == 0 else { throw CLIError("ssh-keygen failed: \(String(decoding: out.stdout, as: UTF8.self))") }
        }
        let publicKey = try String(contentsOfFile: key + ".pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let answer = try await client.post("/ssh", .object(JSONObject([("key", .string(publicKey))])))
        guard let cert = answer["certificate"]?.stringValue else { throw CLIError("The server signed no certificate.") }
        try Data((cert + "\n").utf8).write(to: URL(fileURLWithPath: certificate))
        return certificate
    }

    /// The OpenSSH options that use this identity only, and remember the server's host key on first contact.
    static var options: [String] {
        ["-i", key, "-o", "CertificateFile=\(certificate)", "-o", "IdentitiesOnly=yes", "-o", "UserKnownHostsFile=\(knownHosts)",
         "-o", "StrictHostKeyChecking=accept-new"]
    }

    /// `ssh://user@host:port` -> (user@host, port).
    static func destination(_ url: String) throws -> (String, String?) {
        guard url.hasPrefix("ssh://") else { throw CLIError("Not an SSH URL: \(url)") }
        let rest = String(url.dropFirst(6))
        guard let at = rest.lastIndex(of: "@") else { throw CLIError("Not an SSH URL: \(url)") }
        let hostPort = rest[rest.index(after: at)...]
        if let colon = hostPort.lastIndex(of: ":"), !hostPort.hasSuffix("]") {
            return (String(rest[..<at]) + "@" + hostPort[..<colon], String(hostPort[hostPort.index(after: colon)...]))
        }
        return (String(rest[..<at]) + "@" + hostPort, nil)
    }

    /// The environment's SSH URL for `app` (or its first application), with the reason when there is none.
    static func url(_ common: CommonOptions, app: String?, _ client: APIClient) async throws -> String {
        let project = try await Session.project(common, client)
        let envId = Session.environmentId(common, project: project)
        let env = try await client.get("/projects/\(Output.text(project["id"]))/environments/\(Session.segment(envId))")
        let links = env["_links"]?.objectValue ?? JSONObject()
        let href = app.map { links["pf:ssh:\($0)"]?["href"]?.stringValue } ?? links["ssh"]?["href"]?.stringValue
        if let href { return href }
        if env["status"]?.stringValue != "active" { throw CLIError("The environment \(envId) is not currently active.") }
        let apps = links.keys.filter { $0.hasPrefix("pf:ssh:") }.map { String($0.dropFirst(7)) }
        if let app, !apps.isEmpty { throw CLIError("No application \(app) on \(envId) to SSH into (there is \(apps.sorted().joined(separator: ", "))).") }
        throw CLIError("No SSH URL found for \(envId): nothing is deployed there, or you may not have permission to SSH into it.")
    }
}

struct SSHCertLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ssh-cert:load",
                                                    abstract: "Get an SSH certificate for your key (made if missing) from the API; SSH commands load one on their own.")
    @Flag(name: .customLong("new"), help: "Sign again even when the current certificate is still fresh.") var new = false
    func run() async throws {
        let path = try await SSHIdentity.load(try Session.client(), force: new)
        print("SSH certificate loaded: \(path) (valid one hour; key \(SSHIdentity.key))")
    }
}

struct SSHCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ssh", abstract: "Open a shell, or run a command, in an environment's application.")
    @OptionGroup var common: CommonOptions
    @Option(name: [.customShort("A"), .customLong("app")], help: "Application name (default: the first one).") var app: String?
    @Flag(name: .customLong("pipe"), help: "Print the SSH URL instead of connecting.") var pipe = false
    @Argument(parsing: .captureForPassthrough, help: "The command to run (default: an interactive shell).") var command: [String] = []

    func run() async throws {
        let client = try Session.client()
        let url = try await SSHIdentity.url(common, app: app, client)
        if pipe { print(url); return }
        try await SSHIdentity.load(client, force: false)
        let (target, port) = try SSHIdentity.destination(url)
        var args = ["ssh"] + SSHIdentity.options + (port.map { ["-p", $0] } ?? [])
        if command.isEmpty, isatty(0) != 0 { args.append("-t") }
        args.append(target)
        args += command.first == "--" ? Array(command.dropFirst()) : command
        var o = Subprocess.Options()
        o.stdin = .inherit
        o.searchPath = true
        let child = try Subprocess.spawn(args, o)
        let status = await Subprocess.wait(child.pid)
        if status != 0 { throw ExitCode(status) }
    }
}

/// Runs an OpenSSH program (ssh, rsync) with this terminal, and exits with its status.
func runAttached(_ argv: [String]) async throws {
    var o = Subprocess.Options()
    o.stdin = .inherit
    o.searchPath = true
    let child = try Subprocess.spawn(argv, o)
    let status = await Subprocess.wait(child.pid)
    if status != 0 { throw ExitCode(status) }
}

struct TunnelSingle: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tunnel:single",
                                                    abstract: "Forward a local port to one of an application's relationships over SSH, until interrupted.")
    @OptionGroup var common: CommonOptions
    @Option(name: [.customShort("A"), .customLong("app")], help: "Application name (default: the first one).") var app: String?
    @Option(name: [.customShort("r"), .customLong("relationship")], help: "The relationship (default: the only one).") var relationship: String?
    @Option(name: .customLong("port"), help: "The local port (default: a free one).") var port: Int?

    func run() async throws {
        let client = try Session.client()
        let rels = try await appRelationships(common, client, app: app)
        let (name, ep): (String, JSON)
        let all = Array(rels)
        if relationship == nil, all.count == 1, let first = all[0].value.arrayValue?.first {
            (name, ep) = (all[0].key, first)
        } else {
            (name, ep) = try pickRelationship(rels, name: relationship, schemes: ["pgsql", "mysql", "redis", "mongodb", "amqp", "memcached", "http"])
        }
        let url = try await SSHIdentity.url(common, app: app, client)
        try await SSHIdentity.load(client, force: false)
        let (target, sshPort) = try SSHIdentity.destination(url)
        let local = try port ?? freeLocalPort()
        // The endpoint as the application names it: that is what the SSH server lets through.
        let remote = "\(Output.text(ep["host"])):\(Output.text(ep["port"]))"
        var shown = ep.objectValue ?? JSONObject()
        shown["host"] = .string("127.0.0.1")
        shown["port"] = .int(Int64(local))
        shown["grove_host"] = nil
        FileHandle.standardError.write(Data("Tunnel to \(name) (\(remote)) on 127.0.0.1:\(local); interrupt to close.\n".utf8))
        FileHandle.standardOutput.write(Data((JSON.object(shown).serialized(pretty: true) + "\n").utf8))
        // ssh takes this process's place: interrupting or killing it closes the tunnel, nothing is left behind.
        let argv = ["ssh"] + SSHIdentity.options + (sshPort.map { ["-p", $0] } ?? [])
            + ["-N", "-o", "ExitOnForwardFailure=yes", "-L", "127.0.0.1:\(local):\(remote)", target]
        let cArgs = argv.map { strdup($0) } + [nil]
        execvp("ssh", cArgs)
        throw CLIError("cannot run ssh: \(String(cString: strerror(errno)))")
    }

    func freeLocalPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CLIError("no socket for a free port") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw CLIError("no free local port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

/// `mount:upload` and `mount:download`: rsync over SSH between a local directory and a mount of the application.
struct MountTransfer {
    static func run(_ common: CommonOptions, app: String?, mount: String, local: String, upload: Bool, delete: Bool) async throws {
        let client = try Session.client()
        let url = try await SSHIdentity.url(common, app: app, client)
        try await SSHIdentity.load(client, force: false)
        let (target, sshPort) = try SSHIdentity.destination(url)
        // Mount paths are relative to the application's directory, where sessions start.
        var path = mount
        while path.hasPrefix("/") { path.removeFirst() }
        guard !path.isEmpty, !path.split(separator: "/").contains("..") else { throw CLIError("Name the mount by its path, e.g. --mount web/uploads.") }
        let rsh = (["ssh"] + SSHIdentity.options + (sshPort.map { ["-p", $0] } ?? [])).map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
        let localDir = local.hasSuffix("/") ? local : local + "/"
        let remote = target + ":" + path + "/"
        try await runAttached(["rsync", "-a", "--human-readable", "-e", rsh] + (delete ? ["--delete"] : []) + (upload ? [localDir, remote] : [remote, localDir]))
    }
}

struct MountUpload: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mount:upload", abstract: "Upload a local directory into an application's mount (rsync over SSH).")
    @OptionGroup var common: CommonOptions
    @Option(name: [.customShort("A"), .customLong("app")]) var app: String?
    @Option(name: [.customShort("m"), .customLong("mount")], help: "The mount's path, as in .platform.app.yaml.") var mount: String
    @Option(name: .customLong("source"), help: "The local directory to upload.") var source: String
    @Flag(name: .customLong("delete"), help: "Delete files in the mount that are not in the source.") var delete = false
    func run() async throws { try await MountTransfer.run(common, app: app, mount: mount, local: source, upload: true, delete: delete) }
}

struct MountDownload: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mount:download", abstract: "Download an application's mount into a local directory (rsync over SSH).")
    @OptionGroup var common: CommonOptions
    @Option(name: [.customShort("A"), .customLong("app")]) var app: String?
    @Option(name: [.customShort("m"), .customLong("mount")], help: "The mount's path, as in .platform.app.yaml.") var mount: String
    @Option(name: .customLong("target"), help: "The local directory to download into.") var target: String
    @Flag(name: .customLong("delete"), help: "Delete local files that are not in the mount.") var delete = false
    func run() async throws { try await MountTransfer.run(common, app: app, mount: mount, local: target, upload: false, delete: delete) }
}

/// Background tunnels of `tunnel:open`, remembered in `<config dir>/tunnels.json` so `tunnel:list` and `tunnel:close`
/// find them: one `ssh -N -L` process per relationship endpoint.
enum TunnelRegistry {
    struct Entry {
        var pid: Int32
        var project: String
        var environment: String
        var app: String
        var relationship: String
        var localPort: Int
        var json: JSON {
            .object(JSONObject([("pid", .int(Int64(pid))), ("project", .string(project)), ("environment", .string(environment)), ("app", .string(app)),
                                ("relationship", .string(relationship)), ("local_port", .int(Int64(localPort)))]))
        }
        init(pid: Int32, project: String, environment: String, app: String, relationship: String, localPort: Int) {
            self.pid = pid; self.project = project; self.environment = environment; self.app = app; self.relationship = relationship; self.localPort = localPort
        }
        init?(_ j: JSON) {
            guard let pid = j["pid"]?.intValue, let port = j["local_port"]?.intValue else { return nil }
            self.init(pid: Int32(pid), project: Output.text(j["project"]), environment: Output.text(j["environment"]), app: Output.text(j["app"]),
                      relationship: Output.text(j["relationship"]), localPort: Int(port))
        }
        /// Still running (a pid reused by another program would need our ssh's command line; checked there).
        var alive: Bool {
            guard kill(pid, 0) == 0, let cmd = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8) else { return false }
            return cmd.contains("127.0.0.1:\(localPort):")
        }
    }

    static var path: String { CredentialsFile.directory + "/tunnels.json" }

    static func load() -> [Entry] {
        guard let data = FileManager.default.contents(atPath: path), let j = try? JSON.parse(Array(data)) else { return [] }
        return (j.arrayValue ?? []).compactMap(Entry.init).filter(\.alive)
    }

    static func save(_ entries: [Entry]) throws {
        try FileManager.default.createDirectory(atPath: CredentialsFile.directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try Data(JSON.array(entries.map(\.json)).serialized(pretty: true).utf8).write(to: URL(fileURLWithPath: path))
    }
}

struct TunnelOpen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tunnel:open",
                                                    abstract: "Open background SSH tunnels to every relationship of an application; tunnel:list shows them, tunnel:close ends them.")
    @OptionGroup var common: CommonOptions
    @Option(name: [.customShort("A"), .customLong("app")], help: "Application name (default: the first one).") var app: String?

    func run() async throws {
        let client = try Session.client()
        let project = try await Session.project(common, client)
        let pid = Output.text(project["id"])
        let envId = Session.environmentId(common, project: project)
        let rels = try await appRelationships(common, client, app: app)
        let url = try await SSHIdentity.url(common, app: app, client)
        try await SSHIdentity.load(client, force: false)
        let (target, sshPort) = try SSHIdentity.destination(url)
        let user = String(target.split(separator: "@").first ?? "")
        let appName = app ?? user.range(of: "--").map { String(user[$0.upperBound...]) } ?? user
        var entries = TunnelRegistry.load()
        var opened = JSONObject()
        for (name, value) in rels.sorted(by: { $0.key < $1.key }) {
            guard let ep = value.arrayValue?.first else { continue }
            if let existing = entries.first(where: { $0.project == pid && $0.environment == envId && $0.relationship == name }) {
                opened[name] = .string("127.0.0.1:\(existing.localPort) (already open)")
                continue
            }
            let local = try TunnelSingle().freeLocalPort()
            let remote = "\(Output.text(ep["host"])):\(Output.text(ep["port"]))"
            var o = Subprocess.Options()
            o.stdin = .null
            o.stdout = .null
            o.stderr = .null
            o.ownProcessGroup = true
            o.searchPath = true
            let child = try Subprocess.spawn(["ssh"] + SSHIdentity.options + (sshPort.map { ["-p", $0] } ?? [])
                                             + ["-N", "-o", "ExitOnForwardFailure=yes", "-o", "BatchMode=yes", "-L", "127.0.0.1:\(local):\(remote)", target], o)
            entries.append(.init(pid: child.pid, project: pid, environment: envId, app: appName, relationship: name, localPort: local))
            opened[name] = .string("127.0.0.1:\(local)")
        }
        try TunnelRegistry.save(entries)
        Output.print(["Relationship", "Local address"], opened.map { [$0.key, Output.text($0.value)] }, format: common.format, json: .object(opened))
    }
}

struct TunnelList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tunnel:list", abstract: "List the background SSH tunnels tunnel:open started.")
    @OptionGroup var common: CommonOptions
    func run() async throws {
        let entries = TunnelRegistry.load()
        try TunnelRegistry.save(entries)
        Output.print(["Project", "Environment", "App", "Relationship", "Local address"],
                     entries.map { [$0.project, $0.environment, $0.app, $0.relationship, "127.0.0.1:\($0.localPort)"] },
                     format: common.format, json: .array(entries.map(\.json)))
    }
}

struct TunnelClose: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tunnel:close", abstract: "Close background SSH tunnels (all, or those of one relationship).")
    @Option(name: [.customShort("r"), .customLong("relationship")], help: "Only this relationship's tunnels.") var relationship: String?
    func run() async throws {
        var entries = TunnelRegistry.load()
        let closing = entries.filter { relationship == nil || $0.relationship == relationship }
        for e in closing { _ = kill(e.pid, SIGTERM) }
        entries.removeAll { e in closing.contains { $0.pid == e.pid } }
        try TunnelRegistry.save(entries)
        print("Closed \(closing.count) tunnel(s).")
    }
}
