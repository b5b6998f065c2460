import Crypto
import Foundation
import GroveCredentials
import NIOSSH

/// The server's Ed25519 host key, kept as its 32-byte seed in a 0600 file so clients see the same host every start.
public struct SSHHostKey: Sendable {
    let seed: [UInt8]

    /// Loads the key at `path`, creating it (and its directory, 0700) on first use.
    public static func loadOrCreate(at path: String) throws -> SSHHostKey {
        if let data = FileManager.default.contents(atPath: path), data.count == 32 { return SSHHostKey(seed: Array(data)) }
        let dir = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let seed = Array(Curve25519.Signing.PrivateKey().rawRepresentation)
        guard FileManager.default.createFile(atPath: path, contents: Data(seed), attributes: [.posixPermissions: 0o600]) else {
            throw SSHRefusal("cannot write the SSH host key to \(path)")
        }
        return SSHHostKey(seed: seed)
    }

    var privateKey: NIOSSHPrivateKey {
        // The seed was written by this type: 32 bytes always load.
        NIOSSHPrivateKey(ed25519Key: (try? Curve25519.Signing.PrivateKey(rawRepresentation: seed)) ?? Curve25519.Signing.PrivateKey())
    }

    /// `ssh-ed25519 AAAA…`, what a known_hosts line holds after the host name.
    public var publicKeyLine: String { String(openSSHPublicKey: privateKey.publicKey) }

    /// `SHA256:…`, as ssh prints it when it first meets the host.
    public var fingerprint: String { (try? SSHPublicKey(publicKeyLine).fingerprint) ?? "" }

    /// The same key as an OpenSSH private key file (`openssh-key-v1`, unencrypted), what sshd's `HostKey` reads.
    var openSSHPrivateKeyFile: String {
        let signing = (try? Curve25519.Signing.PrivateKey(rawRepresentation: seed)) ?? Curve25519.Signing.PrivateKey()
        let pub = Array(signing.publicKey.rawRepresentation)
        var publicBlob = SSHWireWriter()
        publicBlob.string("ssh-ed25519")
        publicBlob.string(pub)
        var secret = SSHWireWriter()
        let check = UInt32.random(in: 0...UInt32.max)
        secret.uint32(check)
        secret.uint32(check)
        secret.string("ssh-ed25519")
        secret.string(pub)
        secret.string(Array(signing.rawRepresentation) + pub)
        secret.string("grove")
        var pad: UInt8 = 1
        while secret.bytes.count % 8 != 0 { secret.raw([pad]); pad += 1 }
        var file = SSHWireWriter()
        file.raw(Array("openssh-key-v1".utf8) + [0])
        file.string("none")
        file.string("none")
        file.string([])
        file.uint32(1)
        file.string(publicBlob.bytes)
        file.string(secret.bytes)
        let b64 = Data(file.bytes).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN OPENSSH PRIVATE KEY-----\n" + b64 + "\n-----END OPENSSH PRIVATE KEY-----\n"
    }
}
