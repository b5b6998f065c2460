import Foundation
import GroveModel
@testable import GroveOrchestrator
@testable import GroveStore
import Logging
import Synchronization
import Testing

/// Counts the statements a store runs, to see what an idle queue costs.
final class CountingDatabase: SQLDatabase {
    let inner: any SQLDatabase
    let count = Mutex(0)
    init(_ inner: any SQLDatabase) { self.inner = inner }
    var dialect: SQLDialect { inner.dialect }
    var changeVersion: UInt64? { inner.changeVersion }
    func waitForChange(since version: UInt64?, timeout: Duration) async { await inner.waitForChange(since: version, timeout: timeout) }
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        count.withLock { $0 += 1 }
        return try await inner.query(sql, binds)
    }
    func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        count.withLock { $0 += 1 }
        return try await inner.transaction(body)
    }
    func close() async { await inner.close() }
}

/// Records what it ran.
final class RecordingRunner: ActivityRunner {
    let ran = Mutex<[String]>([])
    var resumable: Bool { false }
    func run(_ context: ActivityContext) async throws {
        let id = context.activity.id
        ran.withLock { $0.append(id) }
        try await context.log("ran")
    }
}

/// Measures an idle queue, so it runs alone (after the parallel phase).
@Suite("The activity queue waits without polling")
struct QueueWaitSerialTests {
    @Test func anIdleQueueReadsNothingAndAQueuedActivityStartsAtOnce() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("queue-\(UUID().uuidString).sqlite").path
        let sqlite = try await SQLiteDatabase.open(path: path, logger: Logger(label: "test"))
        try await Migrations.apply(to: sqlite)
        let db = CountingDatabase(sqlite)
        let store = SQLStore(db: db)
        let runner = RecordingRunner()
        var options = Orchestrator.Options()
        options.idleRecheck = .seconds(60)
        let orchestrator = Orchestrator(store: store, runners: ["test.run": runner], options: options, logger: Logger(label: "test"))
        try await orchestrator.start()
        // Once the store's own start has settled, the queue is not read while nothing is written (it used to be read
        // ten times a second).
        var before = db.count.withLock { $0 }
        for _ in 0..<20 {
            try await Task.sleep(for: .milliseconds(500))
            let now = db.count.withLock { $0 }
            if now == before { break }
            before = now
        }
        try await Task.sleep(for: .seconds(2))
        #expect(db.count.withLock { $0 } - before == 0)
        // An activity written to the store (as another process would, without a nudge) starts promptly.
        let clock = ContinuousClock(), t0 = clock.now
        let a = Activity(projectId: "p", environments: ["main"], type: "test.run", userId: nil, description: "", text: "", seq: 1, createdAt: Timestamp.now())
        try await store.insertActivity(a)
        var finished = false
        while !finished, clock.now - t0 < .seconds(20) {
            let v = store.changeVersion
            finished = try await store.activity(id: a.id)?.state.isFinished == true
            if !finished { await store.waitForChange(since: v, timeout: .seconds(1)) }
        }
        #expect(finished)
        #expect(runner.ran.withLock { $0 } == [a.id])
        #expect(clock.now - t0 < .seconds(5))
        await orchestrator.stop()
        await store.close()
    }
}
