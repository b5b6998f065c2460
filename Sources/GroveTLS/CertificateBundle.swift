import Crypto
import Foundation
import SwiftASN1
import X509

/// A user-supplied TLS certificate, checked the way the router will use it: the certificate, its private key
/// and the chain all parse, the key belongs to the certificate, and the certificate has not expired.
public struct CertificateBundle: Sendable, Equatable {
    public struct IssuerAttribute: Sendable, Equatable {
        public var oid: String
        public var alias: String
        public var value: String
    }

    /// Hex SHA-256 of the certificate's DER bytes: stable, so adding the same certificate twice is detected.
    public let id: String
    /// DNS names the certificate covers (subject alternative names, else the common name).
    public let domains: [String]
    public let issuer: [IssuerAttribute]
    public let expiresAt: Date
    /// Self-signed: issuer and subject are the same name.
    public let isRoot: Bool

    public init(certificate: String, key: String, chain: [String], now: Date = Date()) throws(CertificateError) {
        let cert: Certificate
        do { cert = try Certificate(pemEncoded: certificate) } catch { throw .invalid("certificate", "is not a PEM-encoded X.509 certificate") }
        let privateKey: Certificate.PrivateKey
        do { privateKey = try Certificate.PrivateKey(pemEncoded: key) } catch {
            throw .invalid("key", "is not a PEM-encoded private key (RSA, EC or PKCS#8, unencrypted)")
        }
        guard privateKey.publicKey == cert.publicKey else { throw .invalid("key", "does not match the certificate's public key") }
        for (i, c) in chain.enumerated() {
            guard (try? Certificate(pemEncoded: c)) != nil else { throw .invalid("chain", "entry \(i) is not a PEM-encoded X.509 certificate") }
        }
        guard cert.notValidAfter > now else { throw .invalid("certificate", "expired on \(ISO8601DateFormatter().string(from: cert.notValidAfter))") }

        var der = DER.Serializer()
        do { try der.serialize(cert) } catch { throw .invalid("certificate", "cannot be re-encoded") }
        id = SHA256.hash(data: der.serializedBytes).map { String(format: "%02x", $0) }.joined()
        var names: [String] = []
        if let san = try? cert.extensions.subjectAlternativeNames {
            for n in san { if case .dnsName(let d) = n { names.append(d.lowercased()) } }
        }
        if names.isEmpty { names = Self.attributes(cert.subject).filter { $0.alias == "commonName" }.map { $0.value.lowercased() } }
        domains = names
        issuer = Self.attributes(cert.issuer)
        expiresAt = cert.notValidAfter
        isRoot = cert.issuer == cert.subject
    }

    static let aliases: [String: String] = [
        "2.5.4.3": "commonName", "2.5.4.6": "countryName", "2.5.4.7": "localityName", "2.5.4.8": "stateOrProvinceName",
        "2.5.4.10": "organizationName", "2.5.4.11": "organizationalUnitName", "2.5.4.9": "streetAddress",
        "0.9.2342.19200300.100.1.25": "domainComponent", "1.2.840.113549.1.9.1": "emailAddress",
    ]

    static func attributes(_ name: DistinguishedName) -> [IssuerAttribute] {
        name.flatMap { rdn in
            rdn.map { a in
                let oid = a.type.description
                return IssuerAttribute(oid: oid, alias: aliases[oid] ?? oid, value: String(a.value) ?? a.value.description)
            }
        }
    }

    /// Whether the certificate serves `host`: an exact name or a `*.` wildcard one label deep.
    public func covers(_ host: String) -> Bool { Self.matches(domains, host) }

    public static func matches(_ names: [String], _ host: String) -> Bool {
        let h = host.lowercased()
        return names.contains { n in
            if n == h { return true }
            if n.hasPrefix("*."), let dot = h.firstIndex(of: ".") { return h[h.index(after: dot)...] == n.dropFirst(2) }
            return false
        }
    }
}

public enum CertificateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// field, reason
    case invalid(String, String)
    public var description: String {
        switch self { case .invalid(let f, let r): return "\(f) \(r)" }
    }
}
