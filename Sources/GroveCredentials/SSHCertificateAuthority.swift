import Crypto
import Foundation

/// Grove's SSH user certificate authority: an Ed25519 key that signs OpenSSH user certificates
/// (`<type>-cert-v01@openssh.com`, PROTOCOL.certkeys) for users' own public keys. The SSH server trusts what it
/// signed; `GET /ssh/authority` publishes its public key for other servers to trust.
public struct SSHCertificateAuthority: Sendable {
    /// The private key's 32-byte seed (crypto keys are not Sendable; the key is made from it when signing).
    let seed: [UInt8]
    let publicKey: [UInt8]

    public init(seed: [UInt8]) throws {
        self.seed = seed
        publicKey = Array(try Curve25519.Signing.PrivateKey(rawRepresentation: seed).publicKey.rawRepresentation)
    }

    /// A new authority; `seed` is what to keep (secret) to load it again.
    public static func generate() -> (SSHCertificateAuthority, seed: [UInt8]) {
        let seed = Array(Curve25519.Signing.PrivateKey().rawRepresentation)
        // A fresh key's own seed always loads.
        let ca = (try? SSHCertificateAuthority(seed: seed)) ?? SSHCertificateAuthority(seed: seed, publicKey: [])
        return (ca, seed)
    }

    private init(seed: [UInt8], publicKey: [UInt8]) { self.seed = seed; self.publicKey = publicKey }

    /// The authority's public key blob (`string "ssh-ed25519", string key`).
    public var publicKeyBlob: [UInt8] {
        var w = SSHWireWriter()
        w.string("ssh-ed25519")
        w.string(publicKey)
        return w.bytes
    }

    /// `ssh-ed25519 AAAA… comment`, an authorized_keys / TrustedUserCAKeys line.
    public func publicKeyLine(comment: String) -> String {
        "ssh-ed25519 " + Data(publicKeyBlob).base64EncodedString() + (comment.isEmpty ? "" : " " + comment)
    }

    /// What a user certificate says.
    public struct Grant: Sendable {
        public var keyId: String
        public var principals: [String]
        public var validAfter: Date
        public var validBefore: Date
        /// Extensions granted (`permit-pty`, `permit-port-forwarding`, … and Grove's own), name -> value ("" mostly).
        public var extensions: [String: String]
        public var serial: UInt64

        public init(keyId: String, principals: [String], validAfter: Date, validBefore: Date, extensions: [String: String], serial: UInt64) {
            self.keyId = keyId; self.principals = principals; self.validAfter = validAfter; self.validBefore = validBefore
            self.extensions = extensions; self.serial = serial
        }
    }

    /// Signs `userKey` (any key type `SSHPublicKey` accepts; security-key types excepted) and returns the certificate as
    /// an OpenSSH public key line (`ssh-ed25519-cert-v01@openssh.com AAAA… comment`), what `ssh -i` loads from
    /// `<key>-cert.pub`.
    public func sign(_ userKey: SSHPublicKey, _ grant: Grant) throws(SSHKeyError) -> String {
        guard !userKey.algorithm.hasPrefix("sk-") else { throw SSHKeyError("is a security-key type, which Grove cannot certify") }
        let certType = userKey.algorithm + "-cert-v01@openssh.com"
        // The key's fields are its blob without the leading algorithm string.
        var reader = SSHPublicKey.Reader(bytes: userKey.blob)
        _ = reader.string()
        let fields = Array(userKey.blob[reader.offset...])

        var w = SSHWireWriter()
        w.string(certType)
        w.string((0..<32).map { _ in UInt8.random(in: 0...255) })
        w.raw(fields)
        w.uint64(grant.serial)
        w.uint32(1)  // SSH_CERT_TYPE_USER
        w.string(grant.keyId)
        var principals = SSHWireWriter()
        for p in grant.principals { principals.string(p) }
        w.string(principals.bytes)
        w.uint64(UInt64(max(0, grant.validAfter.timeIntervalSince1970)))
        w.uint64(UInt64(max(0, grant.validBefore.timeIntervalSince1970)))
        w.string([])  // critical options: none
        var extensions = SSHWireWriter()
        // Sorted by name, each with its value as a string inside a string (empty for flags).
        for (name, value) in grant.extensions.sorted(by: { $0.key < $1.key }) {
            extensions.string(name)
            if value.isEmpty { extensions.string([]) } else {
                var inner = SSHWireWriter()
                inner.string(value)
                extensions.string(inner.bytes)
            }
        }
        w.string(extensions.bytes)
        w.string([])  // reserved
        w.string(publicKeyBlob)
        let signed = w.bytes
        let signature: Data
        do { signature = try Curve25519.Signing.PrivateKey(rawRepresentation: seed).signature(for: signed) } catch { throw SSHKeyError("could not be signed: \(error)") }
        var sig = SSHWireWriter()
        sig.string("ssh-ed25519")
        sig.string(Array(signature))
        w.string(sig.bytes)
        return certType + " " + Data(w.bytes).base64EncodedString() + (userKey.comment.isEmpty ? "" : " " + userKey.comment)
    }
}

/// SSH wire encoding: big-endian integers and length-prefixed strings.
public struct SSHWireWriter {
    public init() {}
    public var bytes: [UInt8] = []
    public mutating func uint32(_ v: UInt32) { bytes += [UInt8(v >> 24 & 0xff), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }
    public mutating func uint64(_ v: UInt64) { uint32(UInt32(v >> 32)); uint32(UInt32(v & 0xffff_ffff)) }
    public mutating func string(_ b: [UInt8]) { uint32(UInt32(b.count)); bytes += b }
    public mutating func string(_ s: String) { string(Array(s.utf8)) }
    public mutating func raw(_ b: [UInt8]) { bytes += b }
}
