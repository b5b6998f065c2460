import Foundation
import GroveModel
import GroveStore
import Logging
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

enum Backend: String, CaseIterable, CustomStringConvertible, Sendable {
    case sqlite, postgres
    var description: String { rawValue }

    /// A fresh, empty store on this engine (a temporary SQLite file, or a new database on the shared PostgreSQL), for
    /// tests of the store's SQL without a server.
    func openStore(_ name: String) async throws -> any Store {
        try await StoreFactory.open(url: try await newStoreURL(name), logger: Logger(label: "test"))
    }

    /// The URL of a fresh, empty store on this engine, for tests that open several stores on it (other processes).
    func newStoreURL(_ name: String) async throws -> String {
        switch self {
        case .sqlite: "sqlite:" + FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).sqlite").path
        case .postgres: try await PostgresHarness.shared.newDatabase()
        }
    }
}

/// Paths of the package and the built `grove` binary.
enum Paths {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static var groveBinary: String {
        if let b = ProcessInfo.processInfo.environment["GROVE_BIN"], !b.isEmpty { return b }
        return root.appendingPathComponent(".build/debug/grove").path
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A real `grove serve` on a free loopback port with its own data directory; stopped with SIGTERM.
final class TestServer: @unchecked Sendable {
    let dataDir: String
    let backend: Backend
    let databaseURL: String?
    let stepDelayMs: Int
    /// More `grove serve` options (e.g. `--volume-image 1G`).
    var extraArgs: [String] = []
    private(set) var process: Spawned?
    private(set) var baseURL = ""
    /// The router (nginx) port, where environments answer as `<env>-<project>.localhost`.
    private(set) var routerPort = 0
    /// The router's HTTPS port (self-signed certificate unless the project has its own).
    private(set) var routerTLSPort = 0
    /// The SSH server's port (a free one unless the test chose) and its host key fingerprint.
    private(set) var sshPort = 0
    private(set) var sshHostKey = ""
    /// What the current server process printed.
    var output: String { process?.output ?? lastOutput }
    private var lastOutput = ""
    var initialToken = ""
    /// `grove serve --role`: an API-only process has no router; a worker has no API.
    var role = "all"
    /// Whether stopping removes the data directory (not when other processes share it).
    var ownsDataDir = true

    static func start(_ backend: Backend, stepDelayMs: Int = 0, extraArgs: [String] = []) async throws -> TestServer {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grove-test-\(UUID().uuidString.prefix(8))").path
        let url: String? = backend == .postgres ? try await PostgresHarness.shared.newDatabase() : nil
        let s = TestServer(dataDir: dir, backend: backend, databaseURL: url, stepDelayMs: stepDelayMs)
        s.extraArgs = extraArgs
        try await s.launch()
        s.initialToken = (try String(contentsOfFile: dir + "/initial-api-token", encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)
        return s
    }

    init(dataDir: String, backend: Backend, databaseURL: String?, stepDelayMs: Int) {
        self.dataDir = dataDir
        self.backend = backend
        self.databaseURL = databaseURL
        self.stepDelayMs = stepDelayMs
    }

    /// Starts the process (again, after `stop`) and waits for its "listening" line.
    func launch() async throws {
        var args = ["serve", "--listen", "127.0.0.1:0", "--router-listen", "127.0.0.1:0", "--router-tls-port", "0", "--data-dir", dataDir, "--log-level", "warning",
                    "--role", role]
        if let databaseURL { args += ["--database-url", databaseURL] }
        if stepDelayMs > 0 { args += ["--activity-step-delay", String(stepDelayMs)] }
        if !extraArgs.contains("--ssh-listen") { args += ["--ssh-listen", "127.0.0.1:0"] }
        args += extraArgs
        let sshOff = extraArgs.firstIndex(of: "--ssh-listen").map { extraArgs.indices.contains($0 + 1) && extraArgs[$0 + 1] == "off" } ?? false
        let p = try Spawn.start(Paths.groveBinary, args)
        process = p
        ServerRegistry.shared.add(p.pid)
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let text = p.output
            if let m = text.firstMatch(of: /SSH listening on ssh:\/\/127\.0\.0\.1:(\d+) \(host key (SHA256:[^)]+)\)/) {
                sshPort = Int(m.1) ?? 0
                sshHostKey = String(m.2)
            }
            let sshReady = role == "api" || sshOff || sshPort > 0
            if role == "api", let r = text.range(of: #"API listening on (http://127\.0\.0\.1:\d+)"#, options: .regularExpression) {
                baseURL = String(text[r].dropFirst("API listening on ".count))
                return
            }
            if role == "worker", sshReady, text.contains("Grove worker running"),
               let rr = text.firstMatch(of: /router listening on http:\/\/127\.0\.0\.1:(\d+) and https:\/\/127\.0\.0\.1:(\d+)/) {
                routerPort = Int(rr.1) ?? 0
                routerTLSPort = Int(rr.2) ?? 0
                return
            }
            if sshReady, let r = text.range(of: #"API listening on (http://127\.0\.0\.1:\d+)"#, options: .regularExpression),
               let rr = text.firstMatch(of: /router listening on http:\/\/127\.0\.0\.1:(\d+) and https:\/\/127\.0\.0\.1:(\d+)/) {
                baseURL = String(text[r].dropFirst("API listening on ".count))
                routerPort = Int(rr.1) ?? 0
                routerTLSPort = Int(rr.2) ?? 0
                return
            }
            if let st = p.exitStatus() { throw TestFailure("grove serve exited with \(st): \(text)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        p.signal(SIGKILL)
        _ = p.wait()
        throw TestFailure("grove serve did not start: \(p.output)")
    }

    /// SIGKILL, as a crash or an OOM kill would: nothing is shut down gracefully.
    func crash() {
        guard let p = process else { return }
        p.signal(SIGKILL)
        _ = p.wait()
        lastOutput = p.output
        ServerRegistry.shared.remove(p.pid)
        process = nil
    }

    /// SIGTERM (graceful shutdown), then SIGKILL after 15 s.
    func stop() async {
        guard let p = process else { return }
        p.signal(SIGTERM)
        let deadline = Date().addingTimeInterval(15)
        while p.exitStatus() == nil {
            if Date() > deadline { p.signal(SIGKILL); _ = p.wait(); break }
            try? await Task.sleep(for: .milliseconds(50))
        }
        lastOutput = p.output
        try? FileManager.default.removeItem(atPath: p.outputPath)
        ServerRegistry.shared.remove(p.pid)
        process = nil
    }

    func shutdown() async {
        await stop()
        try? FileManager.default.removeItem(atPath: dataDir)
    }

    /// Synchronous stop for `defer`: SIGTERM, a few seconds to exit, then SIGKILL; removes the data directory.
    func stopNow() {
        if let p = process {
            p.signal(SIGTERM)
            var waited = 0
            while p.exitStatus() == nil {
                if waited > 1500 { p.signal(SIGKILL); _ = p.wait(); break }
                usleep(20_000)
                waited += 1
            }
            try? FileManager.default.removeItem(atPath: p.outputPath)
            ServerRegistry.shared.remove(p.pid)
            process = nil
        }
        guard ownsDataDir else { return }
        // A volume image the server could not unmount (it was killed) must not pin the directory.
        if FileManager.default.fileExists(atPath: dataDir + "/volumes.img") { _ = try? Spawn.run("/bin/umount", ["-l", dataDir + "/volumes"]) }
        try? FileManager.default.removeItem(atPath: dataDir)
    }

    /// GET through the router with the environment's host name; (status, body).
    func fetch(_ projectId: String, environment: String = "main", path: String = "/") throws -> (Int, String) {
        try fetch(host: "\(environment)-\(projectId).localhost", path: path)
    }

    /// GET `http://host/path` through the router, following redirects (https with any certificate); (status, body).
    func fetch(host: String, path: String = "/", scheme: String = "http") throws -> (Int, String) {
        let port = scheme == "https" ? routerTLSPort : routerPort
        var result = (0, "")
        // A connection that fails outright (status 0) is tried again: CI machines stall processes for seconds.
        for attempt in 0..<3 where result.0 == 0 {
            if attempt > 0 { Thread.sleep(forTimeInterval: 1) }
            // -S: when nothing answers, curl's reason is the body a failed expectation prints.
            let (_, out) = try Spawn.run("/usr/bin/curl", ["-sS", "-k", "-L", "-m", "20", "-w", "\n%{http_code}",
                                                           "--resolve", "\(host):\(routerPort):127.0.0.1", "--resolve", "\(host):\(routerTLSPort):127.0.0.1",
                                                           "\(scheme)://\(host):\(port)\(path)"])
            let lines = out.split(separator: "\n", omittingEmptySubsequences: false)
            result = (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
        }
        return result
    }

    /// Adds a user with `grove admin:user-create --with-token` and returns the API token it printed once.
    func createUser(email: String) throws -> String {
        let (status, out) = try admin(["admin:user-create", "--email", email, "--with-token"])
        guard status == 0, let token = out.components(separatedBy: "API token (shown once): ").dropFirst().first?
            .trimmingCharacters(in: .whitespacesAndNewlines) else { throw TestFailure("admin:user-create failed: \(out)") }
        return token
    }

    /// Runs the `grove` CLI with this server's data dir (for admin commands) and returns (status, output).
    func admin(_ args: [String]) throws -> (Int32, String) {
        var a = args + ["--data-dir", dataDir]
        if let databaseURL { a += ["--database-url", databaseURL] }
        return try CLI.run(a, env: [:])
    }
}

/// Runs the built binary as a user would.
enum CLI {
    static func run(_ args: [String], env: [String: String], stdin: String? = nil) throws -> (Int32, String) {
        try Spawn.run(Paths.groveBinary, args, env: env, stdin: stdin)
    }
}

/// Every server still running when the test process exits gets SIGKILL, so none outlives the run.
final class ServerRegistry: @unchecked Sendable {
    static let shared = ServerRegistry()
    private let lock = NSLock()
    private var pids = Set<pid_t>()

    init() { registerExitHandler { ServerRegistry.shared.killAll() } }

    func add(_ pid: pid_t) { lock.lock(); pids.insert(pid); lock.unlock() }
    func remove(_ pid: pid_t) { lock.lock(); pids.remove(pid); lock.unlock() }
    func killAll() {
        lock.lock(); let all = pids; lock.unlock()
        for p in all { kill(p, SIGKILL) }
    }
}
