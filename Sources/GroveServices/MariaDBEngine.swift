import Foundation
import GroveConfig
import GroveModel
import GroveRuntime

/// MariaDB from the distribution serving `mariadb` and `mysql` services. The installed server must be at
/// least the requested version (a newer server reads an older one's data; the reverse is refused).
struct MariaDBEngine: ServiceEngine {
    let server: String
    let installDB: String
    let client: String
    let user: ServiceUser?

    static func installedVersion(_ server: String) async -> String? {
        guard let out = try? await Shell.run([server, "--version"]), let r = out.text.range(of: #"Ver (\d+\.\d+)"#, options: .regularExpression) else { return nil }
        return String(out.text[r].dropFirst(4))
    }

    static func locate(type: String, version: String) async throws -> MariaDBEngine {
        let server = "/usr/sbin/mariadbd", install = "/usr/bin/mariadb-install-db", client = "/usr/bin/mariadb"
        guard FileManager.default.isExecutableFile(atPath: server), FileManager.default.isExecutableFile(atPath: install) else {
            throw ServiceFailure("\(type):\(version) cannot run on this host: MariaDB is not installed (apt-get install mariadb-server)")
        }
        if let installed = await installedVersion(server), compare(installed, version) < 0 {
            throw ServiceFailure("\(type):\(version) cannot run on this host: the installed MariaDB is \(installed), older than \(version)")
        }
        return MariaDBEngine(server: server, installDB: install, client: client, user: ServiceUser.lookup("mysql"))
    }

    /// Compares dotted versions numerically.
    static func compare(_ a: String, _ b: String) -> Int {
        let x = a.split(separator: ".").map { Int($0) ?? 0 }, y = b.split(separator: ".").map { Int($0) ?? 0 }
        for i in 0..<max(x.count, y.count) {
            let l = i < x.count ? x[i] : 0, r = i < y.count ? y[i] : 0
            if l != r { return l < r ? -1 : 1 }
        }
        return 0
    }

    func schemas(_ config: ServiceConfig) -> [String] {
        (config.configuration["schemas"]?.arrayValue ?? []).compactMap(\.stringValue).nonEmpty ?? ["main"]
    }

    func initialize(data: String, hostData: String, run: String, config: ServiceConfig,
                    sandboxed: @Sendable (String) async throws -> AdminCommand.Output) async throws -> ServiceState {
        await ServiceUser.chown(hostData, to: user)
        let out = try await sandboxed("exec \(installDB) --no-defaults --datadir=\(data)/mysql --user=\(user?.name ?? NSUserName()) "
                                      + "--auth-root-authentication-method=normal --skip-test-db --skip-name-resolve")
        guard out.status == 0 else { throw ServiceFailure("mariadb-install-db failed: \(out.text)") }
        await ServiceUser.chown(hostData, to: user)
        var endpoints: [String: ServiceState.Credential] = [:]
        let all = schemas(config)
        if let eps = config.configuration["endpoints"]?.objectValue, !eps.isEmpty {
            for (name, ep) in eps {
                var privileges: [String: String] = [:]
                for (db, p) in ep["privileges"]?.objectValue ?? JSONObject() { privileges[db] = p.stringValue ?? "ro" }
                endpoints[name] = .init(username: name, password: Shell.secret(),
                                        path: ep["default_schema"]?.stringValue ?? privileges.keys.sorted().first ?? all[0], privileges: privileges)
            }
        } else {
            endpoints["mysql"] = .init(username: "user", password: Shell.secret(), path: all[0], privileges: Dictionary(uniqueKeysWithValues: all.map { ($0, "admin") }))
        }
        return ServiceState(type: config.type.name, version: config.type.version, endpoints: endpoints)
    }

    func start(data: String, run: String, port: Int, config: ServiceConfig, state: ServiceState) -> String {
        "exec \(ServiceUser.prefix(user))\(server) --no-defaults --datadir=\(data)/mysql --port=\(port) --bind-address=127.0.0.1 --socket=\(run)/mysqld.sock "
            + "--pid-file=\(run)/mysqld.pid --skip-name-resolve --innodb-buffer-pool-size=64M --tmpdir=\(run) --log-error=\(run)/error.log"
    }

    func sql(run: String, _ statements: String) async throws {
        let out = try await Shell.run([client, "--no-defaults", "-uroot", "--socket=\(run)/mysqld.sock", "-e", statements])
        guard out.status == 0 else { throw ServiceFailure("mariadb: \(out.text)") }
    }

    static func literal(_ s: String) -> String { "'" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'" }
    static func ident(_ s: String) -> String { "`" + s.replacingOccurrences(of: "`", with: "``") + "`" }

    func provision(run: String, port: Int, state: ServiceState, config: ServiceConfig) async throws {
        var s = schemas(config).map { "CREATE DATABASE IF NOT EXISTS \(Self.ident($0));" }
        for (_, c) in state.endpoints.sorted(by: { $0.key < $1.key }) {
            guard let u = c.username, let pw = c.password else { continue }
            let who = "\(Self.literal(u))@'%'"
            s.append("CREATE USER IF NOT EXISTS \(who) IDENTIFIED BY \(Self.literal(pw));")
            s.append("ALTER USER \(who) IDENTIFIED BY \(Self.literal(pw));")
            for (db, privilege) in c.privileges.sorted(by: { $0.key < $1.key }) {
                let grants: String
                switch privilege {
                case "admin": grants = "ALL PRIVILEGES"
                case "rw": grants = "SELECT, INSERT, UPDATE, DELETE, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, SHOW VIEW"
                case "replication": grants = "SELECT"
                default: grants = "SELECT, SHOW VIEW"
                }
                s.append("GRANT \(grants) ON \(Self.ident(db)).* TO \(who);")
            }
        }
        s.append("FLUSH PRIVILEGES;")
        try await sql(run: run, s.joined(separator: "\n"))
    }

    func flush(run: String, port: Int, state: ServiceState) async {
        _ = try? await sql(run: run, "FLUSH TABLES")
    }

    func endpoint(_ name: String, state: ServiceState, port: Int) -> (scheme: String, rel: String, credential: ServiceState.Credential?, query: JSONObject) {
        ("mysql", "mysql", state.endpoints[name], JSONObject([("is_master", true)]))
    }
}
