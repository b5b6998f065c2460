import Foundation
import GroveCredentials
import Logging
import NIOCore
import NIOPosix
import NIOSSH
import Synchronization

/// Grove's SSH server (swift-nio-ssh): public-key and certificate logins decided by an `SSHGate`, session channels
/// (shell, exec, subsystems, with or without a terminal) run by it. Port forwarding and other channel types are
/// refused.
public final class SSHServer: SSHListener {
    let channel: any Channel
    let group: MultiThreadedEventLoopGroup
    /// The address it listens on (the port the OS chose when 0 was asked).
    public let port: Int

    public static func start(host: String, port: Int, hostKey: SSHHostKey, authorities: [String], gate: any SSHGate, logger: Logger) async throws -> SSHServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let trusted = authorities.compactMap { try? NIOSSHPublicKey(openSSHPublicKey: $0) }
        let key = hostKey.privateKey
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socket(SocketOptionLevel(SOL_SOCKET), SO_REUSEADDR), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let connection = Connection()
                    let auth = GateAuthentication(gate: gate, trusted: trusted, connection: connection, logger: logger)
                    let handler = NIOSSHHandler(role: .server(.init(hostKeys: [key], userAuthDelegate: auth)), allocator: channel.allocator) { child, type in
                        guard let login = connection.login else { return child.eventLoop.makeFailedFuture(SSHRefusal("not logged in")) }
                        switch type {
                        case .session:
                            return child.eventLoop.makeCompletedFuture {
                                try child.pipeline.syncOperations.addHandler(SessionHandler(gate: gate, login: login, logger: logger))
                            }
                        case .directTCPIP(let request):
                            return Tunnel.open(child, host: request.targetHost, port: request.targetPort, gate: gate, login: login, logger: logger)
                        case .forwardedTCPIP:
                            return child.eventLoop.makeFailedFuture(SSHRefusal("remote forwarding is not offered"))
                        }
                    }
                    try channel.pipeline.syncOperations.addHandlers([handler, ConnectionErrorHandler(logger: logger)])
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        return SSHServer(channel: channel, group: group, port: channel.localAddress?.port ?? port)
    }

    init(channel: any Channel, group: MultiThreadedEventLoopGroup, port: Int) {
        self.channel = channel; self.group = group; self.port = port
    }

    public func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

/// What one connection's authentication decided, read by its session channels.
final class Connection: Sendable {
    private let state = Mutex<SSHLogin?>(nil)
    var login: SSHLogin? { state.withLock { $0 } }
    func set(_ login: SSHLogin) { state.withLock { $0 = login } }
}

/// Public keys only; each offered key (already proven by its signature) goes to the gate, certificates after
/// their authority, validity and type were checked.
final class GateAuthentication: NIOSSHServerUserAuthenticationDelegate {
    let gate: any SSHGate
    let trusted: [NIOSSHPublicKey]
    let connection: Connection
    let logger: Logger

    init(gate: any SSHGate, trusted: [NIOSSHPublicKey], connection: Connection, logger: Logger) {
        self.gate = gate; self.trusted = trusted; self.connection = connection; self.logger = logger
    }

    var supportedAuthenticationMethods: NIOSSHAvailableUserAuthenticationMethods { .publicKey }

    func requestReceived(request: NIOSSHUserAuthenticationRequest, responsePromise: EventLoopPromise<NIOSSHUserAuthenticationOutcome>) {
        guard case .publicKey(let offered) = request.request else { responsePromise.succeed(.failure); return }
        var claims: SSHCertificateClaims?
        var base = offered.publicKey
        if let cert = NIOSSHCertifiedPublicKey(offered.publicKey) {
            do {
                _ = try cert.validate(principal: cert.validPrincipals.first ?? "", type: .user, allowedAuthoritySigningKeys: trusted)
            } catch {
                logger.info("ssh: certificate refused", metadata: ["user": "\(request.username)", "reason": "\(error)"])
                responsePromise.succeed(.failure)
                return
            }
            claims = SSHCertificateClaims(keyId: cert.keyID, principals: cert.validPrincipals, extensions: cert.extensions)
            base = cert.key
        }
        guard let key = try? SSHPublicKey(String(openSSHPublicKey: base)) else { responsePromise.succeed(.failure); return }
        let attempt = SSHLoginAttempt(username: request.username, key: key, certificate: claims)
        let (gate, connection, logger) = (gate, connection, logger)
        Task {
            if let login = await gate.authenticate(attempt) {
                connection.set(login)
                responsePromise.succeed(.success)
            } else {
                logger.info("ssh: login refused", metadata: ["user": "\(attempt.username)", "key": "\(key.fingerprint)"])
                responsePromise.succeed(.failure)
            }
        }
    }
}

/// Protocol errors end the connection quietly (a scanner, a client that gave up).
final class ConnectionErrorHandler: ChannelInboundHandler {
    typealias InboundIn = Any
    let logger: Logger
    init(logger: Logger) { self.logger = logger }
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("ssh: connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}
