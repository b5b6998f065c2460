import Foundation

/// posix_spawn-based child processes. Foundation's Process can stall waiting for exits inside
/// concurrent test runs, so tests start and reap their children directly.
struct Spawned: @unchecked Sendable {
    let pid: pid_t
    let outputPath: String

    /// Everything the child wrote (bytes that are not UTF-8 are replaced, never the whole output lost); a missing
    /// file says so, since an empty output would hide why a command failed.
    var output: String {
        guard let data = FileManager.default.contents(atPath: outputPath) else { return "(no output file \(outputPath))" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Non-blocking: the exit status once the child has ended.
    func exitStatus() -> Int32? {
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid { return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f) }
        if r < 0 { return -1 }
        return nil
    }

    func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    func signal(_ sig: Int32) { kill(pid, sig) }

    /// Waits for a fixture server to write `path` (the port or ports it listens on) and returns what it wrote. A
    /// child that exits first fails at once with its own output; one that is merely slow (Python starting while
    /// every suite starts at once on two cores) gets `timeout` seconds, and the failure says which file and child.
    func announced(_ path: String, timeout: Double = 120, complete: (String) -> Bool = { !$0.isEmpty }) async throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            if complete(text) { return text }
            if let status = exitStatus() {
                throw TestFailure("the child meant to write \(path) exited with \(status) first: \(output)")
            }
            guard Date() < deadline else {
                throw TestFailure("\(path) not written within \(timeout) s (the child is still running): \(output)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

enum Spawn {
    /// Starts `exe` with stdout and stderr appended to a fresh temporary file and stdin from `stdin` (or /dev/null).
    static func start(_ exe: String, _ args: [String], env: [String: String]? = nil, stdin: String? = nil) throws -> Spawned {
        let outPath = FileManager.default.temporaryDirectory.appendingPathComponent("spawn-\(UUID().uuidString).log").path
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        var inPath = "/dev/null"
        if let stdin {
            inPath = outPath + ".in"
            _ = FileManager.default.createFile(atPath: inPath, contents: Data(stdin.utf8))
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, inPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of ours reaches the child: a pipe another thread is reading (a command's output) would
        // otherwise stay open in a long-lived child, and that reader would never see the end of it.
        _ = addCloseFrom?(&actions, 3)
        let argv = ([exe] + args).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env ?? [:] { environment[k] = v }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for e in envp { free(e) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, exe, &actions, nil, argv, envp)
        guard rc == 0 else { throw TestFailure("cannot start \(exe): error \(rc)") }
        return Spawned(pid: pid, outputPath: outPath)
    }

    /// Runs to completion and returns (status, combined output).
    static func run(_ exe: String, _ args: [String], env: [String: String]? = nil, stdin: String? = nil) throws -> (Int32, String) {
        let s = try start(exe, args, env: env, stdin: stdin)
        let status = s.wait()
        let out = s.output
        try? FileManager.default.removeItem(atPath: s.outputPath)
        try? FileManager.default.removeItem(atPath: s.outputPath + ".in")
        return (status, out)
    }
}

extension Spawn {
    /// The HTTP status curl gets for `url` (0 when nothing answers).
    static func curlCode(_ url: String) -> Int {
        guard let (_, out) = try? run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-m", "2", "-w", "%{http_code}", url]) else { return 0 }
        return Int(out.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }
}

/// glibc's posix_spawn_file_actions_addclosefrom_np (not exported by Swift's Glibc module).
private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
private let addCloseFrom: AddCloseFrom? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
    .map { unsafeBitCast($0, to: AddCloseFrom.self) }
