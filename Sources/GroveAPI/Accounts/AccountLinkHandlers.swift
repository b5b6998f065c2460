import Foundation
import GroveModel
import GroveStore

/// Changes to an account that a mailed link confirms. A new email address takes effect only once a link sent to that
/// address is used (so nobody can claim an address, and the invitations sent to it, without reading its mail); a
/// password is reset through a link sent to the account's address, asked for by the signed-in user or, when the
/// password is forgotten, by anyone who knows the address (the answer is the same whether an account has it).
/// Links hold a one-time secret of which only the hash is stored, expire after an hour, and replace earlier links of
/// the same purpose; one is mailed per account and purpose a minute at most.
enum AccountLinkHandlers {
    static let lifetime: TimeInterval = 3600
    static let resendInterval: TimeInterval = 60

    static func register(_ r: inout Routes, _ s: ServerContext) {
        r.add("reset-email-address") { req in
            let user = try UserHandlers.own(req)
            let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: ["email_address"])
            let email = try address(try b.string("email_address", required: true, nonEmpty: true, maxLength: 254) ?? "", field: "email_address")
            if email == user.email.lowercased() { throw APIError.badRequest("is already your address", field: "email_address") }
            if try await s.store.user(email: email) != nil { throw APIError.conflict("The email address \(email) belongs to another account.") }
            guard let token = try await issue(s, user: user, purpose: .emailChange, email: email) else {
                throw APIError(.tooManyRequests, "A confirmation was sent less than a minute ago; use it, or try again in a minute.")
            }
            let link = s.publicURL + "/email-confirmations/" + token
            await s.mailer.send(to: email, subject: "Confirm your new email address",
                                body: "\(user.displayName) asked to use this address for their Grove account (\(s.publicURL)).\n\n"
                                    + "Confirm within \(Int(lifetime / 60)) minutes: open \(s.publicURL)/console/email-confirmation/\(token)\n"
                                    + "or run  curl -X POST \(link)\n\nIf you did not ask for this, ignore this message.\n")
            return .empty(.noContent)
        }
        r.add("confirm-email-address") { req in
            var (link, user) = try await pending(s, token: req.param("token"), purpose: .emailChange)
            guard let email = link.email else { throw APIError.notFound("Confirmation") }
            if let other = try await s.store.user(email: email), other.id != user.id {
                throw APIError.conflict("The email address \(email) belongs to another account now.")
            }
            let old = user.email
            user.email = email
            user.emailVerified = true
            user.updatedAt = Timestamp.now()
            try await s.store.updateUser(user)
            link.finishedAt = Timestamp.now()
            try await s.store.put(link)
            await s.mailer.send(to: old, subject: "Your email address was changed",
                                body: "The Grove account \(user.username) (\(s.publicURL)) now uses \(email). If you did not do this, contact your Grove's operator.\n")
            return .json(.ok, .object(JSONObject([("user_id", .string(user.id)), ("email", .string(email))])))
        }
        r.add("reset-password") { req in
            let user = try UserHandlers.own(req)
            try await sendReset(s, user)
            return .empty(.noContent)
        }
        r.add("request-password-reset") { req in
            let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: ["email"])
            let email = try address(try b.string("email", required: true, nonEmpty: true, maxLength: 254) ?? "", field: "email")
            // The same answer, at once, whether or not an account has this address: the work goes on apart.
            let store = s.store
            Task {
                guard let user = try? await store.user(email: email), !user.deactivated else { return }
                try? await sendReset(s, user)
            }
            return .empty(.noContent)
        }
        r.add("complete-password-reset") { req in
            var (link, user) = try await pending(s, token: req.param("token"), purpose: .passwordReset)
            let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: ["password"])
            guard let password = try b.string("password", required: true, nonEmpty: true, maxLength: 1024), password.count >= 8 else {
                throw APIError.badRequest("must be at least 8 characters", field: "password")
            }
            user.passwordHash = try Credentials.hashPassword(password)
            user.updatedAt = Timestamp.now()
            try await s.store.updateUser(user)
            link.finishedAt = Timestamp.now()
            try await s.store.put(link)
            // Whoever held a session with the old password loses it.
            try await s.store.deleteRefreshTokens(userId: user.id)
            await s.mailer.send(to: user.email, subject: "Your password was changed",
                                body: "The password of the Grove account \(user.username) (\(s.publicURL)) was reset; its other sessions were ended.\n")
            return .json(.ok, .object(JSONObject([("user_id", .string(user.id))])))
        }
    }

    /// Mails a reset link to the account's address (none when one went out less than a minute ago).
    static func sendReset(_ s: ServerContext, _ user: User) async throws {
        guard let token = try await issue(s, user: user, purpose: .passwordReset, email: nil) else { return }
        let link = s.publicURL + "/password-resets/" + token
        await s.mailer.send(to: user.email, subject: "Reset your Grove password",
                            body: "A password reset was asked for the Grove account \(user.username) (\(s.publicURL)).\n\n"
                                + "Choose a new password within \(Int(lifetime / 60)) minutes: open \(s.publicURL)/console/password-reset/\(token)\n"
                                + "or run  curl -X POST \(link) -H 'Content-Type: application/json' -d '{\"password\": \"...\"}'\n\n"
                                + "If you did not ask for this, ignore this message: the password stays as it is.\n")
    }

    /// A new link's secret, its earlier ones replaced; nil when the last one is younger than `resendInterval`.
    static func issue(_ s: ServerContext, user: User, purpose: AccountLink.Purpose, email: String?) async throws -> String? {
        let now = Date()
        let open = try await s.store.list(AccountLink.self, parent: user.id).filter { $0.purpose == purpose && $0.finishedAt == nil }
        if open.contains(where: { (Timestamp.parse($0.createdAt) ?? .distantPast) > now.addingTimeInterval(-resendInterval) }) { return nil }
        for var old in open {
            old.finishedAt = Timestamp.format(now)
            try await s.store.put(old)
        }
        let token = Identifier.secret()
        try await s.store.insert(AccountLink(id: Identifier.uuid(), userId: user.id, purpose: purpose, email: email, tokenHash: Credentials.sha256Hex(token),
                                             createdAt: Timestamp.format(now), expiresAt: Timestamp.format(now.addingTimeInterval(lifetime))))
        return token
    }

    /// The unused, unexpired link a secret opens, and its account.
    static func pending(_ s: ServerContext, token: String, purpose: AccountLink.Purpose) async throws -> (AccountLink, User) {
        let what = purpose == .emailChange ? "Confirmation" : "Password reset"
        guard !token.isEmpty, token.count <= 256, let link = try await s.store.list(AccountLink.self, ref: Credentials.sha256Hex(token)).first,
              link.purpose == purpose else { throw APIError.notFound(what) }
        guard link.finishedAt == nil, let expires = Timestamp.parse(link.expiresAt), expires > Date() else {
            throw APIError(.gone, "This link was used, replaced by a newer one, or has expired; ask for a new one.")
        }
        guard let user = try await s.store.user(id: link.userId), !user.deactivated else { throw APIError.notFound(what) }
        return (link, user)
    }

    static func address(_ raw: String, field: String) throws -> String {
        let email = raw.trimmingCharacters(in: .whitespaces)
        guard email.range(of: "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", options: .regularExpression) != nil, !BodyReader.hasControlCharacters(email) else {
            throw APIError.badRequest("must be an email address", field: field)
        }
        return email.lowercased()
    }
}
