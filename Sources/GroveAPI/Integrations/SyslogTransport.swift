import Foundation
import NIOCore
import NIOPosix
import NIOSSL
#if canImport(Glibc)
import Glibc
#endif

/// Sends syslog messages: one datagram each over UDP, octet-counted frames (RFC 6587) over TCP or TLS (RFC 5425).
enum SyslogTransport {
    struct Failure: Error, CustomStringConvertible { let description: String }

    static func send(_ messages: [String], host: String, port: Int, transport: String, verifyTLS: Bool, policy: OutboundPolicy) async throws {
        do { try policy.check(host: host) } catch { throw Failure(description: "\(error)") }
        switch transport {
        case "udp": try await udp(messages, host: host, port: port)
        default: try await stream(messages, host: host, port: port, tls: transport == "tls", verify: verifyTLS)
        }
    }

    static func udp(_ messages: [String], host: String, port: Int) async throws {
        try await Task.detached {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
            var res: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, String(port), &hints, &res) == 0, let ai = res else { throw Failure(description: "\(host) does not resolve") }
            defer { freeaddrinfo(ai) }
            let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
            guard fd >= 0 else { throw Failure(description: "no UDP socket: \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            for m in messages {
                // A datagram carries one message; longer ones are cut at a size every receiver takes.
                let bytes = Array(m.utf8.prefix(8192))
                guard sendto(fd, bytes, bytes.count, 0, ai.pointee.ai_addr, ai.pointee.ai_addrlen) >= 0 else {
                    throw Failure(description: "sending to \(host):\(port) failed: \(String(cString: strerror(errno)))")
                }
            }
        }.value
    }

    static func stream(_ messages: [String], host: String, port: Int, tls: Bool, verify: Bool) async throws {
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connectTimeout(.seconds(10))
        if tls {
            var config = TLSConfiguration.makeClientConfiguration()
            if !verify { config.certificateVerification = .none }
            let context = try NIOSSLContext(configuration: config)
            let name = host.contains(":") || host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : host
            bootstrap = bootstrap.channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: name))
                }
            }
        }
        let channel: Channel
        do { channel = try await bootstrap.connect(host: host, port: port).get() } catch {
            throw Failure(description: "cannot connect to \(host):\(port): \(error)")
        }
        var buffer = channel.allocator.buffer(capacity: messages.reduce(0) { $0 + $1.utf8.count + 8 })
        for m in messages { buffer.writeString("\(m.utf8.count) \(m)") }
        do {
            try await channel.writeAndFlush(buffer).get()
            try await channel.close().get()
        } catch {
            try? await channel.close().get()
            throw Failure(description: "sending to \(host):\(port) failed: \(error)")
        }
    }
}
