import Foundation
import GroveCredentials
import GroveModel
import GroveStore

/// TOTP enrollment (`/users/{user_id}/totp`), recovery codes, and organizations' MFA enforcement. Tokens from a
/// password login carry `mfa` only with a valid code; organizations that enforce MFA refuse tokens without it.
enum MFAHandlers {
    static func register(_ r: inout Routes, _ s: ServerContext) {
        r.add("get-totp-enrollment") { req in
            let user = try UserHandlers.own(req)
            if let e = try await s.store.get(TOTPEnrollment.self, id: user.id), e.confirmed {
                throw APIError.conflict("Two-factor authentication is already set up; withdraw it (DELETE) to enroll again.")
            }
            let totp = TOTP.generate()
            try await s.store.put(TOTPEnrollment(userId: user.id, secret: totp.base32Secret, createdAt: Timestamp.now()))
            let uri = totp.provisioningURI(issuer: "Grove", account: user.email)
            guard let qr = await QRCode.pngDataURI(uri, workDir: s.dataDir) else {
                throw APIError.unavailable("The QR code could not be drawn: install Debian's qrencode package on the Grove server.")
            }
            return .json(.ok, .object(JSONObject([
                ("issuer", .string(s.publicURL)), ("account_name", .string(user.email)), ("secret", .string(totp.base32Secret)),
                ("qr_code", .string(qr)), ("provisioning_uri", .string(uri)),
            ])))
        }
        r.add("confirm-totp-enrollment") { req in
            let user = try UserHandlers.own(req)
            let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: ["secret", "passcode"])
            guard let secret = try b.string("secret", required: true, nonEmpty: true) else { throw APIError.badRequest("is required", field: "secret") }
            guard let passcode = try b.string("passcode", required: true, nonEmpty: true) else { throw APIError.badRequest("is required", field: "passcode") }
            guard var e = try await s.store.get(TOTPEnrollment.self, id: user.id), !e.confirmed, e.secret == secret, let totp = TOTP(base32: secret) else {
                throw APIError.badRequest("does not match a pending enrollment: GET /users/\(user.id)/totp first", field: "secret")
            }
            guard let step = totp.matchingStep(passcode, at: Date()) else { throw APIError.badRequest("is not the current code of this secret", field: "passcode") }
            e.confirmed = true
            e.lastStep = step
            let codes = recoveryCodes()
            e.recoveryCodeHashes = codes.map(Credentials.sha256Hex)
            try await s.store.put(e)
            return .json(.ok, .object(JSONObject([("recovery_codes", JSON(codes))])))
        }
        r.add("withdraw-totp-enrollment") { req in
            let user = try UserHandlers.own(req)
            guard try await s.store.get(TOTPEnrollment.self, id: user.id) != nil else { throw APIError.notFound("TOTP enrollment") }
            for o in try await s.access.organizations(user: user) where try await s.store.get(MFAEnforcement.self, id: o.id)?.enforced == true {
                throw APIError.forbidden("The organization \(o.label) enforces two-factor authentication; it cannot be withdrawn while you belong to it.")
            }
            try await s.store.delete(TOTPEnrollment.self, id: user.id)
            return .empty(.noContent)
        }
        r.add("recreate-recovery-codes") { req in
            let user = try UserHandlers.own(req)
            guard var e = try await s.store.get(TOTPEnrollment.self, id: user.id), e.confirmed else { throw APIError.notFound("TOTP enrollment") }
            let codes = recoveryCodes()
            e.recoveryCodeHashes = codes.map(Credentials.sha256Hex)
            try await s.store.put(e)
            return .json(.created, .object(JSONObject([("recovery_codes", JSON(codes))])))
        }

        r.add("get-org-mfa-enforcement") { req in
            let (o, _) = try await OrganizationHandlers.visible(req, s)
            return .json(.ok, .object(JSONObject([("enforce_mfa", .bool(try await s.store.get(MFAEnforcement.self, id: o.id)?.enforced ?? false))])))
        }
        for (action, on) in [("enable", true), ("disable", false)] {
            r.add("\(action)-org-mfa-enforcement") { req in
                let (o, m) = try await OrganizationHandlers.visible(req, s)
                guard m.owner || m.permissions.contains(.admin) else { throw APIError.forbidden("Changing MFA enforcement requires the admin permission.") }
                if on, try await !enrolled(s, m.userId) {
                    throw APIError.badRequest("Set up two-factor authentication on your own account first (grove auth:mfa), or enforcing it would lock you out.")
                }
                try await s.store.put(MFAEnforcement(organizationId: o.id, enforced: on, createdAt: Timestamp.now()))
                return .empty(.noContent)
            }
        }
        r.add("send-org-mfa-reminders") { req in
            let (o, m) = try await OrganizationHandlers.visible(req, s)
            guard m.owner || m.permissions.contains(.admin) || m.permissions.contains(.members) else { throw APIError.forbidden("Sending reminders requires the members permission.") }
            let b = try BodyReader(try req.jsonObject(), allowed: ["user_ids"])
            var ids = try b.stringArray("user_ids") ?? []
            if ids.isEmpty { ids = try await s.store.members(organizationId: o.id).map(\.userId) + [o.ownerId] }
            var out = JSONObject()
            for id in Array(Set(ids)).sorted() {
                guard let u = try await s.store.user(id: id), try await s.store.member(organizationId: o.id, userId: id) != nil || o.ownerId == id else {
                    out[id] = .object(JSONObject([("code", 404), ("message", "not a member of the organization")]))
                    continue
                }
                if try await enrolled(s, id) {
                    out[id] = .object(JSONObject([("code", 200), ("message", "already uses two-factor authentication")]))
                    continue
                }
                await s.mailer.send(to: u.email, subject: "Set up two-factor authentication for \(o.label)",
                                    body: "The organization \(o.label) asks you to set up two-factor authentication.\n\nRun `grove auth:mfa`, or GET \(s.publicURL)/users/\(u.id)/totp and confirm a code.\n")
                out[id] = .object(JSONObject([("code", 200), ("message", "reminder sent")]))
            }
            return .json(.ok, .object(out))
        }
    }

    static func enrolled(_ s: ServerContext, _ userId: String) async throws -> Bool {
        try await s.store.get(TOTPEnrollment.self, id: userId)?.confirmed == true
    }

    /// Ten single-use codes, `xxxxx-xxxxx`.
    static func recoveryCodes() -> [String] {
        (0..<10).map { _ in Identifier.lowercaseAlphanumeric(5) + "-" + Identifier.lowercaseAlphanumeric(5) }
    }

    enum SecondFactor { case notEnrolled, missing, wrong, accepted }

    /// Checks a code given at login (a current TOTP code, or a recovery code, used up) for an enrolled user.
    static func verify(_ s: ServerContext, userId: String, code: String?) async throws -> SecondFactor {
        guard var e = try await s.store.get(TOTPEnrollment.self, id: userId), e.confirmed else { return .notEnrolled }
        guard let code = code?.trimmingCharacters(in: .whitespaces), !code.isEmpty else { return .missing }
        if let totp = TOTP(base32: e.secret), let step = totp.matchingStep(code, at: Date()) {
            // Each code works once.
            guard step > e.lastStep else { return .wrong }
            e.lastStep = step
            try await s.store.put(e)
            return .accepted
        }
        let hash = Credentials.sha256Hex(code.lowercased())
        if let i = e.recoveryCodeHashes.firstIndex(of: hash) {
            e.recoveryCodeHashes.remove(at: i)
            try await s.store.put(e)
            return .accepted
        }
        return .wrong
    }
}
