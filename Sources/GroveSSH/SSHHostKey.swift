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
}
