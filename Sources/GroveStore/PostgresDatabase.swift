import Foundation
import GroveModel
import Logging
import NIOCore
import PostgresNIO

/// PostgreSQL through a PostgresNIO connection pool; the client's `run()` lives in a task owned by this object.
public final class PostgresDatabase: SQLDatabase {
    public let dialect = SQLDialect.postgres
    let client: PostgresClient
    let runner: Task<Void, Never>
    let logger: Logger

    /// Accepts `postgres://user:password@host:port/database` (also `postgresql://`, and `?host=/socket/dir`).
    public static func connect(url: String, logger: Logger) async throws -> PostgresDatabase {
        guard let comps = URLComponents(string: url), let scheme = comps.scheme, scheme == "postgres" || scheme == "postgresql" else {
            throw StoreError.invalidURL(url)
        }
        let user = comps.user ?? "postgres"
        let password = comps.password
        let database = comps.path.count > 1 ? String(comps.path.dropFirst()) : user
        let socketDir = comps.queryItems?.first(where: { $0.name == "host" })?.value
        let port = comps.port ?? 5432
        var config: PostgresClient.Configuration
        if let socketDir, socketDir.hasPrefix("/") {
            config = .init(unixSocketPath: "\(socketDir)/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else {
            config = .init(host: comps.host ?? "127.0.0.1", port: port, username: user, password: password, database: database, tls: .disable)
        }
        config.options.maximumConnections = 16
        let client = PostgresClient(configuration: config, backgroundLogger: logger)
        let runner = Task { await client.run() }
        let db = PostgresDatabase(client: client, runner: runner, logger: logger)
        // Fail fast with a clear message when the server is unreachable.
        do {
            _ = try await db.query("SELECT 1 AS ok", [])
        } catch {
            runner.cancel()
            throw StoreError.engine("cannot connect to PostgreSQL at \(comps.host ?? socketDir ?? "?"):\(port): \(error)")
        }
        return db
    }

    init(client: PostgresClient, runner: Task<Void, Never>, logger: Logger) {
        self.client = client
        self.runner = runner
        self.logger = logger
    }

    public func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        do {
            let rows = try await client.query(Self.makeQuery(sql, binds), logger: logger)
            return try await Self.collect(rows)
        } catch let e as PSQLError {
            throw Self.translate(e)
        }
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        do {
            return try await client.withConnection { conn in
                _ = try await conn.query(PostgresQuery(unsafeSQL: "BEGIN"), logger: logger)
                do {
                    let v = try await body(PostgresTransaction(connection: conn, logger: logger))
                    _ = try await conn.query(PostgresQuery(unsafeSQL: "COMMIT"), logger: logger)
                    return v
                } catch {
                    _ = try? await conn.query(PostgresQuery(unsafeSQL: "ROLLBACK"), logger: logger)
                    throw error
                }
            }
        } catch let e as PSQLError {
            throw Self.translate(e)
        }
    }

    public func close() async {
        runner.cancel()
        _ = await runner.value
    }

    static func translate(_ e: PSQLError) -> StoreError {
        if let state = e.serverInfo?[.sqlState], state == "23505" {
            return .conflict(e.serverInfo?[.message] ?? "unique violation")
        }
        return .engine(e.serverInfo?[.message] ?? String(reflecting: e))
    }

    /// Rewrites `?` placeholders as `$1, $2, ...`.
    static func makeQuery(_ sql: String, _ binds: [SQLValue]) -> PostgresQuery {
        var out = ""
        var n = 0
        var inQuote = false
        for ch in sql {
            if ch == "'" { inQuote.toggle() }
            if ch == "?" && !inQuote { n += 1; out += "$\(n)" } else { out.append(ch) }
        }
        var b = PostgresBindings()
        for v in binds {
            switch v {
            case .text(let s): b.append(s)
            case .int(let i): b.append(i)
            case .null: b.appendNull()
            }
        }
        return PostgresQuery(unsafeSQL: out, binds: b)
    }

    static func collect(_ rows: PostgresRowSequence) async throws -> [SQLRow] {
        var out: [SQLRow] = []
        for try await row in rows {
            var r: SQLRow = [:]
            for cell in row {
                if cell.bytes == nil { r[cell.columnName] = .null; continue }
                switch cell.dataType {
                case .int8, .int4, .int2: r[cell.columnName] = .int(try cell.decode(Int64.self))
                default: r[cell.columnName] = .text(try cell.decode(String.self))
                }
            }
            out.append(r)
        }
        return out
    }
}

struct PostgresTransaction: SQLDatabase, @unchecked Sendable {
    let connection: PostgresConnection
    let logger: Logger
    var dialect: SQLDialect { .postgres }
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        do {
            let rows = try await connection.query(PostgresDatabase.makeQuery(sql, binds), logger: logger)
            return try await PostgresDatabase.collect(rows)
        } catch let e as PSQLError {
            throw PostgresDatabase.translate(e)
        }
    }
    func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T { try await body(self) }
    func close() async {}
}
