import Foundation
import GroveModel
import Testing

/// Configuration bombs pushed while a client keeps using the API: the API keeps answering at once, the pushes are
/// refused within seconds naming the limit, and SIGTERM still stops the server promptly. Serial: it times the API.
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
        // A first request sets up the client's connection: what is timed below is the server.
        _ = try await api.get("/openapi.json")
        let clock = ContinuousClock()
        let started = clock.now
        async let laughs = Task.detached { (try tree.push(["-o", "environment.status=active", "laughs:refs/heads/laughs"]), clock.now - started) }.value
        async let keys = Task.detached { (try tree.push(["-o", "environment.status=active", "keys:refs/heads/keys"]), clock.now - started) }.value
        var slowest = Duration.zero
        var polls = 0
        while clock.now - started < .seconds(4) {
            let t = clock.now
            let r = try await api.get("/openapi.json")
            slowest = max(slowest, clock.now - t)
            #expect(r.status == 200)
            polls += 1
            try await Task.sleep(for: .milliseconds(50))
        }
        let ((lst, lout), ltook) = try await laughs
        let ((kst, kout), ktook) = try await keys
        #expect(lst != 0 && lout.contains("expands to more than"), "\(lout)")
        #expect(kst != 0 && kout.contains("configuration files are limited to"), "\(kout)")
        #expect(ltook < .seconds(5) && ktook < .seconds(5), "laughs \(ltook), keys \(ktook)")
        #expect(slowest < .milliseconds(200), "slowest of \(polls) polls: \(slowest)")
        #expect(polls > 20)

        // SIGTERM stops the server within 10 s.
        let p = try #require(s.process)
        let stopAt = clock.now
        p.signal(SIGTERM)
        while p.exitStatus() == nil && clock.now - stopAt < .seconds(15) { try await Task.sleep(for: .milliseconds(20)) }
        #expect(p.exitStatus() != nil && clock.now - stopAt < .seconds(10), "stopped after \(clock.now - stopAt)")
    }
}
