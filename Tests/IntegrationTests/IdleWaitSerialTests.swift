import Foundation
import Testing

/// Processes that wait on a server (a push's hook following its activity) sleep while they wait.
@Suite("Waiting is idle", .serialized)
struct IdleWaitSerialTests {
    /// user + system CPU seconds of a process, from /proc.
    static func cpuSeconds(_ pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let u = Double(fields[11]), let s = Double(fields[12]) else { return nil }
        return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The proc-receive hook serving a push into `dataDir` (its working directory is the project's repository).
    static func hookProcess(in dataDir: String) -> Int32? {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(name),
                  let cmd = try? String(contentsOfFile: "/proc/\(name)/cmdline", encoding: .utf8),
                  cmd.contains("internal:git-hook"), cmd.contains("proc-receive"),
                  let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(name)/cwd"),
                  cwd.hasPrefix(dataDir) else { continue }
            return pid
        }
        return nil
    }

    @Test("the push hook uses almost no CPU while a slow build runs")
    func hookIsIdleDuringABuild() async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let (_, _, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        let app = "name: app\ntype: python:3.11\nhooks:\n  build: sleep 20\nweb:\n  commands:\n    start: python3 -m http.server $PORT --bind 127.0.0.1\n"
        try tree.commit([".platform.app.yaml": app])
        let push = try Spawn.start("/usr/bin/git", ["-C", tree.dir, "push", tree.remote, "HEAD:refs/heads/main"],
                                   env: ["GIT_TERMINAL_PROMPT": "0", "HOME": FileManager.default.temporaryDirectory.path, "GIT_CONFIG_NOSYSTEM": "1"])
        // The hook, once the build runs (its log shows the build hook started).
        var hook: Int32?
        try await waitFor(timeout: 60) {
            hook = IdleWaitSerialTests.hookProcess(in: s.dataDir)
            return hook != nil && push.output.contains("Executing build hook")
        }
        let pid = try #require(hook)
        guard let start = IdleWaitSerialTests.cpuSeconds(pid) else {
            Issue.record("the hook ended before it was measured: \(push.output)")
            return
        }
        let clock = ContinuousClock(), t0 = clock.now
        try await Task.sleep(for: .seconds(5))
        let used = (IdleWaitSerialTests.cpuSeconds(pid) ?? start) - start
        let wall = Double((clock.now - t0).components.seconds)
        #expect(push.exitStatus() == nil, "the push ended before the measurement did")
        #expect(used / wall < 0.02, "the hook used \(used) s of CPU in \(wall) s")
        #expect(push.wait() == 0, "\(push.output)")
    }
}
