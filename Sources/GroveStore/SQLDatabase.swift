import GroveModel

/// A value bound to or read from SQL. The schema uses only text and 64-bit integers so both engines agree.
public enum SQLValue: Sendable, Equatable {
    case text(String)
    case int(Int64)
    case null

    public var string: String? {
        switch self {
        case .text(let s): return s
        case .int(let i): return String(i)
        case .null: return nil
        }
    }
    public var int: Int64? {
        switch self {
        case .int(let i): return i
        case .text(let s): return Int64(s)
        case .null: return nil
        }
    }
}

extension SQLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(_ s: String?) { self = s.map { .text($0) } ?? .null }
}

public typealias SQLRow = [String: SQLValue]

public enum SQLDialect: String, Sendable {
    case sqlite, postgres
}

/// The narrow seam between the store and an SQL engine. SQL is written with `?` placeholders.
public protocol SQLDatabase: Sendable {
    var dialect: SQLDialect { get }
    @discardableResult
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]
    /// Runs `body` in one transaction; nested calls join the outer transaction.
    func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    func close() async
    /// A number that changes whenever committed data may have changed: at once for writes made through this object,
    /// within a short poll interval for writes by other processes. nil when the engine cannot tell (then nothing
    /// may be cached on top of it).
    var changeVersion: UInt64? { get }
    /// Returns when `changeVersion` differs from `version`, or after `timeout`; at once when the engine cannot tell.
    func waitForChange(since version: UInt64?, timeout: Duration) async
    /// Moves like `changeVersion` except for appends to activity logs, the bulk of the writes while anything builds or
    /// deploys: what cached API answers are valid for, so one tenant's deploy does not invalidate every tenant's
    /// answers. An answer that shows a log keys on `changeVersion` as well.
    var answerVersion: UInt64? { get }
    /// `answerVersion` for answers about one project: it moves with writes to that project and with writes that are
    /// not to one project (users, tokens, organizations: what access depends on), not with other projects' writes.
    func answerVersion(project: String) -> UInt64?
}

extension SQLDatabase {
    public var changeVersion: UInt64? { nil }
    public func waitForChange(since version: UInt64?, timeout: Duration) async {}
    public var answerVersion: UInt64? { changeVersion }
    public func answerVersion(project: String) -> UInt64? { answerVersion }

    /// A write that only appends to an activity's log (see `answerVersion`).
    static func isLogAppend(_ sql: String) -> Bool { sql.hasPrefix("INSERT INTO activity_log ") }
}

public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A unique constraint was violated; the associated value names the constraint or table.
    case conflict(String)
    case notFound(String)
    case invalidURL(String)
    case engine(String)

    public var description: String {
        switch self {
        case .conflict(let m): return "conflict: \(m)"
        case .notFound(let m): return "not found: \(m)"
        case .invalidURL(let m): return "invalid database URL: \(m)"
        case .engine(let m): return "database error: \(m)"
        }
    }
}
