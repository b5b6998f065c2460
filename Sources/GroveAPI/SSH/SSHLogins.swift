import Foundation
import GroveModel
import GroveSSH
import GroveStore
import Logging

/// Who an offered key is: a key on a user's account (`/ssh_keys`), a certificate of this Grove's authority, or a key
/// it certified while that certificate is valid; and whether the user name names a project that user can see.
/// Anything else (unknown or expired keys, deactivated users, other projects) is refused alike.
struct SSHLogins: Sendable {
    let store: any Store
    let logger: Logger

    func login(_ attempt: SSHLoginAttempt) async -> SSHLogin? {
        do {
            let userId: String
            var extensions = attempt.certificate?.extensions ?? [:]
            var certified = attempt.certificate != nil
            if let cert = attempt.certificate {
                guard let principal = cert.principals.first else { return nil }
                userId = principal
            } else if let key = try await store.list(SSHKey.self, ref: attempt.key.fingerprint).first {
                userId = key.userId
            } else {
                // A key this Grove certified, while its certificate is valid.
                let now = Int64(Date().timeIntervalSince1970)
                guard let issued = try await store.list(IssuedSSHCertificate.self, ref: attempt.key.fingerprint).first(where: { $0.validBefore > now }) else {
                    return nil
                }
                userId = issued.userId
                certified = true
                if issued.mfa { extensions[SSHAccessGate.mfaExtension] = "" }
            }
            guard let user = try await store.user(id: userId), !user.deactivated else { return nil }
            // Only a project the user can see is worth a session; anything else is the same refusal as a wrong key.
            guard let projectId = SSHTarget.projectId(of: attempt.username), let project = try await store.project(id: projectId),
                  try await AccessResolver(store: store).resolve(user: user, project: project).level.permits(.view) else { return nil }
            return SSHLogin(userId: user.id, username: attempt.username, extensions: extensions, viaCertificate: certified)
        } catch {
            logger.warning("ssh: authentication failed", metadata: ["error": "\(error)"])
            return nil
        }
    }
}
