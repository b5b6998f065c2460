import Crypto
import Foundation

/// An OpenSSH user certificate (`<type>-cert-v01@openssh.com`, PROTOCOL.certkeys) read from its wire blob, of any
/// key type `SSHPublicKey` knows, and checked against an Ed25519 authority: what an SSH server decides from a
/// certificate it is offered, without trusting anything the blob says about itself.
public struct SSHCertificate: Sendable {
    /// The certified key.
    public let key: SSHPublicKey
    public let keyId: String
    public let principals: [String]
    public let validAfter: UInt64
    public let validBefore: UInt64
    public let extensions: [String: String]

    /// Parses `blob` and checks it: a user certificate, signed with Ed25519 by `authority` (its public key blob),
    /// valid at `now`. Anything else throws with the reason.
    public init(blob: [UInt8], authority: [UInt8], now: Date = Date()) throws(SSHKeyError) {
        var r = SSHPublicKey.Reader(bytes: blob)
        guard let typeBytes = r.string() else { throw SSHKeyError("certificate is truncated") }
        let type = String(decoding: typeBytes, as: UTF8.self)
        let suffix = "-cert-v01@openssh.com"
        guard type.hasSuffix(suffix) else { throw SSHKeyError("is not an OpenSSH certificate") }
        let algorithm = String(type.dropLast(suffix.count))
        guard r.string() != nil else { throw SSHKeyError("certificate has no nonce") }
        // The key's own fields follow the nonce: as many strings (or mpints, the same framing) as its type has.
        let fieldCount: Int
        switch algorithm {
        case "ssh-ed25519": fieldCount = 1
        case "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521": fieldCount = 2
        default: throw SSHKeyError("certificate has an unsupported key type '\(algorithm.prefix(40))'")
        }
        var keyBlob = SSHWireWriter()
        keyBlob.string(algorithm)
        for _ in 0..<fieldCount {
            guard let field = r.string() else { throw SSHKeyError("certificate has a truncated key") }
            keyBlob.string(field)
        }
        key = try SSHPublicKey(algorithm + " " + Data(keyBlob.bytes).base64EncodedString())
        guard r.uint64() != nil, let certType = r.uint32(), let id = r.string(), let principalList = r.string(),
              let after = r.uint64(), let before = r.uint64(), r.string() != nil, let extensionList = r.string(),
              r.string() != nil else { throw SSHKeyError("certificate is truncated") }
        // The signature covers everything before it, the signer's key included.
        guard let signer = r.string() else { throw SSHKeyError("certificate is truncated") }
        let signedLength = r.offset
        guard let signature = r.string(), r.atEnd else { throw SSHKeyError("certificate is truncated") }
        guard certType == 1 else { throw SSHKeyError("certificate is not a user certificate") }
        guard signer == authority else { throw SSHKeyError("certificate is not signed by this Grove's authority") }
        var s = SSHPublicKey.Reader(bytes: signature)
        var a = SSHPublicKey.Reader(bytes: authority)
        guard let sigType = s.string(), String(decoding: sigType, as: UTF8.self) == "ssh-ed25519", let raw = s.string(), s.atEnd,
              a.string() != nil, let caKey = a.string(),
              let verifier = try? Curve25519.Signing.PublicKey(rawRepresentation: caKey),
              verifier.isValidSignature(raw, for: blob[..<signedLength]) else { throw SSHKeyError("certificate has an invalid signature") }
        let time = UInt64(max(0, now.timeIntervalSince1970))
        guard after <= time, time < before else { throw SSHKeyError("certificate is expired or not yet valid") }
        keyId = String(decoding: id, as: UTF8.self)
        var names: [String] = []
        var p = SSHPublicKey.Reader(bytes: principalList)
        while !p.atEnd {
            guard let name = p.string() else { throw SSHKeyError("certificate has malformed principals") }
            names.append(String(decoding: name, as: UTF8.self))
        }
        principals = names
        var found: [String: String] = [:]
        var e = SSHPublicKey.Reader(bytes: extensionList)
        while !e.atEnd {
            guard let name = e.string(), let data = e.string() else { throw SSHKeyError("certificate has malformed extensions") }
            var inner = SSHPublicKey.Reader(bytes: data)
            let value = data.isEmpty ? "" : (inner.string().map { String(decoding: $0, as: UTF8.self) } ?? "")
            found[String(decoding: name, as: UTF8.self)] = value
        }
        extensions = found
        validAfter = after
        validBefore = before
    }
}

extension SSHPublicKey.Reader {
    mutating func uint32() -> UInt32? {
        guard bytes.count - offset >= 4 else { return nil }
        defer { offset += 4 }
        return bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func uint64() -> UInt64? {
        guard let high = uint32(), let low = uint32() else { return nil }
        return UInt64(high) << 32 | UInt64(low)
    }
}
