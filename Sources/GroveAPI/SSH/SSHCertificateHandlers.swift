import Foundation
import GroveCredentials
import GroveModel

/// `GET /ssh/authority` and `POST /ssh` (the certifier, clients.md §1.6): the official CLI and `grove ssh-cert:load`
/// send a public key and get a short-lived certificate that Grove's SSH server accepts for the token's user.
enum SSHCertificateHandlers {
    static func register(_ r: inout Routes, _ s: ServerContext) {
        r.add("get-ssh-authority") { _ in
            guard let ssh = s.ssh else { return .json(.ok, .object(JSONObject([("authorities", .array([]))]))) }
            return .json(.ok, .object(JSONObject([("authorities", .array([.string(ssh.authority.publicKeyLine(comment: "grove-user-ca"))]))])))
        }
        r.add("create-ssh-certificate") { req in
            let user = try req.requireUser()
            guard let ssh = s.ssh else { throw APIError(.notImplemented, "This Grove signs no SSH certificates.") }
            let body = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: ["key"])
            guard let line = try body.string("key", maxLength: 16384), !line.isEmpty else { throw APIError.badRequest("is required: an OpenSSH public key line", field: "key") }
            let key: SSHPublicKey
            do { key = try SSHPublicKey(line) } catch { throw APIError.badRequest("\(error)", field: "key") }
            // A certificate minted from a token that had a second factor says so: organizations enforcing
            // two-factor authentication accept only those.
            var extensions = ["permit-pty": "", "permit-port-forwarding": "", "permit-user-rc": ""]
            if req.amr.contains("mfa") { extensions[SSHAccessGate.mfaExtension] = "" }
            let now = Date()
            let grant = SSHCertificateAuthority.Grant(keyId: user.email, principals: [user.id], validAfter: now.addingTimeInterval(-300),
                                                      validBefore: now.addingTimeInterval(ssh.certificateLifetime), extensions: extensions,
                                                      serial: UInt64(now.timeIntervalSince1970 * 1000))
            let certificate: String
            do { certificate = try ssh.authority.sign(key, grant) } catch { throw APIError.badRequest("\(error)", field: "key") }
            // Grove's own SSH server takes the certified key for its user until the certificate expires (the key is
            // offered right after the certificate); expired issues of this user are dropped here.
            for old in try await s.store.list(IssuedSSHCertificate.self, parent: user.id) where old.validBefore < Int64(now.timeIntervalSince1970) {
                try await s.store.delete(IssuedSSHCertificate.self, id: old.serial)
            }
            try await s.store.put(IssuedSSHCertificate(serial: String(grant.serial) + "-" + Identifier.secret(bytes: 4), userId: user.id,
                                                       fingerprint: key.fingerprint, validBefore: Int64(grant.validBefore.timeIntervalSince1970),
                                                       mfa: req.amr.contains("mfa"), createdAt: Timestamp.now()))
            return .json(.ok, .object(JSONObject([("certificate", .string(certificate))])))
        }
    }
}
