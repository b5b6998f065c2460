import Foundation
import GroveConfig
import GroveModel
import GroveRuntime

/// PostgreSQL from the distribution (`/usr/lib/postgresql/<major>/bin`). Local (socket) connections are for
/// Grove's own administration; applications connect over TCP with a password.
struct PostgresEngine: ServiceEngine {
    let bin: String
    let user: ServiceUser?

    static func locate(version: String) throws -> PostgresEngine {
        let installed = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).sorted()
        let bin = "/usr/lib/postgresql/\(version)/bin"
        guard FileManager.default.isExecutableFile(atPath: bin + "/postgres") else {
            throw ServiceFailure("postgresql:\(version) cannot run on this host: installed PostgreSQL versions: \(installed.isEmpty ? "none" : installed.joined(separator: ", ")) (apt-get install postgresql-\(version))")
        }
        return PostgresEngine(bin: bin, user: ServiceUser.lookup("postgres"))
    }

    func databases(_ config: ServiceConfig) -> [String] {
        (config.configuration["databases"]?.arrayValue ?? []).compactMap(\.stringValue).nonEmpty ?? ["main"]
    }

    func initialize(data: String, hostData: String, run: String, config: ServiceConfig,
                    sandboxed: @Sendable (String) async throws -> AdminCommand.Output) async throws -> ServiceState {
        await ServiceUser.chown(hostData, to: user)
        let out = try await sandboxed("exec \(ServiceUser.prefix(user))\(bin)/initdb -D \(data)/pgdata -U postgres --auth-local=trust --auth-host=scram-sha-256 "
                                      + "-E UTF8 --locale=C.UTF-8 --no-sync")
        guard out.status == 0 else { throw ServiceFailure("initdb failed: \(out.text)") }
        var endpoints: [String: ServiceState.Credential] = [:]
        let dbs = databases(config)
        if let eps = config.configuration["endpoints"]?.objectValue, !eps.isEmpty {
            for (name, ep) in eps {
                var privileges: [String: String] = [:]
                for (db, p) in ep["privileges"]?.objectValue ?? JSONObject() { privileges[db] = p.stringValue ?? "ro" }
                let path = ep["default_database"]?.stringValue ?? privileges.keys.sorted().first ?? dbs[0]
                endpoints[name] = .init(username: name, password: Shell.secret(), path: path, privileges: privileges)
            }
        } else {
            endpoints["postgresql"] = .init(username: "main", password: Shell.secret(), path: dbs[0], privileges: Dictionary(uniqueKeysWithValues: dbs.map { ($0, "admin") }))
        }
        return ServiceState(type: "postgresql", version: config.type.version, endpoints: endpoints)
    }

    func start(data: String, run: String, port: Int, config: ServiceConfig, state: ServiceState) -> String {
        "exec \(ServiceUser.prefix(user))\(bin)/postgres -D \(data)/pgdata -p \(port) -c listen_addresses=127.0.0.1 -c unix_socket_directories=\(run) -c dynamic_shared_memory_type=mmap"
    }

    func psql(run: String, port: Int, database: String = "postgres", _ sql: String) async throws -> String {
        let out = try await Shell.run([bin + "/psql", "-h", run, "-p", String(port), "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql])
        guard out.status == 0 else { throw ServiceFailure("psql: \(out.text)") }
        return out.text
    }

    static func ident(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
    static func literal(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }

    func provision(run: String, port: Int, state: ServiceState, config: ServiceConfig) async throws {
        for db in databases(config) where try await psql(run: run, port: port, "SELECT 1 FROM pg_database WHERE datname = \(Self.literal(db))").isEmpty {
            _ = try await psql(run: run, port: port, "CREATE DATABASE \(Self.ident(db))")
        }
        for (_, c) in state.endpoints.sorted(by: { $0.key < $1.key }) {
            guard let u = c.username, let pw = c.password else { continue }
            _ = try await psql(run: run, port: port, """
                DO $$ BEGIN
                  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = \(Self.literal(u))) THEN CREATE ROLE \(Self.ident(u)) LOGIN PASSWORD \(Self.literal(pw));
                  ELSE ALTER ROLE \(Self.ident(u)) LOGIN PASSWORD \(Self.literal(pw)); END IF;
                END $$
                """)
            for (db, privilege) in c.privileges.sorted(by: { $0.key < $1.key }) {
                let r = Self.ident(u), d = Self.ident(db)
                switch privilege {
                case "admin":
                    _ = try await psql(run: run, port: port, "GRANT ALL ON DATABASE \(d) TO \(r)")
                    _ = try await psql(run: run, port: port, database: db, "GRANT ALL ON SCHEMA public TO \(r)")
                    if state.endpoints.values.filter({ $0.privileges[db] == "admin" }).count == 1 {
                        _ = try await psql(run: run, port: port, "ALTER DATABASE \(d) OWNER TO \(r)")
                        _ = try await psql(run: run, port: port, database: db, "ALTER SCHEMA public OWNER TO \(r)")
                    }
                case "rw":
                    _ = try await psql(run: run, port: port, "GRANT CONNECT ON DATABASE \(d) TO \(r)")
                    _ = try await psql(run: run, port: port, database: db, """
                        GRANT USAGE, CREATE ON SCHEMA public TO \(r);
                        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \(r);
                        GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO \(r)
                        """)
                default:
                    _ = try await psql(run: run, port: port, "GRANT CONNECT ON DATABASE \(d) TO \(r)")
                    _ = try await psql(run: run, port: port, database: db, "GRANT USAGE ON SCHEMA public TO \(r); GRANT SELECT ON ALL TABLES IN SCHEMA public TO \(r)")
                }
            }
        }
    }

    func flush(run: String, port: Int, state: ServiceState) async {
        _ = try? await psql(run: run, port: port, "CHECKPOINT")
    }

    func endpoint(_ name: String, state: ServiceState, port: Int) -> (scheme: String, rel: String, credential: ServiceState.Credential?, query: JSONObject) {
        ("pgsql", "postgresql", state.endpoints[name], JSONObject([("is_master", true)]))
    }
}

extension Array {
    var nonEmpty: Self? { isEmpty ? nil : self }
}
