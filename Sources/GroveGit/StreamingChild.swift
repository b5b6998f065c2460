import Foundation
import GroveProcess
import Synchronization

/// A child process whose stdin is written and stdout read while it runs: git's pack protocols stream
/// (a push's upload and the hook messages that answer it), so nothing may wait for the whole input or output.
public final class StreamingChild: Sendable {
    private let output: AsyncStream<[UInt8]>
    private let pid: pid_t
    private let inFD: Int32
    private let errBox = Bytes()
    private let errDone = DispatchSemaphore(value: 0)
    private let inputClosed = Mutex(false)

    public init(_ exe: String, _ args: [String], environment: [String: String]) throws {
        let child = try ChildProcess.spawnPiped(exe, args, environment: environment)
        pid = child.pid
        inFD = child.stdin
        // 1 MiB pipes (F_SETPIPE_SZ, Linux) let uploads and downloads run ahead of git instead of stepping 64 KiB at a time.
        let outFD = child.stdout, errFD = child.stderr
        for fd in [inFD, outFD] { _ = fcntl(fd, 1031, Int32(1 << 20)) }
        let (stream, continuation) = AsyncStream.makeStream(of: [UInt8].self, bufferingPolicy: .unbounded)
        output = stream
        Thread.detachNewThread {
            var buf = [UInt8](repeating: 0, count: 1 << 18)
            while true {
                let n = buf.withUnsafeMutableBytes { read(outFD, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                continuation.yield(Array(buf[0..<n]))
            }
            close(outFD)
            continuation.finish()
        }
        let box = errBox, done = errDone
        Thread.detachNewThread {
            box.set(ChildProcess.readAll(errFD))
            done.signal()
        }
    }

    /// The next chunk of stdout, nil at its end. One reader at a time.
    public func next() async -> [UInt8]? {
        // An AsyncStream's iterators share its buffer: a fresh one each call continues where the last left off.
        var it = output.makeAsyncIterator()
        return await it.next()
    }

    /// Writes to stdin (blocking work runs off the cooperative pool). Errors when the child stopped reading.
    public func write(_ bytes: [UInt8]) async throws {
        guard !bytes.isEmpty else { return }
        let fd = inFD
        let ok: Bool = await withCheckedContinuation { c in
            Thread.detachNewThread {
                var offset = 0
                let done = bytes.withUnsafeBytes { buf -> Bool in
                    guard let base = buf.baseAddress else { return true }
                    while offset < buf.count {
                        let n = Foundation.write(fd, base + offset, buf.count - offset)
                        if n < 0 && errno == EINTR { continue }
                        if n <= 0 { return false }
                        offset += n
                    }
                    return true
                }
                c.resume(returning: done)
            }
        }
        if !ok { throw ChildProcess.SpawnError("the child process stopped reading its input") }
    }

    public func closeInput() {
        let fd = inFD
        inputClosed.withLock { closed in
            if !closed { closed = true; close(fd) }
        }
    }

    /// Waits for the exit; returns the status and everything written to stderr.
    public func wait() async -> (status: Int32, stderr: [UInt8]) {
        closeInput()
        let pid = self.pid, done = errDone, box = errBox
        return await withCheckedContinuation { c in
            Thread.detachNewThread {
                done.wait()
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
                c.resume(returning: (code, box.get()))
            }
        }
    }

    public func kill() { _ = Foundation.kill(pid, SIGTERM) }
}
