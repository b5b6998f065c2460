import Foundation
@testable import GroveStore
import GroveModel
import Logging
import PostgresNIO
import Testing

@Suite("Waiting for stored changes")
struct ChangeWaitTests {
    func open() async throws -> SQLStore {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("wait-\(UUID().uuidString).sqlite").path
        return try await StoreFactory.open(url: "sqlite:" + path, logger: Logger(label: "test"))
    }

    @Test func aWaiterWakesOnAWriteOnCancellationAndAtItsTimeout() async throws {
        let store = try await open()
        defer { Task { await store.close() } }
        // The version poll has seen the migrations' commits.
        try await Task.sleep(for: .milliseconds(300))
        let clock = ContinuousClock()
        // A write wakes a waiter long before its timeout.
        let before = try #require(store.changeVersion)
        let waiter = Task { let t0 = clock.now; await store.waitForChange(since: before, timeout: .seconds(60)); return clock.now - t0 }
        try await Task.sleep(for: .milliseconds(200))
        try await store.insertUser(User(id: "u", username: "u", email: "u@x", createdAt: "t"))
        let woke = await waiter.value
        #expect(woke >= .milliseconds(150) && woke < .seconds(10), "\(woke)")
        // A version already left behind returns at once.
        let t1 = clock.now
        await store.waitForChange(since: before, timeout: .seconds(60))
        #expect(clock.now - t1 < .seconds(1))
        // Nothing written: the timeout ends the wait. (The version poll also sees the write, as another connection's
        // commit, within 50 ms: let it.)
        try await Task.sleep(for: .milliseconds(300))
        let now = try #require(store.changeVersion)
        let t2 = clock.now
        await store.waitForChange(since: now, timeout: .milliseconds(300))
        #expect(clock.now - t2 >= .milliseconds(300) && clock.now - t2 < .seconds(10))
        // Cancelling the waiting task ends it.
        let cancelled = Task { let t0 = clock.now; await store.waitForChange(since: now, timeout: .seconds(60)); return clock.now - t0 }
        try await Task.sleep(for: .milliseconds(100))
        cancelled.cancel()
        #expect(await cancelled.value < .seconds(10))
        // nextChange throws only for cancellation and otherwise returns after the write and the settle time.
        let v = store.changeVersion
        async let next: Void = store.nextChange(after: v, settle: .milliseconds(10), timeout: .seconds(60))
        try await Task.sleep(for: .milliseconds(50))
        try await store.insertUser(User(id: "w", username: "w", email: "w@x", createdAt: "t"))
        try await next
    }

    @Test func manyWaitersAllWakeOnOneWrite() async throws {
        let store = try await open()
        defer { Task { await store.close() } }
        let v = try #require(store.changeVersion)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<200 { group.addTask { await store.waitForChange(since: v, timeout: .seconds(60)) } }
            group.addTask {
                try await Task.sleep(for: .milliseconds(200))
                try await store.insertUser(User(id: "x", username: "x", email: "x@x", createdAt: "t"))
            }
            try await group.waitForAll()
        }
    }
}

/// Measures an idle database, so it runs alone (after the parallel phase).
@Suite("Waiting for other processes' writes")
struct OutsideWriteSerialTests {
    @Test func anotherProcesssCommitWakesAWaiterWithoutPolling() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("outside-\(UUID().uuidString).sqlite").path
        let store = try await StoreFactory.open(url: "sqlite:" + path, logger: Logger(label: "here"))
        // A second connection set, as `grove admin:*` would open in its own process.
        let other = try await StoreFactory.open(url: "sqlite:" + path, logger: Logger(label: "other"))
        defer { Task { await other.close(); await store.close() } }
        // Once the two opens' writes have been looked at, an idle database does not read the version on a timer (it
        // did, twenty times a second).
        let sqlite = try #require(store.db as? SQLiteDatabase)
        var checks = sqlite.versionChecks.current
        for _ in 0..<20 {
            try await Task.sleep(for: .milliseconds(500))
            let now = sqlite.versionChecks.current
            if now == checks { break }
            checks = now
        }
        // At most the 5 s safety look (three reads) may fall in this second.
        try await Task.sleep(for: .seconds(1))
        #expect(sqlite.versionChecks.current - checks <= 3)
        let clock = ContinuousClock()
        for round in 0..<5 {
            let v = try #require(store.changeVersion)
            let waiter = Task { let t0 = clock.now; await store.waitForChange(since: v, timeout: .seconds(60)); return clock.now - t0 }
            try await Task.sleep(for: .milliseconds(100))
            try await other.insertUser(User(id: "u\(round)", username: "u\(round)", email: "u\(round)@x", createdAt: "t"))
            // Well before the 5 s safety check: the WAL write woke it.
            let woke = await waiter.value
            #expect(woke < .seconds(3), "round \(round): \(woke)")
            #expect(try await store.user(id: "u\(round)") != nil)
        }
    }
}

@Suite("PostgreSQL prepared statements")
struct PostgresStatementTableTests {
    func number<S: StatementSlot>(_: S.Type) -> Int { S.number }
    func name<S: StatementSlot>(_: S.Type) -> String { SlotStatement<S>.name }

    @Test func everyNumberHasATypeOfItsOwn() {
        var names = Set<String>()
        for n in [1, 2, 3, 4, 5, 7, 8, 255, 256, 511, 512, 1000, 65_535] {
            let type = PostgresStatements.slotType(n)
            #expect(number(type) == n)
            names.insert(name(type))
        }
        #expect(names.count == 13)
    }

    @Test func statementsAreNumberedBySQLAndParameterTypesWithinCapacity() {
        let table = PostgresStatements(capacity: 2)
        let sql = "SELECT data FROM t WHERE a = ? AND b = '?' AND c = ?"
        #expect(table.number(sql: sql, types: [.text, .text]) == 1)
        #expect(table.number(sql: sql, types: [.text, .text]) == 1)
        #expect(table.entry(1).sql == "SELECT data FROM t WHERE a = $1 AND b = '?' AND c = $2")
        // The same text with other parameter types is another statement (a NULL's type is left to the server).
        #expect(table.number(sql: sql, types: [.null, .text]) == 2)
        #expect(table.entry(2).types == [.null, .text])
        // Past capacity: run unprepared.
        #expect(table.number(sql: "SELECT 1", types: []) == nil)
        #expect(table.number(sql: sql, types: [.text, .text]) == 1)
        #expect(table.count == 2)
    }

    @Test func onlyDataStatementsArePrepared() {
        for sql in ["SELECT 1", "select 1", "WITH x AS (SELECT 1) SELECT * FROM x", "INSERT INTO t VALUES (?)", "UPDATE t SET a = ?", "DELETE FROM t"] {
            #expect(PostgresStatements.preparable(sql), "\(sql)")
        }
        for sql in ["CREATE TABLE t (a TEXT)", "BEGIN", "NOTIFY grove_changes", "ALTER TABLE t ADD b TEXT", "DROP TABLE t", ""] {
            #expect(!PostgresStatements.preparable(sql), "\(sql)")
        }
    }
}
