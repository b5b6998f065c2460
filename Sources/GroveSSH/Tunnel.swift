import Logging
import NIOCore
import NIOPosix
import NIOSSH

/// A `direct-tcpip` channel (`ssh -L`, `ssh -W`, the CLI's tunnels): the gate says where it may go (an environment's
/// service endpoints, nothing else); the server connects there and relays bytes both ways until either side ends.
enum Tunnel {
    static func open(_ child: any Channel, host: String, port: Int, gate: any SSHGate, login: SSHLogin, logger: Logger) -> EventLoopFuture<Void> {
        let promise = child.eventLoop.makePromise(of: Void.self)
        Task {
            do {
                let target = try await gate.tunnel(to: host, port: port, login: login)
                let peer = try await ClientBootstrap(group: child.eventLoop)
                    .connectTimeout(.seconds(10))
                    .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                    .connect(host: target.host, port: target.port).get()
                try await child.setOption(ChannelOptions.allowRemoteHalfClosure, value: true).get()
                try await peer.eventLoop.submit {
                    try peer.pipeline.syncOperations.addHandler(TCPSide(ssh: child))
                }.get()
                try await child.eventLoop.submit {
                    try child.pipeline.syncOperations.addHandler(SSHSide(peer: peer))
                }.get()
                promise.succeed(())
            } catch {
                logger.info("ssh: tunnel refused", metadata: ["user": "\(login.username)", "target": "\(host):\(port)", "reason": "\(error)"])
                promise.fail(error)
            }
        }
        return promise.futureResult
    }

    /// Client -> service.
    final class SSHSide: ChannelInboundHandler {
        typealias InboundIn = SSHChannelData
        let peer: any Channel
        init(peer: any Channel) { self.peer = peer }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let message = unwrapInboundIn(data)
            guard case .channel = message.type, case .byteBuffer(let buffer) = message.data else { return }
            peer.writeAndFlush(buffer, promise: nil)
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let e = event as? ChannelEvent, e == .inputClosed { peer.close(mode: .output, promise: nil) }
            context.fireUserInboundEventTriggered(event)
        }

        func channelInactive(context: ChannelHandlerContext) {
            peer.close(promise: nil)
            context.fireChannelInactive()
        }
    }

    /// Service -> client.
    final class TCPSide: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let ssh: any Channel
        init(ssh: any Channel) { self.ssh = ssh }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            ssh.writeAndFlush(SSHChannelData(type: .channel, data: .byteBuffer(unwrapInboundIn(data))), promise: nil)
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let e = event as? ChannelEvent, e == .inputClosed { ssh.close(mode: .output, promise: nil) }
            context.fireUserInboundEventTriggered(event)
        }

        func channelInactive(context: ChannelHandlerContext) {
            ssh.close(promise: nil)
            context.fireChannelInactive()
        }
    }
}
