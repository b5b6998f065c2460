import Foundation
import GroveCredentials
import GroveStore
import Synchronization

/// This Grove's SSH side as the API sees it: the user certificate authority (its seed sealed in the store, so every
/// process signs and trusts the same one) and where clients reach the SSH server (for `ssh` and `pf:ssh:<app>` links).
public final class SSHSettings: Sendable {
    let authority: SSHCertificateAuthority
    /// How long the certificates `POST /ssh` signs are valid.
    let certificateLifetime: TimeInterval
    private let endpointBox: Mutex<String?>
    /// The API half of this process, once it exists: git over SSH runs its hooks and push sessions.
    private let contextBox = Mutex<ServerContext?>(nil)
    var context: ServerContext? { contextBox.withLock { $0 } }
    func setContext(_ context: ServerContext) { contextBox.withLock { $0 = context } }

    /// `host:port` of the SSH server, or nil when there is none.
    var endpoint: String? { endpointBox.withLock { $0 } }
    func setEndpoint(_ endpoint: String) { endpointBox.withLock { $0 = endpoint } }

    init(authority: SSHCertificateAuthority, endpoint: String?, certificateLifetime: TimeInterval = 3600) {
        self.authority = authority
        self.certificateLifetime = certificateLifetime
        endpointBox = Mutex(endpoint)
    }

    static func load(store: any Store, endpoint: String?, certificateLifetime: TimeInterval) async throws -> SSHSettings {
        let hex = try await store.secretMeta("ssh_user_ca") {
            SSHCertificateAuthority.generate().seed.map { String(format: "%02x", $0) }.joined()
        }
        var seed: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex), let byte = UInt8(hex[index..<next], radix: 16) {
            seed.append(byte)
            index = next
        }
        return SSHSettings(authority: try SSHCertificateAuthority(seed: seed), endpoint: endpoint, certificateLifetime: certificateLifetime)
    }

    /// `ssh://user@host:port`, what the links carry.
    func url(user: String) -> String? { endpoint.map { "ssh://\(user)@\($0)" } }
}
