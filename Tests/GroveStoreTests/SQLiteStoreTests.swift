import Foundation
import GroveModel
import GroveStore
import Logging
import Testing

@Suite("SQLite store")
struct SQLiteStoreTests {
    func open() async throws -> (SQLStore, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString).sqlite").path
        return (try await StoreFactory.open(url: "sqlite:" + path, logger: Logger(label: "test")), path)
    }

    @Test func migrationsAreIdempotentAndUniqueConstraintsHold() async throws {
        let (store, path) = try await open()
        let u = User(id: "u1", username: "ann", email: "Ann@Example.com", createdAt: Timestamp.now())
        try await store.insertUser(u)
        await #expect(throws: StoreError.self) { try await store.insertUser(User(id: "u2", username: "ann", email: "x@y", createdAt: "t")) }
        #expect(try await store.user(email: "ann@example.com")?.id == "u1")
        await store.close()
        let again = try await StoreFactory.open(url: "sqlite:" + path, logger: Logger(label: "test"))
        #expect(try await again.userCount() == 1)
        await again.close()
    }

    @Test func transactionsRollBack() async throws {
        let (store, _) = try await open()
        await #expect(throws: StoreError.self) {
            try await store.transaction { tx in
                try await tx.insertUser(User(id: "a", username: "a", email: "a@x", createdAt: "t"))
                try await tx.insertUser(User(id: "a", username: "b", email: "b@x", createdAt: "t"))
            }
        }
        #expect(try await store.userCount() == 0)
        await store.close()
    }

    @Test func activityClaimsAreExclusive() async throws {
        let (store, _) = try await open()
        let a = Activity(projectId: "p", environments: ["main"], type: "t", userId: nil, description: "", text: "", seq: 1, createdAt: Timestamp.now())
        try await store.insertActivity(a)
        var claimed = a
        claimed.state = .inProgress
        #expect(try await store.claimActivity(claimed))
        #expect(try await store.claimActivity(claimed) == false)
        try await store.requestCancel(activityId: a.id)
        #expect(try await store.activity(id: a.id)?.cancelRequested == true)
        try await store.appendLog(ActivityLogItem(activityId: a.id, seq: 1, timestamp: "t", message: "one\n"))
        try await store.appendLog(ActivityLogItem(activityId: a.id, seq: 2, timestamp: "t", message: "two\n"))
        #expect(try await store.logItems(activityId: a.id, afterSeq: 1).map(\.message) == ["two\n"])
        await store.close()
    }

    @Test func readsSeeEveryCommittedWriteAtOnce() async throws {
        let (store, _) = try await open()
        // The same SELECT, answered inline by a prepared statement, after each write through the writer.
        for i in 0..<20 {
            try await store.insertUser(User(id: "u\(i)", username: "user\(i)", email: "u\(i)@x", createdAt: "t"))
            #expect(try await store.userCount() == i + 1)
            var u = try #require(try await store.user(id: "u\(i)"))
            u.firstName = "changed \(i)"
            try await store.updateUser(u)
            #expect(try await store.user(id: "u\(i)")?.firstName == "changed \(i)")
        }
        await store.close()
    }

    @Test func readersReturnTextWholeAndSurviveManyDistinctStatements() async throws {
        let (store, _) = try await open()
        try await store.db.query("CREATE TABLE scratch (k TEXT, v TEXT, n INTEGER)", [])
        try await store.db.query("INSERT INTO scratch VALUES (?, ?, ?)", [.text("nul"), .text("before\u{0}after é"), .int(-7)])
        let rows = try await store.db.query("SELECT v, n, NULL AS z FROM scratch WHERE k = ?", [.text("nul")])
        #expect(rows.first?["v"] == .text("before\u{0}after é"))
        #expect(rows.first?["n"] == .int(-7))
        #expect(rows.first?["z"] == .null)
        // More distinct statements than a reader keeps prepared.
        for i in 0..<300 {
            let r = try await store.db.query("SELECT n + \(i) AS m FROM scratch", [])
            #expect(r.first?["m"] == .int(Int64(i - 7)))
        }
        await #expect(throws: StoreError.self) { try await store.db.query("SELECT nothing FROM nowhere", []) }
        // Readers shared by many tasks at once.
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<64 { group.addTask { try await store.db.query("SELECT v FROM scratch", []).count } }
            for try await n in group { #expect(n == 1) }
        }
        await store.close()
    }
}
