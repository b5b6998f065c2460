import Foundation
import GroveModel
import GroveStore
import Testing

/// Activity log lines are most of the writes while anything builds or deploys. They move the change version (log
/// streams and waiters wake on it) but not the answer version the response cache keys on, so one tenant's deploy does
/// not invalidate every cached answer; the activity itself, which shows its log, still follows each line.
@Suite("Answer version and activity logs")
struct AnswerVersionTests {
    /// Waits (bounded) until `value` differs from `old`.
    static func moved(from old: UInt64?, within seconds: Int64 = 30, _ value: () -> UInt64?) async throws -> Bool {
        try await reached(within: seconds) { value() != old }
    }

    static func reached(within seconds: Int64 = 30, _ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    @Test("a log line moves the change version and not the answer version; other writes move both, seen by other processes too",
          arguments: Backend.allCases)
    func logLinesKeepAnswers(backend: Backend) async throws {
        let url: String
        switch backend {
        case .sqlite: url = "sqlite:" + FileManager.default.temporaryDirectory.appendingPathComponent("answers-\(UUID().uuidString).sqlite").path
        case .postgres: url = try await PostgresHarness.shared.newDatabase()
        }
        let store = try await StoreFactory.open(url: url, logger: .init(label: "test"))
        defer { Task { await store.close() } }
        #expect(try await Self.moved(from: nil) { store.changeVersion })
        var activity = Activity(projectId: "p", environments: ["main"], type: "environment.push", userId: nil, description: "", text: "", seq: 1,
                                createdAt: Timestamp.now())
        try await store.insertActivity(activity)
        // Each write moves the change version twice: at once, and again when the process hears of it (its own
        // notification on PostgreSQL, the WAL watcher on SQLite). Once a log line has been heard of twice, every
        // earlier write has been heard of too, and the answer version holds still.
        func logged(_ seq: Int64) async throws {
            let before = store.changeVersion ?? 0
            try await store.appendLog(ActivityLogItem(activityId: activity.id, seq: seq, timestamp: Timestamp.now(), message: "line \(seq)\n"))
            #expect(try await Self.reached { (store.changeVersion ?? 0) >= before + 2 }, "the log line was never heard of")
        }
        try await logged(1)
        let a0 = store.answerVersion
        try await logged(2)
        #expect(store.answerVersion == a0, "a log line moved the answer version")
        activity.completionPercent = 50
        try await store.updateActivity(activity)
        #expect(store.answerVersion != a0)

        // Another SQLite process sees only that the file changed, so any outside write moves both there: the answer
        // version of a second store on the file follows the first one's writes.
        if backend == .sqlite {
            let other = try await StoreFactory.open(url: url, logger: .init(label: "test"))
            defer { Task { await other.close() } }
            // Its first look at the file may come after a write, which it then takes as where it starts: write again.
            var seen = false
            for round in 0..<5 where !seen {
                let oa = other.answerVersion
                activity.completionPercent = 60 + round
                try await store.updateActivity(activity)
                seen = try await Self.moved(from: oa, within: 5) { other.answerVersion }
            }
            #expect(seen, "another process's writes went unseen")
            return
        }
        // Another process on PostgreSQL learns of both through notifications, and tells them apart.
        let observer = try await StoreFactory.open(url: url, logger: .init(label: "test"))
        defer { Task { await observer.close() } }
        // Listening starts after the writes above, so none of their notifications is still on its way.
        #expect(try await Self.moved(from: nil) { observer.changeVersion })
        let (oc, oa) = (observer.changeVersion, observer.answerVersion)
        try await store.appendLog(ActivityLogItem(activityId: activity.id, seq: 3, timestamp: Timestamp.now(), message: "still building\n"))
        #expect(try await Self.moved(from: oc) { observer.changeVersion })
        #expect(observer.answerVersion == oa)
        activity.completionPercent = 90
        try await store.updateActivity(activity)
        #expect(try await Self.moved(from: oa) { observer.answerVersion })
    }

    @Test("a cached answer survives another process's log line, and the activity shows the line")
    func cachedAnswersSurviveLogLines() async throws {
        let s = try await TestServer.start(.postgres)
        defer { s.stopNow() }
        let http = try await s.login()
        let token = try #require(http.bearer)
        let pid = try #require(try await s.createProject(http)["id"]?.stringValue)
        let activityId = try #require(try await http.get("/projects/\(pid)/activities").json.arrayValue?.first?["id"]?.stringValue)
        let store = try await StoreFactory.open(url: try #require(s.databaseURL), logger: .init(label: "test"))
        defer { Task { await store.close() } }
        let list = s.baseURL + "/projects/\(pid)/environments"

        // A server's own background writes may move the answer version between two requests; a log line must not.
        var kept = false
        for attempt in 1...5 where !kept {
            _ = try ResponseEncodingTests.untilGzip(list, token: token)
            let line = "written elsewhere \(attempt)\n"
            try await store.appendLog(ActivityLogItem(activityId: activityId, seq: 1000 + Int64(attempt), timestamp: Timestamp.now(), message: line))
            try await waitFor(timeout: 30) { try await http.get("/projects/\(pid)/activities/\(activityId)").json["log"]?.stringValue?.contains(line) == true }
            kept = try ResponseEncodingTests.fetch(list, token: token, accept: "gzip").gzip
        }
        #expect(kept, "the cached list (with its gzip form) was dropped for a log line every time")

        // A write that is not a log line drops it: the next answer is rendered anew, with the change.
        #expect(try await http.patch("/projects/\(pid)/environments/main", ["title": "Renamed"]).status == 200)
        let after = try ResponseEncodingTests.fetch(list, token: token, accept: "gzip")
        #expect(!after.gzip && after.body.contains("Renamed"))
    }
}
