import Foundation
import Synchronization
import GroveModel
import Testing

/// Configuration bombs pushed while a client keeps using the API: the API keeps answering, the pushes are refused
/// naming the limit, and SIGTERM still stops the server. What reaching each limit costs is measured by
/// bench/config.sh; serial so the pushes are the server's only load.
@Suite("Configuration bombs cost the server nothing", .serialized)
struct HostileConfigSerialTests {
    static let app = "name: app\ntype: python:3.11\nweb: {commands: {start: python3 -m http.server $PORT}}\n"

    static var billionLaughs: String {
        var s = app + "variables:\n  env:\n    l0: &l0 \"lol\"\n"
        for i in 1...9 { s += "    l\(i): &l\(i) [" + Array(repeating: "*l\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        return s
    }

    static var manyKeys: String {
        var s = app + "variables:\n  env:\n"
        for i in 0..<40_000 { s += "    key_number_\(i): value\n" }
        return s
    }

    @Test("a billion-laughs file and a 40k-key file while the API is polled")
    func bombsWhilePolling() async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let (_, _, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit([".platform.app.yaml": Self.billionLaughs], message: "laughs")
        try tree.git(["branch", "laughs"])
        try tree.git(["checkout", "-q", "-b", "keys"])
        try tree.commit([".platform.app.yaml": Self.manyKeys], message: "keys")

        let api = HTTP(base: s.baseURL)
        let finished = Finished()
        let laughs = Task.detached { defer { finished.count.add(1, ordering: .relaxed) }; return try tree.push(["-o", "environment.status=active", "laughs:refs/heads/laughs"]) }
        let keys = Task.detached { defer { finished.count.add(1, ordering: .relaxed) }; return try tree.push(["-o", "environment.status=active", "keys:refs/heads/keys"]) }
        // The API is used the whole time the bombs are being read: every request is answered.
        var polls = 0
        repeat {
            let r = try await api.get("/openapi.json")
            #expect(r.status == 200)
            polls += 1
            try await Task.sleep(for: .milliseconds(50))
        } while finished.count.load(ordering: .relaxed) < 2
        let (lst, lout) = try await laughs.value
        let (kst, kout) = try await keys.value
        #expect(lst != 0 && lout.contains("expands to more than"), "\(lout)")
        #expect(kst != 0 && kout.contains("configuration files are limited to"), "\(kout)")
        #expect(polls > 0)

        // SIGTERM stops the server (the bound only keeps a hung server from hanging the suite).
        let p = try #require(s.process)
        let clock = ContinuousClock()
        let stopAt = clock.now
        p.signal(SIGTERM)
        while p.exitStatus() == nil && clock.now - stopAt < .seconds(60) { try await Task.sleep(for: .milliseconds(20)) }
        #expect(p.exitStatus() != nil, "still running \(clock.now - stopAt) after SIGTERM")
    }
}

/// How many of the pushes have returned.
private final class Finished: Sendable {
    let count = Atomic<Int>(0)
}
