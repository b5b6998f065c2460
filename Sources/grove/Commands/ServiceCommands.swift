import ArgumentParser
import Foundation
import GroveProcess
import GroveClient
import GroveModel

struct ServiceList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "service:list", abstract: "List the services an environment runs.", aliases: ["services"])
    @OptionGroup var common: CommonOptions
    func run() async throws {
        let client = try Session.client()
        let (path, _) = try await environmentPath(common, client)
        let services = try await client.get(path + "/deployments/current")["services"]?.objectValue ?? JSONObject()
        let rows = services.sorted { $0.key < $1.key }.map { [$0.key, Output.text($0.value["type"]), Output.text($0.value["disk"]), Output.text($0.value["size"])] }
        Output.print(["Name", "Type", "Disk (MB)", "Size"], rows, format: common.format, json: .object(services))
    }
}

/// An application's relationships as it sees them in `PLATFORM_RELATIONSHIPS`.
func appRelationships(_ common: CommonOptions, _ client: APIClient, app: String?) async throws -> JSONObject {
    let (path, env) = try await environmentPath(common, client)
    let all = try await client.get(path + "/relationships").objectValue ?? JSONObject()
    if let app {
        guard let rels = all[app]?.objectValue else { throw CLIError("Application \(app) does not run on \(env).") }
        return rels
    }
    let apps = Array(all)
    guard apps.count == 1, let only = apps.first?.value.objectValue else {
        throw CLIError(apps.isEmpty ? "No application runs on \(env)." : "Several applications run on \(env): pass --app.")
    }
    return only
}

struct Relationships: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "environment:relationships", abstract: "Show an application's relationships (PLATFORM_RELATIONSHIPS).",
                                                    aliases: ["relationships", "rel"])
    @OptionGroup var common: CommonOptions
    @Option(name: [.customShort("A"), .customLong("app")]) var app: String?
    func run() async throws {
        let rels = try await appRelationships(common, try Session.client(), app: app)
        print(JSON.object(rels).serialized(pretty: true))
    }
}

/// One relationship's first endpoint, chosen by name or by the kind of client that can use it.
func pickRelationship(_ rels: JSONObject, name: String?, schemes: [String]) throws -> (String, JSON) {
    if let name {
        guard let ep = rels[name]?.arrayValue?.first else { throw CLIError("No relationship \(name); relationships: \(rels.map(\.key).sorted().joined(separator: ", ")).") }
        return (name, ep)
    }
    let matching = rels.filter { r in schemes.contains(r.value.arrayValue?.first?["scheme"]?.stringValue ?? "") }
    guard matching.count == 1, let first = matching.first, let ep = first.value.arrayValue?.first else {
        throw CLIError(matching.isEmpty ? "No database relationship (\(schemes.joined(separator: ", ")))." : "Several database relationships: pass --relationship.")
    }
    return (first.key, ep)
}

/// The client command line for a relationship: psql, mariadb or redis-cli with its credentials.
func clientCommand(_ ep: JSON, dump: Bool) throws -> (argv: [String], env: [String: String]) {
    // The address Grove's host reaches the service at (its environment's network), else the one applications use.
    let host = Output.text(ep["grove_host"] ?? ep["host"]), port = Output.text(ep["port"]), user = Output.text(ep["username"]), path = Output.text(ep["path"])
    switch ep["scheme"]?.stringValue {
    case "pgsql":
        return ([dump ? "pg_dump" : "psql", "-h", host, "-p", port, "-U", user, "-d", path] + (dump ? ["--no-owner"] : []), ["PGPASSWORD": Output.text(ep["password"])])
    case "mysql":
        return ([dump ? "mariadb-dump" : "mariadb", "--no-defaults", "-h", host, "-P", port, "-u", user, "-p" + Output.text(ep["password"])] + (dump ? ["--single-transaction"] : []) + [path], [:])
    case "redis":
        guard !dump else { throw CLIError("db:dump takes SQL databases; use redis-cli --rdb for Redis.") }
        return (["redis-cli", "-h", host, "-p", port], [:])
    default:
        throw CLIError("\(Output.text(ep["scheme"])) relationships have no database client here.")
    }
}

func execClient(_ argv: [String], env: [String: String], stdin: String?) throws -> Int32 {
    var o = Subprocess.Options(environment: ProcessInfo.processInfo.environment.merging(env) { $1 })
    o.stdin = stdin == nil ? .inherit : .pipe
    let child = try Subprocess.spawn(["/usr/bin/env"] + argv, o)
    if let stdin, let fd = child.stdin {
        _ = Subprocess.ignoreBrokenPipes
        let bytes = Array(stdin.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { if errno == EINTR { continue }; break }
            offset += n
        }
        close(fd)
    }
    return Subprocess.waitBlocking(child.pid)
}

/// Whether database commands run their client inside the application over SSH: when asked (`--ssh`), or by default
/// when the API is not on this machine (service addresses are reachable only from the Grove host and the app).
func databaseViaSSH(_ flag: Bool?, _ client: APIClient) -> Bool {
    if let flag { return flag }
    let host = URL(string: client.baseURL)?.host ?? ""
    return !["127.0.0.1", "localhost", "::1", "[::1]"].contains(host)
}

func shellQuoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

/// The same client run in the application's container over SSH, with the addresses the application uses. The
/// password travels in the remote command, inside the application's own sandbox.
func sshDatabaseCommand(_ common: CommonOptions, app: String?, ep: JSON, dump: Bool, extra: [String], tty: Bool) async throws -> [String] {
    let client = try Session.client()
    let url = try await SSHIdentity.url(common, app: app, client)
    try await SSHIdentity.load(client, force: false)
    let (target, port) = try SSHIdentity.destination(url)
    var appView = ep
    if case .object(var o) = ep { o["grove_host"] = nil; appView = .object(o) }
    let (argv, env) = try clientCommand(appView, dump: dump)
    let remote = (env.sorted { $0.key < $1.key }.map { "\($0.key)=\(shellQuoted($0.value))" } + (argv + extra).map(shellQuoted)).joined(separator: " ")
    return ["ssh"] + SSHIdentity.options + (port.map { ["-p", $0] } ?? []) + (tty ? ["-t"] : []) + [target, remote]
}

struct DbSql: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "db:sql", abstract: "Run SQL (or a client shell) on a database relationship: psql, mariadb or redis-cli.", aliases: ["sql"])
    @OptionGroup var common: CommonOptions
    @Option(name: [.customShort("A"), .customLong("app")]) var app: String?
    @Option(name: [.customShort("r"), .customLong("relationship")]) var relationship: String?
    @Flag(inversion: .prefixedNo, help: "Run the client in the application over SSH (default: when the API is on another machine).") var ssh: Bool?
    @Argument(help: "A query to run; without it, an interactive client.") var query: String?
    func run() async throws {
        let client = try Session.client()
        let rels = try await appRelationships(common, client, app: app)
        let (_, ep) = try pickRelationship(rels, name: relationship, schemes: ["pgsql", "mysql", "redis"])
        var extra: [String] = []
        if let query {
            switch ep["scheme"]?.stringValue {
            case "pgsql": extra = ["-c", query]
            case "mysql": extra = ["-e", query]
            default: extra = query.split(separator: " ").map(String.init)
            }
        }
        if databaseViaSSH(ssh, client) {
            try await runAttached(try await sshDatabaseCommand(common, app: app, ep: ep, dump: false, extra: extra, tty: query == nil && isatty(0) != 0))
            return
        }
        var (argv, env) = try clientCommand(ep, dump: false)
        argv += extra
        let status = try execClient(argv, env: env, stdin: nil)
        if status != 0 { throw ExitCode(status) }
    }
}

struct DbDump: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "db:dump", abstract: "Dump a database relationship (pg_dump or mariadb-dump) to standard output or a file.")
    @OptionGroup var common: CommonOptions
    @Option(name: [.customShort("A"), .customLong("app")]) var app: String?
    @Option(name: [.customShort("r"), .customLong("relationship")]) var relationship: String?
    @Option(name: [.customShort("f"), .customLong("file")], help: "Write the dump here instead of standard output.") var file: String?
    @Flag(inversion: .prefixedNo, help: "Run the dump in the application over SSH (default: when the API is on another machine).") var ssh: Bool?
    func run() async throws {
        let client = try Session.client()
        let rels = try await appRelationships(common, client, app: app)
        let (name, ep) = try pickRelationship(rels, name: relationship, schemes: ["pgsql", "mysql"])
        if databaseViaSSH(ssh, client) {
            var argv = try await sshDatabaseCommand(common, app: app, ep: ep, dump: true, extra: [], tty: false)
            if let file { argv = ["sh", "-c", "exec \"$@\" > \(shellQuote(file))", "dump"] + argv }
            try await runAttached(argv)
            if let file { FileHandle.standardError.write(Data("Dumped \(name) to \(file) over SSH.\n".utf8)) }
            return
        }
        var (argv, env) = try clientCommand(ep, dump: true)
        if let file { argv = ["sh", "-c", "exec \"$@\" > \(shellQuote(file))", "dump"] + argv }
        let status = try execClient(argv, env: env, stdin: nil)
        if status != 0 { throw ExitCode(status) }
        if let file { FileHandle.standardError.write(Data("Dumped \(name) to \(file).\n".utf8)) }
    }

    func shellQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}
