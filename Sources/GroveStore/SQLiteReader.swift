import GroveModel
import Synchronization
import VaporCSQLite

/// A read-only SQLite connection that answers SELECTs on the calling thread with statements prepared once.
///
/// In WAL mode readers never wait for the writer, and the pages a read touches are in the page cache, so a read takes
/// microseconds: running it inline costs less than handing it to a thread pool and back (three thread switches per
/// query), and keeping the prepared statement saves parsing the SQL again. Writes stay on the pooled writer connection.
final class SQLiteReader: Sendable {
    private struct Connection: ~Copyable {
        let handle: OpaquePointer
        var statements: [String: OpaquePointer] = [:]
        /// Column names per statement, read once.
        var columns: [String: [String]] = [:]

        deinit {
            for s in statements.values { sqlite_nio_sqlite3_finalize(s) }
            sqlite_nio_sqlite3_close_v2(handle)
        }
    }

    /// Prepared statements kept per connection; a connection that collects more (SQL built per call) starts over.
    static let statementLimit = 256

    private let connection: Mutex<Connection>

    init(path: String) throws {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let rc = sqlite_nio_sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            if let handle { sqlite_nio_sqlite3_close_v2(handle) }
            throw StoreError.engine("cannot open \(path) for reading (SQLite code \(rc))")
        }
        // Readers in WAL mode wait only while another connection recovers the log; a stalled read then fails instead of
        // holding its thread for long.
        sqlite_nio_sqlite3_busy_timeout(handle, 2_000)
        connection = Mutex(Connection(handle: handle))
    }

    /// Runs the query now unless another thread is using this connection (then nil: try another reader).
    func tryQuery(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow]? {
        try connection.withLockIfAvailable { c in try Self.run(&c, sql, binds) }
    }

    func query(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow] {
        try connection.withLock { c in try Self.run(&c, sql, binds) }
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private static func run(_ c: inout Connection, _ sql: String, _ binds: [SQLValue]) throws -> [SQLRow] {
        let statement: OpaquePointer
        if let cached = c.statements[sql] {
            statement = cached
        } else {
            if c.statements.count >= statementLimit {
                for s in c.statements.values { sqlite_nio_sqlite3_finalize(s) }
                c.statements = [:]
                c.columns = [:]
            }
            var prepared: OpaquePointer?
            let rc = sqlite_nio_sqlite3_prepare_v3(c.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &prepared, nil)
            guard rc == SQLITE_OK, let prepared else { throw error(c.handle, rc) }
            statement = prepared
            c.statements[sql] = prepared
            c.columns[sql] = (0..<sqlite_nio_sqlite3_column_count(prepared)).map { String(cString: sqlite_nio_sqlite3_column_name(prepared, $0)) }
        }
        // Reset ends the read transaction. Bindings are not cleared: each call binds every parameter again, and clearing
        // them would expire statements whose plan depends on a bound value, re-preparing them on every step.
        defer { sqlite_nio_sqlite3_reset(statement) }
        for (i, b) in binds.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch b {
            case .text(let s): rc = sqlite_nio_sqlite3_bind_text64(statement, index, s, UInt64(s.utf8.count), transient, UInt8(SQLITE_UTF8))
            case .int(let v): rc = sqlite_nio_sqlite3_bind_int64(statement, index, v)
            case .null: rc = sqlite_nio_sqlite3_bind_null(statement, index)
            }
            guard rc == SQLITE_OK else { throw error(c.handle, rc) }
        }
        let names = c.columns[sql] ?? []
        var rows: [SQLRow] = []
        while true {
            let rc = sqlite_nio_sqlite3_step(statement)
            if rc == SQLITE_DONE { return rows }
            guard rc == SQLITE_ROW else { throw error(c.handle, rc) }
            var row: SQLRow = [:]
            row.reserveCapacity(names.count)
            for (i, name) in names.enumerated() {
                let col = Int32(i)
                switch sqlite_nio_sqlite3_column_type(statement, col) {
                case SQLITE_INTEGER: row[name] = .int(sqlite_nio_sqlite3_column_int64(statement, col))
                case SQLITE_FLOAT: row[name] = .int(Int64(sqlite_nio_sqlite3_column_double(statement, col)))
                case SQLITE_NULL: row[name] = .null
                default:
                    // TEXT and BLOB: the bytes with their length (the text may hold NUL).
                    let count = Int(sqlite_nio_sqlite3_column_bytes(statement, col))
                    if count > 0, let text = sqlite_nio_sqlite3_column_text(statement, col) {
                        row[name] = .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
                    } else {
                        row[name] = .text("")
                    }
                }
            }
            rows.append(row)
        }
    }

    private static func error(_ handle: OpaquePointer, _ rc: Int32) -> StoreError {
        let message = sqlite_nio_sqlite3_errmsg(handle).map { String(cString: $0) } ?? "code \(rc)"
        return StoreError.engine("SQLite: \(message)")
    }
}
