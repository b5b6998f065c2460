import Foundation
import GroveCredentials
import GroveSSH
import GroveStore
import Logging

/// Starts the SSH server `--ssh-server` asks for: OpenSSH's sshd when it can run here (or is required), the built-in
/// one otherwise. With sshd, its accounts follow the store: after each activity's work (the epilogue) and whenever
/// other records change.
enum SSHStartup {
    static func start(_ options: APIServer.Options, listen: (host: String, port: Int), hostKey: SSHHostKey, gate: SSHAccessGate,
                      authority: SSHCertificateAuthority, store: any Store, epilogue: ActivityEpilogue,
                      logger: Logger) async throws -> (any SSHListener, Task<Void, Never>?) {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let openSSH = OpenSSHServer.isAvailable(executable: executable)
        switch options.sshServer {
        case .openssh where !openSSH:
            throw SSHRefusal("--ssh-server openssh needs root, \(OpenSSHServer.sshd) (Debian: openssh-server) and bubblewrap")
        case .openssh, .auto where openSSH:
            let server = try await OpenSSHServer.start(host: listen.host, port: listen.port, hostKey: hostKey, authority: authority.publicKeyBlob,
                                                       directory: (options.dataDir as NSString).appendingPathComponent("ssh/openssh"),
                                                       executable: executable, gate: gate, logger: logger)
            epilogue.set { await server.refreshAccounts() }
            let follower = Task {
                // Activity logs move the change version too; only a change of what answers show can name new accounts.
                var seen: UInt64?
                while !Task.isCancelled {
                    let version = store.changeVersion
                    let answers = store.answerVersion
                    if answers == nil || answers != seen { await server.refreshAccounts() }
                    seen = answers
                    do { try await store.nextChange(after: version, settle: .seconds(1), timeout: .seconds(600), fallback: .seconds(30)) } catch { return }
                }
            }
            return (server, follower)
        default:
            if options.sshServer == .auto {
                logger.notice("ssh: the built-in SSH server runs (Ed25519 and ECDSA keys); OpenSSH's needs root, \(OpenSSHServer.sshd) and bubblewrap")
            }
            let server = try await SSHServer.start(host: listen.host, port: listen.port, hostKey: hostKey,
                                                   authorities: [authority.publicKeyLine(comment: "grove")], gate: gate, logger: logger)
            return (server, nil)
        }
    }
}
