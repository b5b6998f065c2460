import PostgresNIO
import Synchronization

/// Server-side prepared statements for the store's SQL. PostgreSQL spends most of a short query parsing and
/// planning it; a statement prepared once per connection skips both on every later run.
///
/// PostgresNIO prepares a statement on a connection the first time it runs there and names it after its Swift type
/// (`PostgresPreparedStatement` has static `sql` and `name`), while the store builds its SQL as strings. So each
/// distinct (SQL, parameter types) gets a number, and the number a type of its own, spelled in binary by nested
/// generics (`SlotBit1<SlotBit0<SlotOne>>` is 5) and built at run time. The numbers are bounded: past `capacity`
/// distinct statements the rest run unprepared.
final class PostgresStatements: Sendable {
    static let shared = PostgresStatements()
    let capacity: Int

    init(capacity: Int = 512) {
        self.capacity = capacity
    }

    private struct Key: Hashable {
        let sql: String
        let types: [UInt32]
    }

    struct Entry: Sendable {
        let sql: String
        let types: [PostgresDataType]
    }

    private struct State {
        var numbers: [Key: Int] = [:]
        var entries: [Entry] = []
    }

    private let state = Mutex(State())

    /// Only plain data statements: schema changes and session commands gain nothing from a plan.
    static func preparable(_ sql: String) -> Bool {
        let head = sql.utf8.prefix(7).map { $0 | 0x20 }
        for word in ["select", "with", "insert", "update", "delete"] where head.starts(with: word.utf8) { return true }
        return false
    }

    /// The number (from 1) of the store's `sql` (with `?` placeholders) run with parameters of `types`, or nil when
    /// the table is full.
    func number(sql: String, types: [PostgresDataType]) -> Int? {
        let key = Key(sql: sql, types: types.map(\.rawValue))
        return state.withLock { s in
            if let n = s.numbers[key] { return n }
            guard s.entries.count < capacity else { return nil }
            s.entries.append(Entry(sql: PostgresDatabase.numberPlaceholders(sql), types: types))
            s.numbers[key] = s.entries.count
            return s.entries.count
        }
    }

    func entry(_ number: Int) -> Entry {
        state.withLock { $0.entries[number - 1] }
    }

    var count: Int { state.withLock { $0.entries.count } }

    /// The type that stands for `number` (at least 1): its leading binary digit is `SlotOne`, each further digit
    /// wraps the type so far.
    static func slotType(_ number: Int) -> any StatementSlot.Type {
        var type: any StatementSlot.Type = SlotOne.self
        let digits = Int.bitWidth - number.leadingZeroBitCount
        var shift = digits - 2
        while shift >= 0 {
            type = (number >> shift) & 1 == 1 ? appendOne(type) : appendZero(type)
            shift -= 1
        }
        return type
    }

    private static func appendOne<P: StatementSlot>(_: P.Type) -> any StatementSlot.Type { SlotBit1<P>.self }
    private static func appendZero<P: StatementSlot>(_: P.Type) -> any StatementSlot.Type { SlotBit0<P>.self }
}

/// A statement number as a type (see `PostgresStatements`).
protocol StatementSlot {
    static var number: Int { get }
}

enum SlotOne: StatementSlot {
    static var number: Int { 1 }
}

enum SlotBit0<Prefix: StatementSlot>: StatementSlot {
    static var number: Int { Prefix.number << 1 }
}

enum SlotBit1<Prefix: StatementSlot>: StatementSlot {
    static var number: Int { Prefix.number << 1 | 1 }
}

/// The prepared statement numbered by `Slot`; rows come back undecoded.
struct SlotStatement<Slot: StatementSlot>: PostgresPreparedStatement {
    typealias Row = PostgresRow
    static var name: String { "grove_\(Slot.number)" }
    static var sql: String { PostgresStatements.shared.entry(Slot.number).sql }
    static var bindingDataTypes: [PostgresDataType] { PostgresStatements.shared.entry(Slot.number).types }
    let bindings: PostgresBindings
    func makeBindings() throws -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}
