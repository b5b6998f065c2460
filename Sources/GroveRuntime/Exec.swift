import Foundation
import GroveProcess
import Synchronization

/// Process spawning for the runtime: children get their own process group (so a stop reaches the whole
/// tree), stdout and stderr go to a file or a pipe, and exits are observed on a dedicated thread.
public enum Exec {
    static let setpriv: String? = ["/usr/bin/setpriv", "/bin/setpriv"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Starts `argv` with `env`, in `cwd`, output appended to `logPath`. Returns the pid. Children die with
    /// `grove serve` even when it is killed: they carry a parent-death signal (setpriv) tied to a spawner
    /// thread that lives as long as the process.
    public static func spawn(_ argv: [String], env: [String: String], cwd: String?, logPath: String) throws -> pid_t {
        try Spawner.shared.run { try spawnNow(argv, env: env, cwd: cwd, logPath: logPath) }
    }

    /// Starts `argv` on the caller's descriptors (an interactive session): in a process group of its own, or, with a
    /// terminal, in a session of its own with that terminal as its controlling one (`setsid --ctty`). Returns the pid,
    /// which is also the group's id.
    public static func spawnSession(_ argv: [String], env: [String: String], cwd: String?, stdin: Int32, stdout: Int32, stderr: Int32, terminal: Bool) throws -> pid_t {
        let argv = terminal ? ["/usr/bin/setsid", "--ctty"] + argv : argv
        return try Spawner.shared.run {
            try spawnNow(argv, env: env, cwd: cwd, streams: (.descriptor(stdin), .descriptor(stdout), .descriptor(stderr)), ownProcessGroup: !terminal)
        }
    }

    static func spawnNow(_ argv: [String], env: [String: String], cwd: String?, logPath: String) throws -> pid_t {
        try spawnNow(argv, env: env, cwd: cwd, streams: (.null, .file(logPath), .sameAsStdout), ownProcessGroup: true)
    }

    static func spawnNow(_ argv: [String], env: [String: String], cwd: String?, streams: (Subprocess.Stream, Subprocess.Stream, Subprocess.Stream),
                         ownProcessGroup: Bool) throws -> pid_t {
        var o = Subprocess.Options(environment: env)
        o.stdin = streams.0
        o.stdout = streams.1
        o.stderr = streams.2
        o.ownProcessGroup = ownProcessGroup
        // posix_spawn has no portable chdir; GNU env changes directory and execs the command.
        var argv = cwd.map { ["/usr/bin/env", "-C", $0, "--"] + argv } ?? argv
        if let setpriv = Self.setpriv { argv = [setpriv, "--pdeathsig", "KILL", "--"] + argv }
        do { return try Subprocess.spawn(argv, o).pid } catch let e as Subprocess.SpawnError { throw RuntimeError(e.description) }
    }

    /// Waits for `pid` off the cooperative pool; returns the exit status (128+signal when killed).
    public static func wait(_ pid: pid_t) async -> Int32 { await Subprocess.wait(pid) }

    /// Runs to completion, output to `logPath`; the status.
    public static func run(_ argv: [String], env: [String: String], cwd: String?, logPath: String) async throws -> Int32 {
        let pid = try spawn(argv, env: env, cwd: cwd, logPath: logPath)
        return await wait(pid)
    }

    /// Synchronous run with output discarded, for probes at start-up.
    /// What a short command (a `--version`) prints on stdout and stderr, or nil when it fails. Goes through a
    /// private file: the spawner has no pipes.
    public static func capture(_ exe: String, _ args: [String], env: [String: String] = ["PATH": "/usr/bin:/bin", "HOME": "/tmp"]) -> String? {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("grove-capture-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        guard (try? runSync("/bin/sh", ["-c", "\"$0\" \"$@\" > '\(out.path)' 2>&1", exe] + args, env: env)) == 0,
              let text = try? String(contentsOf: out, encoding: .utf8) else { return nil }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public static func runSync(_ exe: String, _ args: [String], env: [String: String]) throws -> Int32 {
        Subprocess.waitBlocking(try spawn([exe] + args, env: env, cwd: nil, logPath: "/dev/null"))
    }

    /// SIGTERM to the process group, SIGKILL after `grace`.
    public static func stop(_ pid: pid_t, grace: Duration) async {
        kill(-pid, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline {
            if kill(pid, 0) != 0 { return }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { return }
            try? await Task.sleep(for: .milliseconds(50))
        }
        kill(-pid, SIGKILL)
    }

    /// The first descendant of `pid` whose command name is `name` (children as /proc lists them).
    /// `pid` and every process below it, parents before children.
    public static func tree(of pid: pid_t) -> [pid_t] {
        var out: [pid_t] = []
        var queue = [pid]
        while !queue.isEmpty {
            let p = queue.removeFirst()
            out.append(p)
            for t in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(p)/task")) ?? [] {
                let kids = (try? String(contentsOfFile: "/proc/\(p)/task/\(t)/children", encoding: .utf8)) ?? ""
                queue += kids.split(separator: " ").compactMap { pid_t($0) }
            }
        }
        return out
    }

    public static func descendant(of pid: pid_t, named name: String) -> pid_t? {
        var queue = [pid]
        while !queue.isEmpty {
            let p = queue.removeFirst()
            if p != pid, let comm = try? String(contentsOfFile: "/proc/\(p)/comm", encoding: .utf8),
               comm.trimmingCharacters(in: .whitespacesAndNewlines) == name { return p }
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(p)/task")) ?? []
            for t in tasks {
                let kids = (try? String(contentsOfFile: "/proc/\(p)/task/\(t)/children", encoding: .utf8)) ?? ""
                queue += kids.split(separator: " ").compactMap { pid_t($0) }
            }
        }
        return nil
    }

    /// A free TCP port on 127.0.0.1 (the kernel picks; there is a small window before the app binds it).
    public static func freePort() throws -> Int { try freePorts(1)[0] }

    /// `count` distinct free ports: each socket stays bound until all are picked, since the kernel may hand the same
    /// port to two picks in a row once the first socket is closed.
    public static func freePorts(_ count: Int) throws -> [Int] {
        var fds: [Int32] = []
        defer { for fd in fds { close(fd) } }
        var ports: [Int] = []
        for _ in 0..<count {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw RuntimeError("socket failed") }
            fds.append(fd)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = 0
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            let ok = withUnsafeMutablePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
            }
            guard ok else { throw RuntimeError("cannot find a free port") }
            ports.append(Int(UInt16(bigEndian: addr.sin_port)))
        }
        return ports
    }

    /// Whether process `pid` itself holds a socket listening on TCP `port`: unlike `accepts`, a listener of another
    /// process on the same port (one that took a port picked as free) does not count.
    public static func holdsListener(pid: pid_t, port: Int) -> Bool {
        var inodes = Set<Substring>()
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = readProcFile(table) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let f = line.split(separator: " ")
                // local_address is HEX_IP:HEX_PORT, st 0A is LISTEN, the inode is the tenth column.
                guard f.count > 9, f[3] == "0A", let colon = f[1].lastIndex(of: ":"),
                      Int(f[1][f[1].index(after: colon)...], radix: 16) == port else { continue }
                inodes.insert(f[9])
            }
        }
        guard !inodes.isEmpty, let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd") else { return false }
        for fd in fds {
            guard let dest = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)"), dest.hasPrefix("socket:[") else { continue }
            if inodes.contains(dest.dropFirst(8).dropLast()) { return true }
        }
        return false
    }

    /// The whole of a /proc file. They report a size of 0 and are made page by page as they are read, so they are
    /// read until end of file (a busy host's socket table is many pages long).
    static func readProcFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether something accepts connections on the unix socket at `path`.
    public static func accepts(socket path: String) -> Bool {
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { return false }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 }
        }
    }

    /// Whether something accepts TCP connections on host:port (an environment's address reaches its loopback).
    public static func accepts(port: Int, host: String = "127.0.0.1") -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr(host)
        return withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

public struct RuntimeError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}

/// One thread that lives as long as the process and performs every spawn, so the parent-death signal
/// (which Linux ties to the spawning thread) only fires when the whole server goes away.
final class Spawner: Sendable {
    static let shared = Spawner()
    private let jobs = Mutex<[@Sendable () -> Void]>([])
    /// Counts the queued jobs; the spawner thread sleeps on it while there are none.
    private let queued = DispatchSemaphore(value: 0)

    private init() {
        let t = Thread { [self] in self.loop() }
        t.name = "grove-spawner"
        t.start()
    }

    private func loop() {
        while true {
            queued.wait()
            if let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { job() }
        }
    }

    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<Result<T, any Error>?>(nil)
        jobs.withLock {
            $0.append {
                let r = Result { try body() }
                result.withLock { $0 = r }
                done.signal()
            }
        }
        queued.signal()
        done.wait()
        guard let r = result.withLock({ $0 }) else { throw RuntimeError("spawn did not run") }
        return try r.get()
    }
}
