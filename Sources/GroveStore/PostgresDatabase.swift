import Foundation
import GroveModel
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// PostgreSQL through a PostgresNIO connection pool; the client's `run()` lives in a task owned by this object.
/// Every committed write sends `NOTIFY grove_changes`; each process listens on one connection and counts them, so
/// API processes sharing the database know when a cached answer may be stale (the response cache).
public final class PostgresDatabase: SQLDatabase {
    public let dialect = SQLDialect.postgres
    let client: PostgresClient
    let runner: Task<Void, Never>
    let logger: Logger
    static let channel = "grove_changes"
    let changes = ChangeCounter()
    /// See `SQLDatabase.answerVersion`; log appends notify with the payload `log`, which moves only `changes`, and
    /// writes to one project's rows with `project:<id>`, which moves only that project's answers.
    let answers = AnswerVersions()
    static let logPayload = "log"
    static let projectPayloadPrefix = "project:"
    /// True while the LISTEN connection is up: without it other processes' writes would go unseen.
    let listening = WriteFlag()
    private let listener = Mutex<Task<Void, Never>?>(nil)

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
        db.startListening()
        return db
    }

    /// Holds one connection listening on the change channel; reconnects after a second when it drops. Each
    /// notification (and each new listen, which may have missed some) moves the change version.
    func startListening() {
        let task = Task { [client, changes, answers, listening, logger] in
            while !Task.isCancelled {
                do {
                    try await client.withConnection { conn in
                        try await conn.listen(on: Self.channel) { notifications in
                            listening.set(true)
                            changes.bump()
                            answers.bump(project: nil)
                            for try await n in notifications {
                                changes.bump()
                                if n.payload == Self.logPayload { continue }
                                answers.bump(project: n.payload.hasPrefix(Self.projectPayloadPrefix)
                                    ? String(n.payload.dropFirst(Self.projectPayloadPrefix.count)) : nil)
                            }
                        }
                    }
                } catch {
                    if !Task.isCancelled { logger.warning("store: the change listener stopped (\(error)); answers are not cached until it is back") }
                }
                listening.set(false)
                try? await Task.sleep(for: .seconds(1))
            }
        }
        listener.withLock { $0 = task }
    }

    /// Moves with every committed write of any process on the database; nil while the listener is down.
    public var changeVersion: UInt64? { listening.value ? changes.value : nil }
    public var answerVersion: UInt64? { listening.value ? answers.all : nil }
    public func answerVersion(project: String) -> UInt64? { listening.value ? answers.project(project) : nil }

    public func waitForChange(since version: UInt64?, timeout: Duration) async {
        guard let version, listening.value else { return }
        await changes.wait(past: version, timeout: timeout)
    }

    static func isWrite(_ sql: String) -> Bool { !SQLiteDatabase.isRead(sql) }

    init(client: PostgresClient, runner: Task<Void, Never>, logger: Logger) {
        self.client = client
        self.runner = runner
        self.logger = logger
    }

    public func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        do {
            let out: [SQLRow]
            if let (slot, bindings) = Self.prepared(sql, binds) {
                out = try await Self.execute(slot, bindings, on: client, logger: logger)
            } else {
                out = try await Self.collect(client.query(Self.makeQuery(sql, binds), logger: logger))
            }
            if Self.isWrite(sql) { await notifyChange(logOnly: Self.isLogAppend(sql), project: WriteScope.project) }
            return out
        } catch let e as PSQLError {
            throw Self.translate(e)
        }
    }

    /// After a write outside a transaction: this process's version moves now, the others' on the notification.
    func notifyChange(logOnly: Bool, project: String?) async {
        changes.bump()
        if !logOnly { answers.bump(project: project) }
        _ = try? await client.query(Self.notification(logOnly ? Self.logPayload : project.map { Self.projectPayloadPrefix + $0 } ?? ""), logger: logger)
    }

    /// NOTIFY with `payload` bound, not spliced into the SQL.
    static func notification(_ payload: String) -> PostgresQuery {
        var binds = PostgresBindings(capacity: 2)
        binds.append(channel)
        binds.append(payload)
        return PostgresQuery(unsafeSQL: "SELECT pg_notify($1, $2)", binds: binds)
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        do {
            return try await client.withConnection { conn in
                _ = try await conn.query(PostgresQuery(unsafeSQL: "BEGIN"), logger: logger)
                do {
                    let tx = PostgresTransaction(connection: conn, logger: logger)
                    let v = try await body(tx)
                    // Delivered to the listeners when the transaction commits, not before.
                    let written = tx.scopes.written
                    switch written {
                    case .nothing: if tx.wrote.value { _ = try await conn.query(Self.notification(Self.logPayload), logger: logger) }
                    case .projects(let ids) where ids.count <= 8:
                        for id in ids.sorted() { _ = try await conn.query(Self.notification(Self.projectPayloadPrefix + id), logger: logger) }
                    case .account, .projects:
                        // Many projects at once: one notification that moves every answer costs less than one each.
                        _ = try await conn.query(Self.notification(""), logger: logger)
                    }
                    _ = try await conn.query(PostgresQuery(unsafeSQL: "COMMIT"), logger: logger)
                    if tx.wrote.value { changes.bump() }
                    answers.bump(written)
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
        let task = listener.withLock { $0 }
        task?.cancel()
        _ = await task?.value
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
    static func numberPlaceholders(_ sql: String) -> String {
        var out = ""
        var n = 0
        var inQuote = false
        for ch in sql {
            if ch == "'" { inQuote.toggle() }
            if ch == "?" && !inQuote { n += 1; out += "$\(n)" } else { out.append(ch) }
        }
        return out
    }

    static func bindings(_ binds: [SQLValue]) -> PostgresBindings {
        var b = PostgresBindings(capacity: binds.count)
        for v in binds {
            switch v {
            case .text(let s): b.append(s)
            case .int(let i): b.append(i)
            case .null: b.appendNull()
            }
        }
        return b
    }

    static func makeQuery(_ sql: String, _ binds: [SQLValue]) -> PostgresQuery {
        PostgresQuery(unsafeSQL: numberPlaceholders(sql), binds: bindings(binds))
    }

    /// The prepared statement for `sql` with these parameters (see `PostgresStatements`), nil when it runs unprepared.
    static func prepared(_ sql: String, _ binds: [SQLValue]) -> (any StatementSlot.Type, PostgresBindings)? {
        guard PostgresStatements.preparable(sql) else { return nil }
        let types: [PostgresDataType] = binds.map {
            switch $0 {
            case .text: .text
            case .int: .int8
            case .null: .null
            }
        }
        guard let number = PostgresStatements.shared.number(sql: sql, types: types) else { return nil }
        return (PostgresStatements.slotType(number), bindings(binds))
    }

    static func execute<Slot: StatementSlot>(_: Slot.Type, _ bindings: PostgresBindings, on client: PostgresClient, logger: Logger) async throws -> [SQLRow] {
        try await collect(client.execute(SlotStatement<Slot>(bindings: bindings), logger: logger))
    }

    static func execute<Slot: StatementSlot>(_: Slot.Type, _ bindings: PostgresBindings, on connection: PostgresConnection, logger: Logger) async throws -> [SQLRow] {
        try await collect(connection.execute(SlotStatement<Slot>(bindings: bindings), logger: logger))
    }

    static func collect<Rows: AsyncSequence>(_ rows: Rows) async throws -> [SQLRow] where Rows.Element == PostgresRow {
        var out: [SQLRow] = []
        for try await row in rows {
            var r: SQLRow = [:]
            r.reserveCapacity(row.count)
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

struct PostgresTransaction: SQLDatabase, Sendable {
    let connection: PostgresConnection
    let logger: Logger
    /// Whether the transaction wrote (its commit then notifies).
    let wrote = WriteFlag()
    /// What its writes other than log lines were about.
    let scopes = WriteScopes()
    var dialect: SQLDialect { .postgres }
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        do {
            if PostgresDatabase.isWrite(sql) {
                wrote.set()
                if !PostgresDatabase.isLogAppend(sql) { scopes.record(project: WriteScope.project) }
            }
            if let (slot, bindings) = PostgresDatabase.prepared(sql, binds) {
                return try await PostgresDatabase.execute(slot, bindings, on: connection, logger: logger)
            }
            return try await PostgresDatabase.collect(connection.query(PostgresDatabase.makeQuery(sql, binds), logger: logger))
        } catch let e as PSQLError {
            throw PostgresDatabase.translate(e)
        }
    }
    func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T { try await body(self) }
    func close() async {}
}

/// A flag shared across tasks: a transaction has written; the change listener is up.
final class WriteFlag: Sendable {
    private let state = Mutex(false)
    func set(_ v: Bool = true) { state.withLock { $0 = v } }
    var value: Bool { state.withLock { $0 } }
}
