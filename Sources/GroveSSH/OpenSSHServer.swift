import Foundation
import GroveCredentials
import GroveProcess
import Logging
import Synchronization

/// OpenSSH's sshd as Grove's SSH server: every key type and certificate OpenSSH speaks (RSA included, which the
/// built-in server cannot), with Grove deciding everything through the same gate.
///
/// sshd runs in a mount namespace of its own (bubblewrap) where `/etc/passwd` lists an account per SSH user name
/// (`OpenSSHAccounts`), `/run/grove-ssh` holds this `grove` binary and the bridge's socket, and nothing else
/// differs from the host. Keys are looked up with `grove ssh:authorize` (sshd's `AuthorizedKeysCommand`), every
/// session is `grove ssh:relay` (its `ForceCommand`), which hands the session's descriptors to Grove and returns
/// the exit status; sshd itself forwards `ssh -L` tunnels, only to the endpoints the login's key line permits.
public final class OpenSSHServer: SSHListener {
    public static let sshd = "/usr/sbin/sshd"
    static let bwrap = "/usr/bin/bwrap"
    /// Where the helper binary and the bridge's socket appear inside sshd's namespace.
    static let inside = "/run/grove-ssh"

    public let port: Int
    let accounts: OpenSSHAccounts
    let bridge: SSHBridge
    let forwarder: LoopbackForwarder
    let gate: any SSHGate
    let logger: Logger
    private let state = Mutex<(pid: pid_t?, stopping: Bool)>((nil, false))

    /// Whether sshd can be used here: installed, with bubblewrap, and Grove running as root (sshd switches to each
    /// account's uid).
    public static func isAvailable(executable: String) -> Bool {
        geteuid() == 0 && FileManager.default.isExecutableFile(atPath: sshd) && FileManager.default.isExecutableFile(atPath: bwrap)
            && (executable as NSString).lastPathComponent == "grove"
    }

    /// Writes sshd's files under `directory` (private), starts the bridge and sshd, and returns once sshd listens.
    public static func start(host: String, port: Int, hostKey: SSHHostKey, authority: [UInt8], directory: String, executable: String,
                             gate: any SSHGate, logger: Logger) async throws -> OpenSSHServer {
        let fm = FileManager.default
        let bridgeDir = (directory as NSString).appendingPathComponent("bridge")
        let emptyDir = (directory as NSString).appendingPathComponent("empty")
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // Reached only through the bind in sshd's namespace (the data directory above stays private).
        for dir in [bridgeDir, emptyDir] {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            chmod(dir, 0o755)
        }
        let keyPath = (directory as NSString).appendingPathComponent("host_ed25519_key")
        guard fm.createFile(atPath: keyPath, contents: Data(hostKey.openSSHPrivateKeyFile.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw SSHRefusal("cannot write \(keyPath)")
        }
        let chosen = port == 0 ? try freePort(host) : port
        let configPath = (directory as NSString).appendingPathComponent("sshd_config")
        let listen = host.contains(":") ? "[\(host)]:\(chosen)" : "\(host):\(chosen)"
        guard fm.createFile(atPath: configPath, contents: Data(config(listen: listen, hostKey: keyPath).utf8), attributes: [.posixPermissions: 0o600]) else {
            throw SSHRefusal("cannot write \(configPath)")
        }
        let accounts = OpenSSHAccounts(directory: directory)
        try accounts.update(await gate.accountNames())
        let forwarder = LoopbackForwarder(accounts: accounts, gate: gate, logger: logger)
        let bridge: SSHBridge
        do {
            bridge = try SSHBridge(path: (bridgeDir as NSString).appendingPathComponent("bridge.sock"), gate: gate, accounts: accounts,
                                   authority: authority, forwarder: forwarder, logger: logger)
        } catch {
            await forwarder.stop()
            throw error
        }
        bridge.start()
        let server = OpenSSHServer(port: chosen, accounts: accounts, bridge: bridge, forwarder: forwarder, gate: gate, logger: logger)
        let argv = [bwrap, "--die-with-parent", "--dev-bind", "/", "/",
                    "--ro-bind", accounts.passwdPath, "/etc/passwd", "--ro-bind", accounts.groupPath, "/etc/group",
                    "--bind", emptyDir, "/run/sshd",
                    "--tmpfs", inside, "--ro-bind", executable, inside + "/grove", "--bind", bridgeDir, inside + "/bridge",
                    sshd, "-D", "-e", "-f", configPath]
        do {
            try await server.run(argv)
        } catch {
            bridge.stop()
            await forwarder.stop()
            throw error
        }
        return server
    }

    init(port: Int, accounts: OpenSSHAccounts, bridge: SSHBridge, forwarder: LoopbackForwarder, gate: any SSHGate, logger: Logger) {
        self.port = port; self.accounts = accounts; self.bridge = bridge; self.forwarder = forwarder
        self.gate = gate; self.logger = logger
    }

    static func config(listen: String, hostKey: String) -> String {
        let helper = inside + "/grove"
        let socket = inside + "/bridge/bridge.sock"
        return """
        # Written by grove serve at each start; sshd runs in Grove's own namespace with this file only.
        ListenAddress \(listen)
        HostKey \(hostKey)
        PidFile none
        UsePAM no
        PermitRootLogin no
        PubkeyAuthentication yes
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        HostbasedAuthentication no
        AuthorizedKeysFile none
        AuthorizedKeysCommand \(helper) ssh:authorize --socket \(socket) %u %t %k
        AuthorizedKeysCommandUser \(OpenSSHAccounts.authorizerName)
        ForceCommand \(helper) ssh:relay --socket \(socket)
        ExposeAuthInfo yes
        StrictModes no
        PermitUserEnvironment no
        PermitUserRC no
        AcceptEnv LANG LC_* TZ PLATFORMSH_PUSH_NO_WAIT
        AllowTcpForwarding local
        AllowAgentForwarding no
        AllowStreamLocalForwarding no
        X11Forwarding no
        PermitTunnel no
        GatewayPorts no
        PrintMotd no
        PrintLastLog no
        Subsystem sftp \(SSHBridge.sftpMarker)
        LoginGraceTime 30
        ClientAliveInterval 60
        MaxStartups 30:50:200
        LogLevel INFO

        """
    }

    /// Starts sshd and waits for its "Server listening" line; afterwards its log goes to Grove's and it is started
    /// again if it dies while Grove runs.
    private func run(_ argv: [String]) async throws {
        var options = Subprocess.Options(environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
        options.stdin = .null
        options.stdout = .null
        options.stderr = .pipe
        options.ownProcessGroup = true
        let child = try Subprocess.spawn(argv, options)
        state.withLock { $0.pid = child.pid }
        guard let errors = child.stderr else { throw SSHRefusal("sshd started without its log") }
        let listening = await withCheckedContinuation { (c: CheckedContinuation<(Bool, String), Never>) in
            Thread.detachNewThread { [logger] in
                var resumed = false
                var early = ""
                var pending: [UInt8] = []
                var buf = [UInt8](repeating: 0, count: 4096)
                while true {
                    let n = buf.withUnsafeMutableBytes { read(errors, $0.baseAddress, $0.count) }
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    pending += buf[0..<n]
                    while let nl = pending.firstIndex(of: 10) {
                        let line = String(decoding: pending[..<nl], as: UTF8.self)
                        pending.removeSubrange(...nl)
                        if !resumed {
                            early += line + "\n"
                            if line.hasPrefix("Server listening on") { resumed = true; c.resume(returning: (true, early)) }
                        } else {
                            logger.info("sshd: \(line)")
                        }
                    }
                }
                close(errors)
                if !resumed { c.resume(returning: (false, early)) }
            }
        }
        guard listening.0 else {
            _ = await Subprocess.wait(child.pid)
            throw SSHRefusal("sshd did not start: " + listening.1.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        Task { [self] in
            let status = await Subprocess.wait(child.pid)
            let again = state.withLock { s -> Bool in
                s.pid = nil
                return !s.stopping
            }
            guard again else { return }
            logger.error("sshd exited with status \(status); starting it again")
            try? await Task.sleep(for: .seconds(1))
            guard !state.withLock({ $0.stopping }) else { return }
            do { try await run(argv) } catch { logger.error("sshd could not start again: \(error)") }
        }
    }

    /// Gives sshd the accounts of the names served now (called when projects, environments or deployments change).
    public func refreshAccounts() async {
        do { try accounts.update(await gate.accountNames()) } catch { logger.warning("ssh: \(error)") }
    }

    public func stop() async {
        let pid = state.withLock { s -> pid_t? in
            s.stopping = true
            return s.pid
        }
        if let pid { kill(-pid, SIGTERM) }
        bridge.stop()
        await forwarder.stop()
    }

    static func freePort(_ host: String) throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SSHRefusal("cannot pick a port for SSH") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr(host)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw SSHRefusal("cannot pick a port for SSH on \(host)") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
