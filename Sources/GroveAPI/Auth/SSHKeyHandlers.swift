import Foundation
import GroveCredentials
import GroveModel
import GroveStore

/// A user's SSH public keys (`/ssh_keys`, and `ssh_keys` of the legacy `/me`): validated as OpenSSH keys,
/// fingerprinted, and unique across users since a key identifies one user to the git and SSH servers.
enum SSHKeyHandlers {
    static func register(_ r: inout Routes, _ s: ServerContext) {
        r.add("create-ssh-key") { req in
            let caller = try req.requireUser()
            let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: ["value", "title", "uuid"])
            guard let value = try b.string("value", required: true, nonEmpty: true, maxLength: 16384) else { throw APIError.badRequest("is required", field: "value") }
            if let owner = try b.string("uuid"), owner != caller.id { throw APIError.forbidden("You can only add keys to your own account.") }
            let key: SSHPublicKey
            do { key = try SSHPublicKey(value) } catch { throw APIError.badRequest("\(error)", field: "value") }
            if let existing = try await s.store.list(SSHKey.self, ref: key.fingerprint).first {
                throw APIError.conflict(existing.userId == caller.id ? "This key (\(key.fingerprint)) is already on your account as key \(existing.keyId)."
                                                                     : "This key (\(key.fingerprint)) belongs to another user.")
            }
            let title = try b.string("title", maxLength: 255) ?? (key.comment.isEmpty ? key.algorithm : key.comment)
            var record = SSHKey(keyId: 0, userId: caller.id, title: title, value: key.canonical + (key.comment.isEmpty ? "" : " " + key.comment),
                                fingerprint: key.fingerprint, createdAt: Timestamp.now())
            // Key ids are integers in Platform.sh's API; a random one retried on the rare collision.
            for _ in 0..<8 {
                record.keyId = Int64.random(in: 1...2_147_483_647)
                do { try await s.store.insert(record); return .json(.created, render(s, record)) } catch StoreError.conflict { continue }
            }
            throw APIError.conflict("Could not allocate a key id; try again.")
        }
        r.add("get-ssh-key") { req in .json(.ok, render(s, try await own(req, s))) }
        r.add("delete-ssh-key") { req in
            let key = try await own(req, s)
            try await s.store.delete(SSHKey.self, id: String(key.keyId))
            return .empty(.noContent)
        }
    }

    static func own(_ req: APIRequest, _ s: ServerContext) async throws -> SSHKey {
        let caller = try req.requireUser()
        guard let k = try await s.store.get(SSHKey.self, id: req.param("key_id")), k.userId == caller.id else { throw APIError.notFound("SSH key \(req.param("key_id"))") }
        return k
    }

    /// Platform.sh's `uid` is an integer; Grove derives a stable one from the user id.
    static func numericUid(_ userId: String) -> Int64 {
        var h: UInt32 = 2_166_136_261
        for b in userId.utf8 { h = (h ^ UInt32(b)) &* 16_777_619 }
        return Int64(h & 0x7fff_ffff)
    }

    static func render(_ s: ServerContext, _ k: SSHKey) -> JSON {
        var l = Links(base: s.publicURL)
        l.add("self", "/ssh_keys/\(k.keyId)")
        l.add("#delete", "/ssh_keys/\(k.keyId)", method: "delete")
        return .object(JSONObject([("key_id", .int(k.keyId)), ("uid", .int(numericUid(k.userId))), ("fingerprint", .string(k.fingerprint)),
                                   ("title", .string(k.title)), ("value", .string(k.value)), ("changed", .string(k.changed)), ("_links", l.json)]))
    }
}
