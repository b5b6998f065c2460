import Foundation
import NIOCore
import NIOSSH
import Synchronization

/// The descriptors of one session: a pseudo-terminal (its controlling side ours, the terminal the process's three
/// streams) or three pipes.
struct SessionStreams: Sendable {
    /// What the process gets.
    let child: SSHStdio
    /// Where its input goes, and where its output and errors come from (the terminal's master for all with a PTY).
    let input: Int32
    let outputs: [(fd: Int32, type: SSHChannelData.DataType)]
    let master: Int32?

    init(terminal: SSHTerminal?) throws {
        if let terminal {
            // posix_openpt and friends, by hand (Swift's Glibc module does not export them): the multiplexer, then
            // unlock the new terminal and open it by its number.
            let master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
            var unlock: Int32 = 0
            var number: UInt32 = 0
            guard master >= 0, ioctl(master, Self.TIOCSPTLCK, &unlock) == 0, ioctl(master, Self.TIOCGPTN, &number) == 0 else {
                if master >= 0 { close(master) }
                throw SSHRefusal("no pseudo-terminal available")
            }
            let slave = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY)
            guard slave >= 0 else { close(master); throw SSHRefusal("no pseudo-terminal available") }
            for fd in [master, slave] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            Self.resize(master, columns: terminal.columns, rows: terminal.rows)
            let input = dup(master)
            _ = fcntl(input, F_SETFD, FD_CLOEXEC)
            child = SSHStdio(stdin: slave, stdout: slave, stderr: slave, terminal: true)
            self.input = input
            outputs = [(master, .channel)]
            self.master = master
        } else {
            var fds: [[Int32]] = []
            for _ in 0..<3 {
                var p: [Int32] = [0, 0]
                guard pipe(&p) == 0 else { for q in fds { close(q[0]); close(q[1]) }; throw SSHRefusal("no pipes available") }
                for fd in p { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
                fds.append(p)
            }
            child = SSHStdio(stdin: fds[0][0], stdout: fds[1][1], stderr: fds[2][1], terminal: false)
            input = fds[0][1]
            outputs = [(fds[1][0], .channel), (fds[2][0], .stdErr)]
            master = nil
        }
    }

    /// Our copies of the process's ends: closed once it has its own, so its exit is seen as the end of output.
    func closeChildEnds() {
        for fd in Set([child.stdin, child.stdout, child.stderr]) { close(fd) }
    }

    /// Linux's ioctl numbers (asm-generic/ioctls.h).
    static let TIOCGPTN: UInt = 0x8004_5430
    static let TIOCSPTLCK: UInt = 0x4004_5431

    static func resize(_ master: Int32, columns: Int, rows: Int) {
        var size = winsize(ws_row: UInt16(clamping: rows), ws_col: UInt16(clamping: columns), ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)
    }
}

/// Relays a running session: client input to the process (a writer queue, so the event loop never blocks), the
/// process's output to the channel (reader threads that wait for each write, so a slow client slows the process
/// rather than filling memory), then the exit status and the channel's close.
final class SessionPump: Sendable {
    let channel: any Channel
    let streams: SessionStreams
    private let writer = DispatchQueue(label: "grove.ssh.session-input")
    private let running = Mutex<SSHRunning?>(nil)
    private let inputOpen = Mutex(true)
    /// Client input accepted but not yet written to the process, and whether reading from the client is paused for
    /// it: a process that does not read its input must not make the server hold what the client keeps sending.
    private let backlog = Mutex<(bytes: Int, paused: Bool)>((0, false))
    static let pauseAbove = 1 << 20
    static let resumeBelow = 256 << 10

    init(channel: any Channel, streams: SessionStreams) {
        self.channel = channel; self.streams = streams
    }

    func write(_ bytes: [UInt8]) {
        let fd = streams.input
        let pause = backlog.withLock { b -> Bool in
            b.bytes += bytes.count
            guard b.bytes > Self.pauseAbove, !b.paused else { return false }
            b.paused = true
            return true
        }
        if pause { channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in } }
        writer.async {
            defer { self.written(bytes.count) }
            guard self.inputOpen.withLock({ $0 }) else { return }
            var offset = 0
            bytes.withUnsafeBytes { buf in
                guard let base = buf.baseAddress else { return }
                while offset < buf.count {
                    let n = Foundation.write(fd, base + offset, buf.count - offset)
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { return }
                    offset += n
                }
            }
        }
    }

    /// Input reached the process (or was dropped): reading from the client resumes once the backlog is small again.
    private func written(_ count: Int) {
        let resume = backlog.withLock { b -> Bool in
            b.bytes -= count
            guard b.paused, b.bytes < Self.resumeBelow else { return false }
            b.paused = false
            return true
        }
        guard resume else { return }
        let channel = self.channel
        channel.setOption(ChannelOptions.autoRead, value: true).whenSuccess { channel.read() }
    }

    /// The client ended its input: the process reads end-of-file (on a terminal, the client sends ^D itself).
    func closeInput() {
        guard streams.master == nil else { return }
        let fd = streams.input
        writer.async {
            if self.inputOpen.withLock({ let was = $0; $0 = false; return was }) { close(fd) }
        }
    }

    func resize(columns: Int, rows: Int) {
        if let master = streams.master { SessionStreams.resize(master, columns: columns, rows: rows) }
    }

    func signal(named name: String) {
        let signals: [String: Int32] = ["INT": SIGINT, "TERM": SIGTERM, "KILL": SIGKILL, "HUP": SIGHUP, "QUIT": SIGQUIT, "USR1": SIGUSR1, "USR2": SIGUSR2]
        guard let sig = signals[name] else { return }
        running.withLock { $0 }?.signal(sig)
    }

    /// The channel went away: the session's processes are hung up on.
    func hangUp() {
        running.withLock { $0 }?.signal(SIGHUP)
    }

    func run(_ process: SSHRunning) async {
        running.withLock { $0 = process }
        if !channel.isActive { process.signal(SIGHUP) }
        async let status = process.wait()
        await withTaskGroup(of: Void.self) { group in
            for output in streams.outputs {
                group.addTask { await self.relay(output.fd, output.type) }
            }
        }
        let code = await status
        finish(code)
    }

    func refuse(_ message: String) async {
        let buffer = ByteBuffer(string: "grove: " + message + "\n")
        _ = try? await channel.writeAndFlush(SSHChannelData(type: .stdErr, data: .byteBuffer(buffer))).get()
        finish(1)
    }

    private func finish(_ code: Int32) {
        let fd = streams.input
        writer.async { if self.inputOpen.withLock({ let was = $0; $0 = false; return was }) { close(fd) } }
        for output in streams.outputs { close(output.fd) }
        let channel = self.channel
        channel.triggerUserOutboundEvent(SSHChannelRequestEvent.ExitStatus(exitStatus: Int(code))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    /// Reads `fd` until its end (EOF, or EIO once a terminal's last user is gone) and writes each chunk to the channel.
    private func relay(_ fd: Int32, _ type: SSHChannelData.DataType) async {
        let channel = self.channel
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                var buf = [UInt8](repeating: 0, count: 32768)
                while true {
                    let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    let data = SSHChannelData(type: type, data: .byteBuffer(ByteBuffer(bytes: buf[0..<n])))
                    do { try channel.writeAndFlush(data).wait() } catch { break }
                }
                c.resume()
            }
        }
    }
}
