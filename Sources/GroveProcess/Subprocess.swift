import Foundation
import Synchronization

/// The one way Grove starts programs: posix_spawn with each standard stream chosen explicitly, no other descriptor
/// of ours inherited, optionally a process group of its own with default signal handling, and exits waited for off
/// the cooperative pool. The runtime (`Exec`), git (`ChildProcess`), administrative commands and the CLI use it.
public enum Subprocess {
    public enum Stream: Sendable {
        /// This process's own.
        case inherit
        /// /dev/null.
        case null
        /// A pipe whose other end the caller gets in `Child`.
        case pipe
        /// Appended to (created 0640 when missing); for stdin, read from.
        case file(String)
        /// stderr only: wherever stdout goes.
        case sameAsStdout
        /// A descriptor of the caller's (a pipe end, a terminal); the caller keeps and closes its copy.
        case descriptor(Int32)
    }

    public struct Options: Sendable {
        /// nil: this process's environment.
        public var environment: [String: String]?
        public var stdin: Stream = .null
        public var stdout: Stream = .inherit
        public var stderr: Stream = .inherit
        /// A process group of its own (a stop reaches the whole tree), an empty signal mask and default handlers.
        public var ownProcessGroup = false
        /// Looks the program up in PATH rather than taking it as a path.
        public var searchPath = false
        public init(environment: [String: String]? = nil) { self.environment = environment }
    }

    /// A started child and the caller's ends of its pipes.
    public struct Child: Sendable {
        public let pid: pid_t
        public let stdin: Int32?
        public let stdout: Int32?
        public let stderr: Int32?
    }

    public struct Output: Sendable {
        public let status: Int32
        public let stdout: [UInt8]
        public let stderr: [UInt8]
    }

    public struct SpawnError: Error, CustomStringConvertible, Sendable {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    public static func spawn(_ argv: [String], _ o: Options) throws -> Child {
        guard let exe = argv.first else { throw SpawnError("no program to start") }
        var opened: [Int32] = []  // descriptors of ours to close once the child has its copies
        var ours: [Int32] = []    // the caller's pipe ends, closed on failure
        defer { for fd in opened { close(fd) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var ends: [Int32: Int32] = [:]  // child fd -> caller's end
        for (target, stream) in [(Int32(0), o.stdin), (1, o.stdout), (2, o.stderr)] {
            switch stream {
            case .inherit: break
            case .null: posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            case .sameAsStdout: posix_spawn_file_actions_adddup2(&actions, 1, target)
            case .descriptor(let fd): posix_spawn_file_actions_adddup2(&actions, fd, target)
            case .file(let path):
                let fd = target == 0 ? open(path, O_RDONLY | O_CLOEXEC) : open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
                guard fd >= 0 else {
                    for fd in ours { close(fd) }
                    throw SpawnError("cannot open \(path): \(String(cString: strerror(errno)))")
                }
                opened.append(fd)
                posix_spawn_file_actions_adddup2(&actions, fd, target)
            case .pipe:
                var fds: [Int32] = [0, 0]
                // Close-on-exec at once: Grove's own spawns close every other descriptor anyway, other libraries' may not.
                guard pipe(&fds) == 0 else {
                    for fd in ours { close(fd) }
                    throw SpawnError("pipe failed: \(String(cString: strerror(errno)))")
                }
                for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
                let (childEnd, callerEnd) = target == 0 ? (fds[0], fds[1]) : (fds[1], fds[0])
                opened.append(childEnd)
                ours.append(callerEnd)
                ends[target] = callerEnd
                posix_spawn_file_actions_adddup2(&actions, childEnd, target)
            }
        }
        // Nothing else of ours reaches the child: a pipe another thread is reading would otherwise stay open in a
        // long-lived child, and that reader would never see its end.
        _ = addCloseFrom?(&actions, 3)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        if o.ownProcessGroup {
            posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
            posix_spawnattr_setpgroup(&attr, 0)
            var none = sigset_t(); sigemptyset(&none)
            posix_spawnattr_setsigmask(&attr, &none)
            var all = sigset_t(); sigfillset(&all)
            posix_spawnattr_setsigdefault(&attr, &all)
        }
        let args = argv.map { strdup($0) } + [nil]
        defer { for p in args { free(p) } }
        var pid: pid_t = 0
        let rc: Int32
        if let environment = o.environment {
            let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer { for p in envp { free(p) } }
            rc = o.searchPath ? posix_spawnp(&pid, exe, &actions, &attr, args, envp) : posix_spawn(&pid, exe, &actions, &attr, args, envp)
        } else {
            rc = o.searchPath ? posix_spawnp(&pid, exe, &actions, &attr, args, environ) : posix_spawn(&pid, exe, &actions, &attr, args, environ)
        }
        guard rc == 0 else {
            for fd in ours { close(fd) }
            throw SpawnError("cannot start \(exe): \(String(cString: strerror(rc)))")
        }
        return Child(pid: pid, stdin: ends[0], stdout: ends[1], stderr: ends[2])
    }

    /// The exit status from waitpid's: the code, or 128 + the signal that ended it.
    public static func status(_ raw: Int32) -> Int32 { (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f) }

    /// Blocks the calling thread until `pid` ends.
    public static func waitBlocking(_ pid: pid_t) -> Int32 {
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        return status(raw)
    }

    /// Waits for `pid` on a thread of its own, not the cooperative pool.
    public static func wait(_ pid: pid_t) async -> Int32 {
        await withCheckedContinuation { c in Thread.detachNewThread { c.resume(returning: waitBlocking(pid)) } }
    }

    /// Everything until end of file; closes `fd`.
    public static func readAll(_ fd: Int32) -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, 65536) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        close(fd)
        return out
    }

    /// Runs to the end with `input` on stdin, collecting stdout and stderr (`mergeErrors`: stderr into stdout).
    /// Blocking pipe I/O runs on threads of its own; stdin is written and stderr drained beside the stdout reader, so
    /// a child that answers before reading everything, or fills stderr, cannot deadlock it.
    public static func run(_ argv: [String], environment: [String: String]?, input: [UInt8] = [], mergeErrors: Bool = false) async throws -> Output {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Output, any Error>) in
            Thread.detachNewThread {
                do { c.resume(returning: try runBlocking(argv, environment: environment, input: input, mergeErrors: mergeErrors)) }
                catch { c.resume(throwing: error) }
            }
        }
    }

    static func runBlocking(_ argv: [String], environment: [String: String]?, input: [UInt8], mergeErrors: Bool) throws -> Output {
        var o = Options(environment: environment)
        o.stdin = .pipe
        o.stdout = .pipe
        o.stderr = mergeErrors ? .sameAsStdout : .pipe
        _ = ignoreBrokenPipes
        let child = try spawn(argv, o)
        if let inFD = child.stdin {
            Thread.detachNewThread {
                var offset = 0
                input.withUnsafeBytes { buf in
                    guard let base = buf.baseAddress else { return }
                    while offset < buf.count {
                        let n = write(inFD, base + offset, buf.count - offset)
                        if n <= 0 { if errno == EINTR { continue }; break }
                        offset += n
                    }
                }
                close(inFD)
            }
        }
        let errBox = Bytes()
        let errDone = DispatchSemaphore(value: 0)
        if let errFD = child.stderr {
            Thread.detachNewThread {
                errBox.set(readAll(errFD))
                errDone.signal()
            }
        } else {
            errDone.signal()
        }
        let out = child.stdout.map(readAll) ?? []
        errDone.wait()
        return Output(status: waitBlocking(child.pid), stdout: out, stderr: errBox.get())
    }

    /// A child that stops reading surfaces as a write error instead of killing this process.
    public static let ignoreBrokenPipes: Void = { _ = signal(SIGPIPE, SIG_IGN) }()
}

/// Bytes handed from a reader thread to its waiter.
public final class Bytes: Sendable {
    private let bytes = Mutex<[UInt8]>([])
    public init() {}
    public func set(_ b: [UInt8]) { bytes.withLock { $0 = b } }
    public func get() -> [UInt8] { bytes.withLock { $0 } }
}

/// glibc's posix_spawn_file_actions_addclosefrom_np (2.34+), which Swift's Glibc module does not export: every
/// descriptor from 3 up is closed in the child.
private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
private let addCloseFrom: AddCloseFrom? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
    .map { unsafeBitCast($0, to: AddCloseFrom.self) }
