import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where Grove may send requests on a project's behalf (webhooks, notifications, log sinks, providers' APIs).
/// Addresses of this machine and of private networks are refused unless the operator allows them
/// (`grove serve --allow-private-targets`): a project must not reach Grove's own API, the router's upstreams or
/// another tenant's services through an integration.
public struct OutboundPolicy: Sendable {
    public let allowPrivateTargets: Bool
    public init(allowPrivateTargets: Bool) { self.allowPrivateTargets = allowPrivateTargets }

    public struct Refusal: Error, CustomStringConvertible {
        public let description: String
        init(_ m: String) { description = m }
    }

    /// The URL when it is http(s) to an allowed host; the reason otherwise.
    @discardableResult
    public func check(url text: String) throws -> URL { try checked(url: text).url }

    /// The URL's host resolved once, every address checked, as `host:port:address` entries for curl's resolve list
    /// (git's `http.curloptResolve`): a fetch given them connects where the check looked, whatever the name
    /// resolves to a moment later. Empty when the host is an address itself.
    public func pins(url text: String) throws -> [String] {
        let (url, addresses) = try checked(url: text)
        guard let host = url.host?.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), !Self.isLiteral(host) else { return [] }
        let port = url.port ?? (url.scheme?.lowercased() == "https" ? 443 : 80)
        return addresses.map { "\(host):\(port):\($0.count == 16 ? "[" + Self.text($0) + "]" : Self.text($0))" }
    }

    private func checked(url text: String) throws -> (url: URL, addresses: [[UInt8]]) {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty else {
            throw Refusal("\(text) is not an http:// or https:// URL with a host")
        }
        if url.user != nil || url.password != nil { throw Refusal("put credentials in the integration's secret fields, not in the URL") }
        return (url, try check(host: host))
    }

    static func isLiteral(_ host: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// Resolves `host` and refuses it when any of its addresses is loopback, private, link-local or otherwise
    /// not on the public internet; the addresses otherwise.
    @discardableResult
    public func check(host raw: String) throws -> [[UInt8]] {
        let host = raw.hasPrefix("[") && raw.hasSuffix("]") ? String(raw.dropFirst().dropLast()) : raw
        let addresses = try Self.resolve(host)
        guard !addresses.isEmpty else { throw Refusal("\(host) does not resolve") }
        if allowPrivateTargets { return addresses }
        if let bad = addresses.first(where: { Self.isPrivate($0) }) {
            throw Refusal("\(host) resolves to \(Self.text(bad)), an address of this machine or a private network; "
                          + "the operator can allow such targets with grove serve --allow-private-targets")
        }
        return addresses
    }

    /// The host's addresses (4 or 16 bytes each).
    static func resolve(_ host: String) throws -> [[UInt8]] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, nil, &hints, &res)
        guard rc == 0, let first = res else { throw Refusal("\(host) does not resolve (\(String(cString: gai_strerror(rc))))") }
        defer { freeaddrinfo(first) }
        var out: [[UInt8]] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let ai = cursor {
            if let sa = ai.pointee.ai_addr {
                if ai.pointee.ai_family == AF_INET {
                    sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { p in
                        var a = p.pointee.sin_addr
                        out.append(withUnsafeBytes(of: &a) { Array($0) })
                    }
                } else if ai.pointee.ai_family == AF_INET6 {
                    sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { p in
                        var a = p.pointee.sin6_addr
                        out.append(withUnsafeBytes(of: &a) { Array($0) })
                    }
                }
            }
            cursor = ai.pointee.ai_next
        }
        return out
    }

    /// Whether an address is not a public internet address.
    public static func isPrivate(_ a: [UInt8]) -> Bool {
        if a.count == 4 {
            let (b0, b1) = (a[0], a[1])
            return b0 == 0 || b0 == 10 || b0 == 127 || (b0 == 100 && (b1 & 0xC0) == 64) || (b0 == 169 && b1 == 254)
                || (b0 == 172 && (b1 & 0xF0) == 16) || (b0 == 192 && b1 == 168) || (b0 == 192 && b1 == 0 && a[2] == 0)
                || (b0 == 198 && (b1 & 0xFE) == 18) || b0 >= 224
                // Documentation ranges (TEST-NET-1, 2, 3): never anyone's public service.
                || (b0 == 192 && b1 == 0 && a[2] == 2) || (b0 == 198 && b1 == 51 && a[2] == 100) || (b0 == 203 && b1 == 0 && a[2] == 113)
        }
        guard a.count == 16 else { return true }
        if a[0..<15].allSatisfy({ $0 == 0 }) { return true }  // :: and ::1
        if a[0..<10].allSatisfy({ $0 == 0 }) && a[10] == 0xFF && a[11] == 0xFF { return isPrivate(Array(a[12..<16])) }  // v4-mapped
        if a[0..<12].allSatisfy({ $0 == 0 }) { return isPrivate(Array(a[12..<16])) }  // v4-compatible
        if a[0] == 0x64 && a[1] == 0xFF && a[2] == 0x9B { return isPrivate(Array(a[12..<16])) }  // NAT64
        return (a[0] & 0xFE) == 0xFC || (a[0] == 0xFE && (a[1] & 0xC0) == 0x80) || a[0] == 0xFF || (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0D && a[3] == 0xB8)
    }

    static func text(_ a: [UInt8]) -> String {
        if a.count == 4 { return a.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: a.count, by: 2).map { String(UInt16(a[$0]) << 8 | UInt16(a[$0 + 1]), radix: 16) }.joined(separator: ":")
    }
}
