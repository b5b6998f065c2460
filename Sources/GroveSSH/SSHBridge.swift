import Foundation
import GroveCredentials
import Logging
import Synchronization

/// The messages between OpenSSH's side (`grove ssh:authorize`, `grove ssh:relay`, run by sshd) and Grove's.
public enum SSHBridgeMessage {
    /// sshd asks which lines of an authorized_keys file would let `key` (of `type`, base64) log in as `user`.
    public struct Authorize: Codable, Sendable {
        public var op = "authorize"
        public var user: String
        public var type: String
        public var key: String
        public init(user: String, type: String, key: String) { self.user = user; self.type = type; self.key = key }
    }

    /// A session sshd started after a login: what the client asked (no command: a shell), the key it logged in with
    /// (`ExposeAuthInfo`), the variables it sent; the session's descriptors come with the message.
    public struct Session: Codable, Sendable {
        public var op = "session"
        public var user: String
        public var auth: String
        public var command: String?
        public var environment: [String: String]
        public var term: String?
        public init(user: String, auth: String, command: String?, environment: [String: String], term: String?) {
            self.user = user; self.auth = auth; self.command = command; self.environment = environment; self.term = term
        }
    }

    /// The answer to either: authorized_keys lines, or a session's exit status (and a refusal's message).
    public struct Reply: Codable, Sendable {
        public var lines: [String]?
        public var exit: Int32?
        public var message: String?
        public init(lines: [String]? = nil, exit: Int32? = nil, message: String? = nil) { self.lines = lines; self.exit = exit; self.message = message }
    }

    struct Op: Codable { var op: String }
}

/// Grove's end of the OpenSSH front: a Unix socket only sshd's helpers reach (its directory is bound into sshd's
/// namespace, and each caller's uid is checked). sshd's key lookups are answered through the gate; sessions arrive
/// with their descriptors and run through the gate exactly like the built-in server's, the helper waiting for the
/// exit status.
final class SSHBridge: Sendable {
    let listener: Int32
    let gate: any SSHGate
    let accounts: OpenSSHAccounts
    let authority: [UInt8]
    let forwarder: LoopbackForwarder
    let logger: Logger
    private let stopped = Mutex(false)

    /// The variables sessions are handed (what the built-in server's clients may send).
    static let sessionVariables: Set<String> = ["LANG", "TZ", "PLATFORMSH_PUSH_NO_WAIT"]
    /// What `Subsystem sftp` names in sshd's configuration: the forced command sees it as the original command.
    static let sftpMarker = "/grove/subsystem/sftp"

    init(path: String, gate: any SSHGate, accounts: OpenSSHAccounts, authority: [UInt8], forwarder: LoopbackForwarder, logger: Logger) throws {
        listener = try UnixSocket.listen(path, mode: 0o666)
        self.gate = gate; self.accounts = accounts; self.authority = authority; self.forwarder = forwarder; self.logger = logger
    }

    func start() {
        Thread.detachNewThread { [self] in
            while true {
                let fd = accept(listener, nil, nil)
                if fd < 0 {
                    if errno == EINTR || errno == ECONNABORTED { continue }
                    if stopped.withLock({ $0 }) { return }
                    if errno == EMFILE || errno == ENFILE { usleep(100_000); continue }
                    return
                }
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                Thread.detachNewThread { self.serve(fd) }
            }
        }
    }

    func stop() {
        stopped.withLock { $0 = true }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// One caller: its message (and descriptors), then the answer.
    private func serve(_ fd: Int32) {
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard let uid = UnixSocket.peerUID(fd), let (payload, fds) = try? UnixSocket.receive(fd) else { close(fd); return }
        guard let op = try? JSONDecoder().decode(SSHBridgeMessage.Op.self, from: Data(payload)) else {
            for f in fds { close(f) }
            close(fd)
            return
        }
        let done = DispatchSemaphore(value: 0)
        Task {
            defer { done.signal() }
            switch op.op {
            case "authorize" where uid == accounts.authorizerUID && fds.isEmpty:
                guard let m = try? JSONDecoder().decode(SSHBridgeMessage.Authorize.self, from: Data(payload)) else { break }
                let lines = await authorizedKeys(m)
                reply(fd, SSHBridgeMessage.Reply(lines: lines))
            case "session" where fds.count == 3:
                guard let m = try? JSONDecoder().decode(SSHBridgeMessage.Session.self, from: Data(payload)), accounts.uid(of: m.user) == uid else {
                    for f in fds { close(f) }
                    break
                }
                await session(m, fds: fds, connection: fd)
            default:
                for f in fds { close(f) }
            }
        }
        done.wait()
        close(fd)
    }

    private func reply(_ fd: Int32, _ reply: SSHBridgeMessage.Reply) {
        guard let data = try? JSONEncoder().encode(reply) else { return }
        try? UnixSocket.send(fd, Array(data))
    }

    /// The attempt an offered key or certificate (type and base64 as sshd gives them) makes, or nil when it is not one.
    func attempt(user: String, type: String, base64: String) -> SSHLoginAttempt? {
        if type.hasSuffix("-cert-v01@openssh.com") {
            guard let blob = Data(base64Encoded: base64) else { return nil }
            do {
                let cert = try SSHCertificate(blob: Array(blob), authority: authority)
                return SSHLoginAttempt(username: user, key: cert.key,
                                       certificate: SSHCertificateClaims(keyId: cert.keyId, principals: cert.principals, extensions: cert.extensions))
            } catch {
                logger.info("ssh: certificate refused", metadata: ["user": "\(user)", "reason": "\(error)"])
                return nil
            }
        }
        guard let key = try? SSHPublicKey(type + " " + base64) else { return nil }
        return SSHLoginAttempt(username: user, key: key, certificate: nil)
    }

    /// sshd's question for one key: a line that lets exactly it in, with what the login may do, or none.
    func authorizedKeys(_ m: SSHBridgeMessage.Authorize) async -> [String] {
        guard accounts.uid(of: m.user) != nil, let attempt = attempt(user: m.user, type: m.type, base64: m.key) else { return [] }
        guard await gate.authenticate(attempt) != nil else {
            logger.info("ssh: login refused", metadata: ["user": "\(m.user)", "key": "\(attempt.key.fingerprint)"])
            return []
        }
        // No agent, X11 or remote forwarding ever; a terminal for shells; local forwarding to the target's service
        // endpoints only, when it has any (without a permitopen list sshd would allow every destination).
        var options = ["restrict"]
        if accounts.isTarget(m.user) {
            options.append("pty")
            // sshd connects where the client names the endpoint; where the service is elsewhere (its environment's
            // network), Grove's forwarder listens there and takes it on.
            var permitted: [SSHEndpoint] = []
            for e in await gate.endpoints(target: m.user) {
                if e.reachHost == e.host {
                    permitted.append(e)
                } else if e.host == "127.0.0.1", await forwarder.ensure(port: e.port) {
                    permitted.append(e)
                }
            }
            if !permitted.isEmpty {
                options.append("port-forwarding")
                options += permitted.map { "permitopen=\"\($0.host):\($0.port)\"" }
            }
        }
        let key: String
        if let cert = attempt.certificate {
            // sshd checks the certificate again itself (authority, validity, principal) before it accepts it.
            guard let principal = cert.principals.first, principal.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else { return [] }
            options.insert("cert-authority", at: 0)
            options.append("principals=\"\(principal)\"")
            key = "ssh-ed25519 " + Data(authority).base64EncodedString()
        } else {
            key = attempt.key.canonical
        }
        return [options.joined(separator: ",") + " " + key]
    }

    /// Runs a session sshd started: the login is decided again from the key sshd accepted, then the gate starts it
    /// on the descriptors sshd gave the helper; the helper gets the exit status (or the refusal) when it ends.
    private func session(_ m: SSHBridgeMessage.Session, fds: [Int32], connection: Int32) async {
        var closed = false
        func closeOurs() { if !closed { closed = true; for f in Set(fds) { close(f) } } }
        defer { closeOurs() }
        let offered = m.auth.split(separator: "\n").compactMap { line -> (String, String)? in
            let parts = line.split(separator: " ")
            guard parts.count >= 3, parts[0] == "publickey" else { return nil }
            return (String(parts[1]), String(parts[2]))
        }
        guard let (type, base64) = offered.last, let attempt = attempt(user: m.user, type: type, base64: base64),
              let login = await gate.authenticate(attempt) else {
            reply(connection, SSHBridgeMessage.Reply(exit: 1, message: "your login is no longer valid"))
            return
        }
        let kind: SSHSessionRequest.Kind
        switch m.command {
        case nil: kind = .shell
        case Self.sftpMarker?: kind = .subsystem("sftp")
        case let command?: kind = .exec(command)
        }
        let isTerminal = isatty(fds[0]) == 1
        var terminal: SSHTerminal?
        if isTerminal {
            var size = winsize()
            _ = ioctl(fds[0], UInt(TIOCGWINSZ), &size)
            terminal = SSHTerminal(term: m.term ?? "xterm", columns: Int(size.ws_col), rows: Int(size.ws_row))
        }
        let variables = m.environment.filter { Self.sessionVariables.contains($0.key) || $0.key.hasPrefix("LC_") }
        let request = SSHSessionRequest(kind: kind, environment: variables, terminal: terminal)
        let running: SSHRunning
        do {
            running = try await gate.start(request, login: login, stdio: SSHStdio(stdin: fds[0], stdout: fds[1], stderr: fds[2], terminal: isTerminal))
        } catch {
            let message = (error as? SSHRefusal)?.description ?? "the session could not start"
            if !(error is SSHRefusal) { logger.warning("ssh: session failed", metadata: ["user": "\(m.user)", "error": "\(error)"]) }
            reply(connection, SSHBridgeMessage.Reply(exit: 1, message: message))
            return
        }
        closeOurs()
        // The helper going away (sshd ended the session) hangs up on the process.
        let finished = Mutex(false)
        async let watched: Void = withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                var byte: UInt8 = 0
                var off = timeval(tv_sec: 0, tv_usec: 0)
                setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &off, socklen_t(MemoryLayout<timeval>.size))
                while recv(connection, &byte, 1, 0) < 0 && errno == EINTR {}
                if !finished.withLock({ $0 }) { running.signal(SIGHUP) }
                c.resume()
            }
        }
        let code = await running.wait()
        finished.withLock { $0 = true }
        reply(connection, SSHBridgeMessage.Reply(exit: code))
        // The watcher returns once the connection is shut down; only then may the caller close it.
        shutdown(connection, Int32(SHUT_RDWR))
        await watched
    }
}
