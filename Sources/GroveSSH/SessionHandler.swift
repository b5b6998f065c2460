import Foundation
import Logging
import NIOCore
import NIOSSH

/// One session channel: collects the terminal and variables the client asks for, then starts the shell, command
/// or subsystem through the gate and relays its streams until it exits, ending with its exit status.
final class SessionHandler: ChannelInboundHandler {
    typealias InboundIn = SSHChannelData

    let gate: any SSHGate
    let login: SSHLogin
    let logger: Logger
    var environment: [String: String] = [:]
    var terminal: SSHTerminal?
    var pump: SessionPump?
    var started = false
    /// Input that arrived before the process started, and whether the client already ended its input.
    var early: [[UInt8]] = []
    var inputClosed = false

    init(gate: any SSHGate, login: SSHLogin, logger: Logger) {
        self.gate = gate; self.login = login; self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        context.channel.setOption(ChannelOptions.allowRemoteHalfClosure, value: true).whenFailure { _ in }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let message = unwrapInboundIn(data)
        guard case .channel = message.type, case .byteBuffer(let buffer) = message.data else { return }
        let bytes = Array(buffer.readableBytesView)
        if let pump { pump.write(bytes) } else { early.append(bytes) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        pump?.hangUp()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case let e as SSHChannelRequestEvent.PseudoTerminalRequest:
            terminal = SSHTerminal(term: e.term, columns: e.terminalCharacterWidth, rows: e.terminalRowHeight)
            reply(context, e.wantReply, ok: !started)
        case let e as SSHChannelRequestEvent.EnvironmentRequest:
            environment[e.name] = e.value
            reply(context, e.wantReply, ok: true)
        case let e as SSHChannelRequestEvent.ShellRequest:
            start(context, .shell, wantReply: e.wantReply)
        case let e as SSHChannelRequestEvent.ExecRequest:
            start(context, .exec(e.command), wantReply: e.wantReply)
        case let e as SSHChannelRequestEvent.SubsystemRequest:
            start(context, .subsystem(e.subsystem), wantReply: e.wantReply)
        case let e as SSHChannelRequestEvent.WindowChangeRequest:
            pump?.resize(columns: e.terminalCharacterWidth, rows: e.terminalRowHeight)
        case let e as SSHChannelRequestEvent.SignalRequest:
            pump?.signal(named: e.signal)
        case let e as ChannelEvent where e == .inputClosed:
            if let pump { pump.closeInput() } else { inputClosed = true }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func reply(_ context: ChannelHandlerContext, _ wantReply: Bool, ok: Bool) {
        guard wantReply else { return }
        if ok { context.triggerUserOutboundEvent(ChannelSuccessEvent(), promise: nil) } else { context.triggerUserOutboundEvent(ChannelFailureEvent(), promise: nil) }
    }

    func start(_ context: ChannelHandlerContext, _ kind: SSHSessionRequest.Kind, wantReply: Bool) {
        guard !started else { reply(context, wantReply, ok: false); return }
        started = true
        let streams: SessionStreams
        do { streams = try SessionStreams(terminal: terminal) } catch {
            reply(context, wantReply, ok: false)
            context.close(promise: nil)
            return
        }
        reply(context, wantReply, ok: true)
        let pump = SessionPump(channel: context.channel, streams: streams)
        self.pump = pump
        for bytes in early { pump.write(bytes) }
        early = []
        if inputClosed { pump.closeInput() }
        let request = SSHSessionRequest(kind: kind, environment: environment, terminal: terminal)
        let (gate, login, logger) = (gate, login, logger)
        Task {
            do {
                let running = try await gate.start(request, login: login, stdio: streams.child)
                streams.closeChildEnds()
                await pump.run(running)
            } catch {
                streams.closeChildEnds()
                let message = (error as? SSHRefusal)?.description ?? "the session could not start"
                if !(error is SSHRefusal) { logger.warning("ssh: session failed", metadata: ["user": "\(login.username)", "error": "\(error)"]) }
                await pump.refuse(message)
            }
        }
    }
}
