import Foundation
import GroveProcess
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Where sshd's tunnels land when environments have networks of their own. A client forwards to a service as the
/// application names it (`127.0.0.1:<port>`), and sshd connects exactly there, on the host; the service listens on
/// that address inside its environment's namespace instead. So Grove listens on the host's `127.0.0.1:<port>` and,
/// for each connection, finds which SSH account made it (the socket's owner uid, from `/proc/net/tcp`: sshd runs a
/// login's forwarding as the account's uid) and connects it to that account's environment, if the endpoint is one
/// of its application's relationships now. Connections from anyone else are closed.
final class LoopbackForwarder: Sendable {
    let group: MultiThreadedEventLoopGroup
    let accounts: OpenSSHAccounts
    let gate: any SSHGate
    let logger: Logger
    private let listeners = Mutex<[Int: any Channel]>([:])

    init(accounts: OpenSSHAccounts, gate: any SSHGate, logger: Logger) {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.accounts = accounts; self.gate = gate; self.logger = logger
    }

    /// Listens on `127.0.0.1:port` unless it already does; false when the port is someone else's.
    func ensure(port: Int) async -> Bool {
        if listeners.withLock({ $0[port] != nil }) { return true }
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socket(SocketOptionLevel(SOL_SOCKET), SO_REUSEADDR), value: 1)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelOption(ChannelOptions.autoRead, value: false)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture { self.accepted(channel, port: port) }
            }
        guard let channel = try? await bootstrap.bind(host: "127.0.0.1", port: port).get() else { return false }
        let kept = listeners.withLock { l -> Bool in
            guard l[port] == nil else { return false }
            l[port] = channel
            return true
        }
        if !kept { try? await channel.close() }
        return true
    }

    private func accepted(_ channel: any Channel, port: Int) {
        guard let peerPort = channel.remoteAddress?.port else { channel.close(promise: nil); return }
        Task {
            let uid = Self.owner(localPort: peerPort, remotePort: port)
            let name = uid.flatMap { accounts.name(of: $0) }
            guard let name, let endpoint = await gate.endpoints(target: name).first(where: { $0.host == "127.0.0.1" && $0.port == port }) else {
                logger.info("ssh: tunnel connection refused", metadata: ["port": "\(port)", "uid": "\(uid.map(String.init) ?? "unknown")", "account": "\(name ?? "none")"])
                try? await channel.close()
                return
            }
            do {
                let peer = try await ClientBootstrap(group: channel.eventLoop)
                    .connectTimeout(.seconds(10))
                    .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                    .connect(host: endpoint.reachHost, port: port).get()
                try await peer.pipeline.addHandler(Splice(partner: channel)).get()
                try await channel.pipeline.addHandler(Splice(partner: peer)).get()
                try await channel.setOption(ChannelOptions.autoRead, value: true).get()
            } catch {
                logger.info("ssh: tunnel to \(endpoint.reachHost):\(port) failed: \(error)")
                try? await channel.close()
            }
        }
    }

    /// The uid owning the TCP socket `127.0.0.1:localPort` connected to `127.0.0.1:remotePort` (`/proc/net/tcp`).
    static func owner(localPort: Int, remotePort: Int) -> uid_t? {
        // Read to its end (proc files report a size of 0, which Foundation's readers trust).
        let fd = open("/proc/net/tcp", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        let table = String(decoding: Subprocess.readAll(fd), as: UTF8.self)  // closes fd
        let local = "0100007F:" + Self.hex(localPort), remote = "0100007F:" + Self.hex(remotePort)
        for line in table.split(separator: "\n").dropFirst() {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count > 7, f[1] == local, f[2] == remote else { continue }
            return uid_t(f[7])
        }
        return nil
    }

    /// A port as `/proc/net/tcp` writes it: four upper-case hex digits.
    static func hex(_ port: Int) -> String {
        let digits = String(port, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    func stop() async {
        let all = listeners.withLock { l -> [any Channel] in
            defer { l = [:] }
            return Array(l.values)
        }
        for c in all { try? await c.close() }
        try? await group.shutdownGracefully()
    }

    /// One direction of a spliced pair: what arrives goes to the partner; an end of input half-closes it.
    final class Splice: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let partner: any Channel
        init(partner: any Channel) { self.partner = partner }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            partner.writeAndFlush(unwrapInboundIn(data), promise: nil)
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let e = event as? ChannelEvent, e == .inputClosed { partner.close(mode: .output, promise: nil) }
            context.fireUserInboundEventTriggered(event)
        }

        func channelInactive(context: ChannelHandlerContext) {
            partner.close(promise: nil)
            context.fireChannelInactive()
        }
    }
}
