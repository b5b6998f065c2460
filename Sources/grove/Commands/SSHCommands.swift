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
