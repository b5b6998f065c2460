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
        let url = try await backend.newStoreURL("answers")
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

    @Test("a project's writes move its answers' version and not other projects'; writes access depends on move all",
          arguments: Backend.allCases)
    func projectsKeepTheirOwnVersions(backend: Backend) async throws {
        let url = try await backend.newStoreURL("scoped")
        let store = try await StoreFactory.open(url: url, logger: .init(label: "test"))
        defer { Task { await store.close() } }
        #expect(try await Self.moved(from: nil) { store.answerVersion })
        @Sendable func env(_ project: String, _ title: String) -> Environment {
            Environment(projectId: project, name: "main", title: title, type: .production, parent: nil, status: .active, isMain: true,
                        createdAt: "2026-01-01T00:00:00Z")
        }
        try await store.insertEnvironment(env("p", "P"))
        try await store.insertEnvironment(env("q", "Q"))
        // Wait until this process has heard of its own writes (the notifications on PostgreSQL), so nothing is on
        // its way while the versions are compared.
        // A log line moves no answer version.
        var line: Int64 = 0
        func settled() async throws {
            let before = store.changeVersion ?? 0
            line += 1
            try await store.appendLog(ActivityLogItem(activityId: "settle", seq: line, timestamp: Timestamp.now(), message: "settle\n"))
            #expect(try await Self.reached { (store.changeVersion ?? 0) >= before + 2 })
        }
        try await settled()
        let (p0, q0, all0) = (store.answerVersion(project: "p"), store.answerVersion(project: "q"), store.answerVersion)

        // q's rows: q's answers and the answers about no one project move, p's do not.
        try await store.updateEnvironment(env("q", "Q2"))
        try await store.insertVariable(Variable(projectId: "q", environmentId: nil, name: "v", value: "1", createdAt: "2026-01-01T00:00:00Z"))
        var activity = Activity(projectId: "q", environments: ["main"], type: "environment.redeploy", userId: nil, description: "", text: "", seq: 1,
                                createdAt: Timestamp.now())
        try await store.insertActivity(activity)
        activity.state = .inProgress
        #expect(try await store.claimActivity(activity))
        try await store.putGrant(ProjectGrant(projectId: "q", userId: "u", permissions: ["viewer"], grantedAt: "2026-01-01T00:00:00Z"))
        try await settled()
        #expect(store.answerVersion(project: "p") == p0, "another project's writes moved p's answers")
        #expect(store.answerVersion(project: "q") != q0)
        #expect(store.answerVersion != all0)

        // p's own write moves p's.
        let p1 = store.answerVersion(project: "p")
        try await store.updateEnvironment(env("p", "P2"))
        #expect(store.answerVersion(project: "p") != p1)

        // A write that is not about one project (a user, a token's revocation) moves every project's answers.
        let (p2, q2) = (store.answerVersion(project: "p"), store.answerVersion(project: "q"))
        _ = try await store.setMetaIfAbsent("revoked:some-token", "0")
        #expect(store.answerVersion(project: "p") != p2 && store.answerVersion(project: "q") != q2)
        // On PostgreSQL this process hears that write's notification too, later, and moves everything once more.
        try await settled()

        // A transaction moves the projects it wrote, and all of them once it writes anything else.
        let (p3, q3) = (store.answerVersion(project: "p"), store.answerVersion(project: "q"))
        try await store.transaction { tx in try await tx.updateEnvironment(env("q", "Q3")) }
        #expect(store.answerVersion(project: "p") == p3 && store.answerVersion(project: "q") != q3)
        let p4 = store.answerVersion(project: "p")
        try await store.transaction { tx in
            try await tx.updateEnvironment(env("q", "Q4"))
            _ = try await tx.setMetaIfAbsent("other", "x")
        }
        #expect(store.answerVersion(project: "p") != p4)

        // Another PostgreSQL process hears which project a write was about.
        guard backend == .postgres else { return }
        let observer = try await StoreFactory.open(url: url, logger: .init(label: "test"))
        defer { Task { await observer.close() } }
        #expect(try await Self.moved(from: nil) { observer.answerVersion })
        try await settled()
        // The observer has heard of the settling write once its change version moved past it.
        let heard = observer.changeVersion
        line += 1
        try await store.appendLog(ActivityLogItem(activityId: "settle", seq: line, timestamp: Timestamp.now(), message: "settle\n"))
        #expect(try await Self.moved(from: heard) { observer.changeVersion })
        let (op, oq) = (observer.answerVersion(project: "p"), observer.answerVersion(project: "q"))
        try await store.updateEnvironment(env("q", "Q5"))
        #expect(try await Self.moved(from: oq) { observer.answerVersion(project: "q") })
        #expect(observer.answerVersion(project: "p") == op, "another process moved p's answers for a write to q")
        try await store.transaction { tx in try await tx.updateEnvironment(env("p", "P5")) }
        #expect(try await Self.moved(from: op) { observer.answerVersion(project: "p") })
    }

    @Test("a cached project answer survives another project's writes, not its own, nor a revoked token", arguments: Backend.allCases)
    func cachedAnswersSurviveOtherProjects(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let http = try await s.login()
        let token = try #require(http.bearer)
        let a = try #require(try await s.createProject(http, title: "A")["id"]?.stringValue)
        let b = try #require(try await s.createProject(http, title: "B")["id"]?.stringValue)
        let list = s.baseURL + "/projects/\(a)/environments"

        // Another tenant's writes (an environment, a variable, the activities they make) leave A's list cached. The
        // server's own background writes may still move A's version between two requests: a few tries.
        var kept = false
        for attempt in 1...5 where !kept {
            _ = try ResponseEncodingTests.untilGzip(list, token: token)
            #expect(try await http.patch("/projects/\(b)/environments/main", ["title": .string("B \(attempt)")]).status == 200)
            #expect(try await http.post("/projects/\(b)/variables", ["name": .string("v\(attempt)"), "value": "x"]).status < 300)
            kept = try ResponseEncodingTests.fetch(list, token: token, accept: "gzip").gzip
        }
        #expect(kept, "A's cached list was dropped for B's writes every time")

        // A's own write drops it.
        _ = try ResponseEncodingTests.untilGzip(list, token: token)
        #expect(try await http.patch("/projects/\(a)/environments/main", ["title": "Renamed"]).status == 200)
        let after = try ResponseEncodingTests.fetch(list, token: token, accept: "gzip")
        #expect(!after.gzip && after.body.contains("Renamed"))

        // So does revoking the token the answer was cached for: the next request with it is refused.
        _ = try ResponseEncodingTests.untilGzip(list, token: token)
        let revoked = try await HTTP(base: s.baseURL).request("POST", "/oauth2/revoke", raw: Data("token=\(token)".utf8),
                                                              contentType: "application/x-www-form-urlencoded")
        #expect(revoked.status == 200)
        #expect(throws: (any Error).self) { try ResponseEncodingTests.fetch(list, token: token, accept: "gzip") }
        #expect(try await HTTP(base: s.baseURL, bearer: token).get("/projects/\(a)/environments").status == 401)
    }
}
