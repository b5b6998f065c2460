import Foundation
import GroveModel
import Logging
import NIOCore
import NIOPosix
import SQLiteNIO
import Synchronization

/// SQLite in WAL mode: one writer connection behind a lock, and reader connections that answer plain SELECTs inline.
public final class SQLiteDatabase: SQLDatabase {
    public let dialect = SQLDialect.sqlite
    let writer: SQLiteConnection
    let readers: [SQLiteReader]
    let lock = AsyncLock()
    let counter = ReaderCounter()
    let changes = ChangeCounter()
    /// See `SQLDatabase.answerVersion`.
    let answers = AnswerVersions()
    /// How often `PRAGMA data_version` was read (tests check that an idle database does not poll).
    let versionChecks = ReaderCounter()
    private let versionPoll: Task<Void, Never>?
    private let watcher: SQLiteConnection?
    private let wal: WALWatcher?

    public static func open(path: String, readers readerCount: Int = 4, logger: Logger) async throws -> SQLiteDatabase {
        let writer = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        for pragma in ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=10000", "PRAGMA foreign_keys=ON"] {
            _ = try await writer.query(pragma, [])
        }
        // Opened after the writer, which initialized SQLite and switched the file to WAL.
        let readers = try (0..<readerCount).map { _ in try SQLiteReader(path: path) }
        // `PRAGMA data_version` on a connection of its own changes whenever another connection (the writer, or another
        // process such as `grove admin:*`) commits; checking it when the WAL file is written lets caches and waiters
        // notice outside writes.
        let watcher = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        return SQLiteDatabase(writer: writer, readers: readers, watcher: watcher, wal: WALWatcher(databasePath: path))
    }

    init(writer: SQLiteConnection, readers: [SQLiteReader], watcher: SQLiteConnection? = nil, wal: WALWatcher? = nil) {
        self.writer = writer
        self.readers = readers
        self.watcher = watcher
        self.wal = wal
        let changes = self.changes, answers = self.answers, checks = self.versionChecks, writer = self.writer, lock = self.lock
        if let watcher {
            versionPoll = Task {
                var last: Int64?
                var lastOutside: Int64?
                /// Whether another process committed since the last look: the writer connection's own data_version
                /// moves only for other connections' commits, and every write of this process goes through it.
                func outside() async -> Bool {
                    let v = await lock.withLock { try? await SQLiteDatabase.run(writer, "PRAGMA data_version", []).first?.values.first?.int }
                    defer { lastOutside = v }
                    return v != lastOutside
                }
                /// True when another connection committed since the last look.
                func changed() async -> Bool {
                    _ = checks.next()
                    guard let v = try? await SQLiteDatabase.run(watcher, "PRAGMA data_version", []).first?.values.first?.int, v != last else { return false }
                    defer { last = v }
                    guard last != nil else {
                        _ = await outside()
                        return true
                    }
                    changes.bump()
                    // This process's own writes moved the answer version as they were made (log lines not at all);
                    // another process's could be anything.
                    if await outside() { answers.bump(project: nil) }
                    return true
                }
                // Read before looking, so a write while looking ends the next wait at once.
                var seen = wal?.signals.value ?? 0
                _ = await changed()
                while !Task.isCancelled {
                    guard let wal else {
                        try? await Task.sleep(for: .milliseconds(50))
                        _ = await changed()
                        continue
                    }
                    // The timeout only guards against a missed event.
                    await wal.signals.wait(past: seen, timeout: .seconds(5))
                    seen = wal.signals.value
                    // A commit's last WAL write comes just before it updates the shared index (memory-mapped, which
                    // inotify does not see): look again shortly after until the commit shows.
                    for delay in [5, 25, 100] {
                        try? await Task.sleep(for: .milliseconds(delay))
                        if await changed() { break }
                    }
                }
            }
        } else {
            versionPoll = nil
        }
    }

    public var changeVersion: UInt64? { changes.value }
    public var answerVersion: UInt64? { answers.all }
    public func answerVersion(project: String) -> UInt64? { answers.project(project) }

    public func waitForChange(since version: UInt64?, timeout: Duration) async {
        guard let version else { return }
        await changes.wait(past: version, timeout: timeout)
    }

    public func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        if !readers.isEmpty, Self.isRead(sql) {
            let first = counter.next()
            for i in 0..<readers.count {
                if let rows = try readers[(first + i) % readers.count].tryQuery(sql, binds) { return rows }
            }
            return try readers[first % readers.count].query(sql, binds)
        }
        defer {
            changes.bump()
            if !Self.isLogAppend(sql) { answers.bump(project: WriteScope.project) }
        }
        return try await lock.withLock { try await Self.run(self.writer, sql, binds) }
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await lock.withLock {
            _ = try await Self.run(self.writer, "BEGIN IMMEDIATE", [])
            do {
                let tx = SQLiteTransaction(connection: self.writer)
                let v = try await body(tx)
                _ = try await Self.run(self.writer, "COMMIT", [])
                self.changes.bump()
                self.answers.bump(tx.scopes.written)
                return v
            } catch {
                _ = try? await Self.run(self.writer, "ROLLBACK", [])
                throw error
            }
        }
    }

    public func close() async {
        versionPoll?.cancel()
        _ = await versionPoll?.value
        wal?.stop()
        // Closed here, not in the cancelled poll task: sqlite-nio refuses work from a cancelled task.
        try? await watcher?.close()
        try? await writer.close()
    }

    static func isRead(_ sql: String) -> Bool {
        let head = sql.prefix(8).uppercased()
        return head.hasPrefix("SELECT") || head.hasPrefix("WITH")
    }

    static func run(_ c: SQLiteConnection, _ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        let data: [SQLiteData] = binds.map {
            switch $0 {
            case .text(let s): return .text(s)
            case .int(let i): return .integer(Int(i))
            case .null: return .null
            }
        }
        do {
            let rows = try await c.query(sql, data)
            return rows.map { row in
                var out: SQLRow = [:]
                out.reserveCapacity(row.columns.count)
                for col in row.columns {
                    switch col.data {
                    case .integer(let i): out[col.name] = .int(Int64(i))
                    case .text(let s): out[col.name] = .text(s)
                    case .float(let d): out[col.name] = .int(Int64(d))
                    case .blob(let b): out[col.name] = .text(String(buffer: b))
                    case .null: out[col.name] = .null
                    }
                }
                return out
            }
        } catch let e as SQLiteError {
            let text = "\(e)"
            if text.contains("UNIQUE constraint failed") || text.contains("PRIMARY KEY") { throw StoreError.conflict(text) }
            throw StoreError.engine(text)
        }
    }
}

final class ReaderCounter: Sendable {
    private let value = Mutex(0)
    func next() -> Int { value.withLock { $0 &+= 1; return $0 & 0x7fff_ffff } }
    var current: Int { value.withLock { $0 } }
}

/// Statements inside an open SQLite transaction; the writer lock is already held.
struct SQLiteTransaction: SQLDatabase {
    let connection: SQLiteConnection
    /// What the transaction's writes were about, for the answer versions at commit.
    let scopes = WriteScopes()
    var dialect: SQLDialect { .sqlite }
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        if !SQLiteDatabase.isRead(sql), !SQLiteDatabase.isLogAppend(sql) { scopes.record(project: WriteScope.project) }
        return try await SQLiteDatabase.run(connection, sql, binds)
    }
    func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T { try await body(self) }
    func close() async {}
}
