import Foundation
import GroveModel
import GroveStore
import Logging
import Testing

/// The store's SQL on a real PostgreSQL: statements are prepared per pooled connection on first use, so the same text
/// must give the same answers on every connection, with any parameter types, and wake waiters on other connections.
@Suite("PostgreSQL store")
struct PostgresStoreTests {
    @Test func preparedStatementsAnswerAlikeOnEveryConnectionWithAnyParameterTypes() async throws {
        let url = try await PostgresHarness.shared.newDatabase()
        let store = try await StoreFactory.open(url: url, logger: Logger(label: "test"))
        defer { Task { await store.close() } }
        let db = store.db
        _ = try await db.query("CREATE TABLE scratch (k TEXT, v TEXT, n BIGINT)", [])
        _ = try await db.query("INSERT INTO scratch VALUES (?, ?, ?)", [.text("a"), .text("before\u{1}after é"), .int(-7)])
        _ = try await db.query("INSERT INTO scratch VALUES (?, ?, ?)", [.text("b"), .null, .int(9)])
        // The same statement many times at once: each pooled connection prepares it once and answers the same.
        try await withThrowingTaskGroup(of: [SQLRow].self) { group in
            for _ in 0..<64 { group.addTask { try await db.query("SELECT v, n FROM scratch WHERE k = ?", [.text("a")]) } }
            for try await rows in group {
                #expect(rows.count == 1)
                #expect(rows.first?["v"] == .text("before\u{1}after é"))
                #expect(rows.first?["n"] == .int(-7))
            }
        }
        // One text, parameters of other types: text, NULL (typed by the server), integer.
        let sql = "SELECT k FROM scratch WHERE v IS NOT DISTINCT FROM ? ORDER BY k"
        #expect(try await db.query(sql, [.text("before\u{1}after é")]).map { $0["k"] } == [.text("a")])
        #expect(try await db.query(sql, [.null]).map { $0["k"] } == [.text("b")])
        #expect(try await db.query(sql, [.text("before\u{1}after é")]).map { $0["k"] } == [.text("a")])
        #expect(try await db.query("SELECT k FROM scratch WHERE n > ? ORDER BY k", [.int(0)]).map { $0["k"] } == [.text("b")])
        // Writes through prepared statements, inside and outside transactions.
        _ = try await db.query("UPDATE scratch SET n = n + ? WHERE k = ?", [.int(1), .text("b")])
        try await db.transaction { tx in
            _ = try await tx.query("UPDATE scratch SET n = n + ? WHERE k = ?", [.int(1), .text("b")])
            _ = try await tx.query("DELETE FROM scratch WHERE k = ?", [.text("a")])
        }
        #expect(try await db.query("SELECT k, n FROM scratch ORDER BY k", []).map { $0["n"] } == [.int(11)])
        // A failing statement reports the server's error and leaves the connection usable.
        await #expect(throws: StoreError.self) { try await db.query("SELECT nothing FROM scratch WHERE k = ?", [.text("a")]) }
        await #expect(throws: StoreError.self) { try await db.query("SELECT nothing FROM scratch WHERE k = ?", [.text("a")]) }
        #expect(try await db.query("SELECT COUNT(*) AS c FROM scratch", []).first?["c"] == .int(1))
        // Many distinct texts (generated SQL): each answers correctly.
        for i in 0..<40 {
            #expect(try await db.query("SELECT n + \(i) AS m FROM scratch", []).first?["m"] == .int(Int64(11 + i)))
        }
    }

    @Test func aWriteThroughAnotherConnectionWakesAWaiter() async throws {
        let url = try await PostgresHarness.shared.newDatabase()
        let waiting = try await StoreFactory.open(url: url, logger: Logger(label: "waiting"))
        let writer = try await StoreFactory.open(url: url, logger: Logger(label: "writer"))
        defer { Task { await waiting.close(); await writer.close() } }
        // The listener is up once the version is known.
        var version = waiting.changeVersion
        for _ in 0..<100 where version == nil {
            try await Task.sleep(for: .milliseconds(50))
            version = waiting.changeVersion
        }
        let since = try #require(version)
        let clock = ContinuousClock()
        let waiter = Task { let t0 = clock.now; await waiting.waitForChange(since: since, timeout: .seconds(60)); return clock.now - t0 }
        try await Task.sleep(for: .milliseconds(200))
        try await writer.insertUser(User(id: "u", username: "u", email: "u@x", createdAt: "t"))
        let woke = await waiter.value
        #expect(woke < .seconds(10), "\(woke)")
        #expect(waiting.changeVersion != since)
    }
}
