import Crypto
import Foundation

/// An OpenSSH public key line (`ssh-ed25519 AAAA… comment`), checked the way sshd would read it: a known
/// algorithm, base64 that decodes, a blob naming the same algorithm, and key material of a usable size.
public struct SSHPublicKey: Sendable, Equatable {
    public let algorithm: String
    public let blob: [UInt8]
    public let comment: String
    /// Key size in bits (RSA modulus, curve size, 256 for Ed25519).
    public let bits: Int

    static let algorithms: Set<String> = ["ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
                                          "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com"]

    public init(_ line: String) throws(SSHKeyError) {
        let fields = line.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard fields.count >= 2 else { throw SSHKeyError("is not an OpenSSH public key: expected '<type> <base64 key> [comment]'") }
        let type = String(fields[0])
        guard Self.algorithms.contains(type) else {
            throw SSHKeyError("has an unsupported key type '\(type.prefix(40))'; use one of \(Self.algorithms.sorted().joined(separator: ", "))")
        }
        guard let data = Data(base64Encoded: String(fields[1])) else { throw SSHKeyError("has key data that is not valid base64") }
        var reader = Reader(bytes: Array(data))
        guard let inner = reader.string(), String(decoding: inner, as: UTF8.self) == type else {
            throw SSHKeyError("has key data that does not match its type \(type)")
        }
        var bits = 0
        switch type {
        case "ssh-rsa":
            guard let e = reader.string(), !e.isEmpty, var n = reader.string() else { throw SSHKeyError("has a truncated RSA key") }
            while n.first == 0 { n.removeFirst() }
            bits = n.count * 8 - (n.first.map { $0.leadingZeroBitCount } ?? 0)
            guard bits >= 2048 else { throw SSHKeyError("is an RSA key of \(bits) bits; at least 2048 are required") }
        case "ssh-ed25519", "sk-ssh-ed25519@openssh.com":
            guard let k = reader.string(), k.count == 32 else { throw SSHKeyError("has a truncated Ed25519 key") }
            bits = 256
        default:
            guard let curve = reader.string(), let point = reader.string(), !curve.isEmpty, point.first == 4 else {
                throw SSHKeyError("has a truncated ECDSA key")
            }
            bits = ["nistp256": 256, "nistp384": 384, "nistp521": 521][String(decoding: curve, as: UTF8.self)] ?? 0
            guard bits > 0 else { throw SSHKeyError("names an unknown ECDSA curve") }
        }
        if type.hasPrefix("sk-") { guard reader.string() != nil else { throw SSHKeyError("has a security key without its application") } }
        guard reader.atEnd else { throw SSHKeyError("has trailing bytes after the key") }
        algorithm = type
        blob = Array(data)
        comment = fields.count > 2 ? String(fields[2]) : ""
        self.bits = bits
    }

    /// `SHA256:<base64 without padding>`, as `ssh-keygen -l` prints it.
    public var fingerprint: String {
        var b64 = Data(SHA256.hash(data: blob)).base64EncodedString()
        while b64.hasSuffix("=") { b64.removeLast() }
        return "SHA256:" + b64
    }

    /// The key without its comment, normalized: `<type> <base64>`.
    public var canonical: String { algorithm + " " + Data(blob).base64EncodedString() }

    struct Reader {
        init(bytes: [UInt8]) { self.bytes = bytes }
        let bytes: [UInt8]
        var offset = 0
        var atEnd: Bool { offset == bytes.count }
        mutating func string() -> [UInt8]? {
            guard bytes.count - offset >= 4 else { return nil }
            let n = Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            offset += 4
            guard n >= 0, bytes.count - offset >= n else { return nil }
            defer { offset += n }
            return Array(bytes[offset..<offset + n])
        }
    }
}

public struct SSHKeyError: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "The SSH key \(reason)." }
}
