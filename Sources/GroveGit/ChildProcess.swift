import Foundation
import Synchronization

/// Runs a program with posix_spawn, feeding `input` on stdin and collecting stdout and stderr.
/// Foundation's Process stalls on exit detection under concurrent use, so git runs through this.
public enum ChildProcess {
    public struct Output: Sendable {
        public let status: Int32
        public let stdout: [UInt8]
        public let stderr: [UInt8]
    }

    public static func run(_ exe: String, _ args: [String], environment: [String: String], input: [UInt8] = []) async throws -> Output {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Output, any Error>) in
            // Blocking pipe I/O runs on its own thread, off the cooperative pool.
            Thread.detachNewThread {
                do { c.resume(returning: try runBlocking(exe, args, environment: environment, input: input)) }
                catch { c.resume(throwing: error) }
            }
        }
    }

    public struct SpawnError: Error, CustomStringConvertible {
        public let description: String
    }

    /// A started child with pipes on its stdin, stdout and stderr (our ends).
    struct Piped {
        let pid: pid_t
        let stdin: Int32
        let stdout: Int32
        let stderr: Int32
    }

    /// posix_spawn with all three standard streams on pipes; SIGPIPE is ignored so a child that stops reading
    /// surfaces as a write error instead of killing us.
    static func spawnPiped(_ exe: String, _ args: [String], environment: [String: String]) throws -> Piped {
        var inPipe: [Int32] = [0, 0], outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard pipe(&inPipe) == 0, pipe(&outPipe) == 0, pipe(&errPipe) == 0 else { throw SpawnError(description: "pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for fd in [inPipe[1], outPipe[0], errPipe[0], inPipe[0], outPipe[1], errPipe[1]] { posix_spawn_file_actions_addclose(&actions, fd) }
        let argv = ([exe] + args).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for e in envp { free(e) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, exe, &actions, nil, argv, envp)
        close(inPipe[0]); close(outPipe[1]); close(errPipe[1])
        guard rc == 0 else {
            close(inPipe[1]); close(outPipe[0]); close(errPipe[0])
            throw SpawnError(description: "cannot start \(exe): \(String(cString: strerror(rc)))")
        }
        signal(SIGPIPE, SIG_IGN)
        return Piped(pid: pid, stdin: inPipe[1], stdout: outPipe[0], stderr: errPipe[0])
    }

    static func runBlocking(_ exe: String, _ args: [String], environment: [String: String], input: [UInt8]) throws -> Output {
        let child = try spawnPiped(exe, args, environment: environment)
        let pid = child.pid
        // Write stdin and drain stderr on their own threads so a child that answers before reading everything
        // (or fills stderr) cannot deadlock us.
        let inFD = child.stdin, errFD = child.stderr
        let writer = Thread {
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
        writer.start()
        let errBox = ByteBox()
        let errDone = DispatchSemaphore(value: 0)
        let errThread = Thread {
            errBox.set(readAll(errFD))
            errDone.signal()
        }
        errThread.start()
        let outBytes = readAll(child.stdout)
        errDone.wait()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Output(status: code, stdout: outBytes, stderr: errBox.get())
    }

    static func readAll(_ fd: Int32) -> [UInt8] {
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
}

final class ByteBox: Sendable {
    private let bytes = Mutex<[UInt8]>([])
    func set(_ b: [UInt8]) { bytes.withLock { $0 = b } }
    func get() -> [UInt8] { bytes.withLock { $0 } }
}
