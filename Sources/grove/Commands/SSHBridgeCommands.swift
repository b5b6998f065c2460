import ArgumentParser
import Foundation
import GroveSSH

/// What sshd runs when Grove drives it (`grove serve` with OpenSSH): not for people, hidden from help.
enum SSHBridgeClient {
    static func exchange(_ socket: String, _ message: some Encodable, fds: [Int32] = []) throws -> SSHBridgeMessage.Reply {
        let fd = try UnixSocket.connect(socket)
        defer { close(fd) }
        try UnixSocket.send(fd, Array(try JSONEncoder().encode(message)), fds: fds)
        let (payload, extra) = try UnixSocket.receive(fd, maxFDs: 0)
        for f in extra { close(f) }
        return try JSONDecoder().decode(SSHBridgeMessage.Reply.self, from: Data(payload))
    }
}

/// sshd's `AuthorizedKeysCommand`: prints the authorized_keys line Grove allows for this user name and key, if any.
struct SSHAuthorizeHelper: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ssh:authorize", abstract: "sshd's key lookup (run by sshd).", shouldDisplay: false)

    @Option var socket: String
    @Argument var user: String
    @Argument var type: String
    @Argument var key: String

    func run() throws {
        let reply = try SSHBridgeClient.exchange(socket, SSHBridgeMessage.Authorize(user: user, type: type, key: key))
        for line in reply.lines ?? [] { print(line) }
    }
}

/// sshd's `ForceCommand`: hands this session's descriptors to Grove, which starts what the client asked in the
/// application's sandbox, and exits with its status.
struct SSHRelayHelper: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ssh:relay", abstract: "sshd's session (run by sshd).", shouldDisplay: false)

    @Option var socket: String

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        let auth = env["SSH_USER_AUTH"].flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? ""
        let passed = env.filter { $0.key == "LANG" || $0.key == "TZ" || $0.key == "PLATFORMSH_PUSH_NO_WAIT" || $0.key.hasPrefix("LC_") }
        let message = SSHBridgeMessage.Session(user: env["USER"] ?? "", auth: auth, command: env["SSH_ORIGINAL_COMMAND"], environment: passed,
                                               term: isatty(0) == 1 ? env["TERM"] : nil)
        // The session's terminal (if any) goes to the application's shell; this helper only waits.
        signal(SIGHUP, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        signal(SIGQUIT, SIG_IGN)
        let reply: SSHBridgeMessage.Reply
        do {
            reply = try SSHBridgeClient.exchange(socket, message, fds: [0, 1, 2])
        } catch {
            FileHandle.standardError.write(Data("grove: the SSH service is not available (\(error))\n".utf8))
            throw ExitCode(1)
        }
        if let text = reply.message { FileHandle.standardError.write(Data(("grove: " + text + "\n").utf8)) }
        throw ExitCode(reply.exit ?? 1)
    }
}
