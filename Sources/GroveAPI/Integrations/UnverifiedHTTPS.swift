import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One HTTPS request that does not verify the server's certificate, for log sinks configured with
/// `tls_verify: false` (an internal collector with a self-signed certificate). URLSession on Linux cannot skip
/// verification, so this speaks HTTP/1.1 over NIOSSL itself: one request per connection, the answer bounded.
enum UnverifiedHTTPS {
    static func send(_ method: String, url: URL, headers: [(String, String)], body: [UInt8], timeout: TimeInterval) async throws -> OutboundHTTP.Response {
        guard let host = url.host else { throw OutboundHTTP.Failure(description: "\(url) has no host") }
        let port = url.port ?? 443
        var target = url.path.isEmpty ? "/" : url.path
        if let q = url.query { target += "?" + q }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        let context = try NIOSSLContext(configuration: tls)
        let sni = host.contains(":") || host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : host
        let promise = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: OutboundHTTP.Response.self)
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(Int64(timeout)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: sni))
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(Collector(promise: promise))
                }
            }
        let channel: Channel
        do { channel = try await bootstrap.connect(host: host, port: port).get() } catch {
            promise.fail(error)
            throw OutboundHTTP.Failure(description: "cannot connect to \(host):\(port): \(error)")
        }
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: target)
        head.headers.add(name: "Host", value: url.port.map { "\(host):\($0)" } ?? host)
        head.headers.add(name: "Content-Length", value: String(body.count))
        head.headers.add(name: "Connection", value: "close")
        for (k, v) in headers { head.headers.add(name: k, value: v) }
        var buffer = channel.allocator.buffer(capacity: body.count)
        buffer.writeBytes(body)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(buffer)), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        let deadline = channel.eventLoop.scheduleTask(in: .seconds(Int64(timeout))) {
            promise.fail(OutboundHTTP.Failure(description: "no answer from \(host):\(port) within \(Int(timeout)) s"))
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        do { return try await promise.futureResult.get() } catch let e as OutboundHTTP.Failure { throw e } catch {
            throw OutboundHTTP.Failure(description: "\(url): \(error)")
        }
    }

    /// Gathers the answer's status and (at most 64 KiB of) body, then closes.
    final class Collector: ChannelInboundHandler {
        typealias InboundIn = HTTPClientResponsePart
        let promise: EventLoopPromise<OutboundHTTP.Response>
        var status = 0
        var body: [UInt8] = []
        init(promise: EventLoopPromise<OutboundHTTP.Response>) { self.promise = promise }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h): status = Int(h.status.code)
            case .body(var b): if body.count < 64 * 1024 { body += b.readBytes(length: min(b.readableBytes, 64 * 1024 - body.count)) ?? [] }
            case .end:
                promise.succeed(OutboundHTTP.Response(status: status, body: body))
                context.close(promise: nil)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            promise.fail(error)
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            promise.fail(OutboundHTTP.Failure(description: "the connection closed before an answer"))
        }
    }
}
