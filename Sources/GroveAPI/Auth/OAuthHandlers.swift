import Foundation
import GroveModel
import GroveStore
import HTTPTypes

/// `POST /oauth2/token` and `POST /oauth2/revoke` (clients.md §1).
enum OAuthHandlers {
    static func register(_ r: inout Routes, _ s: ServerContext) {
        r.add("create-token") { req in try await token(req, s) }
        r.add("revoke-token") { req in try await revoke(req, s) }
    }

    /// Form or JSON body parameters.
    static func parameters(_ req: APIRequest) -> [String: String] {
        var out: [String: String] = [:]
        let type = req.headers[.contentType]?.lowercased() ?? ""
        if type.contains("json"), case .object(let o)? = try? JSON.parse(req.body) {
            for (k, v) in o {
                if let s = v.stringValue { out[k] = s } else if !v.isNull { out[k] = v.serialized() }
            }
        } else {
            for (k, v) in QueryString.parse(String(decoding: req.body, as: UTF8.self)) { out[k] = v }
        }
        return out
    }

    static func oauthError(_ status: Int, _ code: String, _ description: String) -> APIResponse {
        .json(.init(code: status), .object(JSONObject([("error", .string(code)), ("error_description", .string(description)),
                                                         ("status", .int(Int64(status))), ("code", .int(Int64(status))),
                                                         ("message", .string(description)), ("title", .string(code)),
                                                         ("detail", .object(JSONObject()))])))
    }

    static func token(_ req: APIRequest, _ s: ServerContext) async throws -> APIResponse {
        let p = parameters(req)
        guard let grant = p["grant_type"], !grant.isEmpty else {
            return oauthError(400, "invalid_request", "The grant_type parameter is required.")
        }
        switch grant {
        case "api_token":
            guard let secret = p["api_token"], !secret.isEmpty else { return oauthError(400, "invalid_request", "The api_token parameter is required.") }
            guard let user = try await s.user(forAPIToken: secret) else {
                return oauthError(400, "invalid_grant", "The API token is invalid.")
            }
            // An API token of a user with a second factor counts as both (Platform.sh lets such tokens through MFA enforcement).
            return .json(.ok, try await issue(for: user, grant: "api_token", mfa: try await MFAHandlers.enrolled(s, user.id), withRefresh: false, s))
        case "password":
            guard let name = p["username"], let password = p["password"] else {
                return oauthError(400, "invalid_request", "The username and password parameters are required.")
            }
            let found: User?
            if name.contains("@") { found = try await s.store.user(email: name) } else { found = try await s.store.user(username: name) }
            guard let user = found, !user.deactivated, let hash = user.passwordHash, Credentials.verifyPassword(password, hash: hash) else {
                return oauthError(400, "invalid_grant", "The user name or password is incorrect.")
            }
            let code = p["totp"] ?? HTTPField.Name("X-Drupal-TFA").flatMap { req.headers[$0] }
            switch try await MFAHandlers.verify(s, userId: user.id, code: code) {
            case .missing: return oauthError(400, "invalid_grant", "A two-factor code is required: send the current TOTP code (or a recovery code) as totp.")
            case .wrong: return oauthError(400, "invalid_grant", "The two-factor code is incorrect or was already used.")
            case .accepted: return .json(.ok, try await issue(for: user, grant: "password", mfa: true, withRefresh: true, s))
            case .notEnrolled: return .json(.ok, try await issue(for: user, grant: "password", mfa: false, withRefresh: true, s))
            }
        case "refresh_token":
            guard let secret = p["refresh_token"], !secret.isEmpty else {
                return oauthError(400, "invalid_request", "The refresh_token parameter is required.")
            }
            let hash = Credentials.sha256Hex(secret)
            guard let rt = try await s.store.refreshToken(hash: hash) else {
                return oauthError(400, "invalid_grant", "The refresh token is invalid or was already used.")
            }
            try await s.store.deleteRefreshToken(hash: hash)  // rotate: each refresh token works once
            guard let exp = Timestamp.parse(rt.expiresAt), exp > Date(), let user = try await s.store.user(id: rt.userId), !user.deactivated else {
                return oauthError(400, "invalid_grant", "The refresh token has expired.")
            }
            let parts = rt.grant.split(separator: ":").map(String.init)
            return .json(.ok, try await issue(for: user, grant: parts.first ?? rt.grant, mfa: parts.contains("mfa"), withRefresh: true, s))
        default:
            return oauthError(400, "unsupported_grant_type", "The grant type '\(grant)' is not supported; use api_token, password or refresh_token.")
        }
    }

    static func issue(for user: User, grant: String, mfa: Bool, withRefresh: Bool, _ s: ServerContext) async throws -> JSON {
        let now = Int64(Date().timeIntervalSince1970)
        let amr: [JSON] = [.string(grant == "password" ? "pwd" : "api_token")] + (mfa ? ["mfa"] : [])
        let claims = JSONObject([
            ("iss", .string(s.publicURL)), ("sub", .string(user.id)), ("iat", .int(now)), ("nbf", .int(now)),
            ("exp", .int(now + Int64(s.accessTokenLifetime))), ("jti", .string(Identifier.uuid())),
            ("amr", .array(amr)), ("auth_time", .int(now)), ("grant", .string(grant)), ("scp", .array([])),
        ])
        var out = JSONObject([
            ("access_token", .string(s.signer.sign(claims))), ("expires_in", .int(Int64(s.accessTokenLifetime))),
            ("token_type", "bearer"), ("scope", ""),
        ])
        if withRefresh {
            let secret = Identifier.secret()
            let created = Date()
            try await s.store.insertRefreshToken(RefreshToken(
                id: Identifier.uuid(), tokenHash: Credentials.sha256Hex(secret), userId: user.id, grant: mfa ? grant + ":mfa" : grant,
                expiresAt: Timestamp.format(created.addingTimeInterval(TimeInterval(s.refreshTokenLifetime))), createdAt: Timestamp.format(created)))
            out["refresh_token"] = .string(secret)
        }
        return .object(out)
    }

    /// RFC 7009: answers 200 whether or not the token was known.
    static func revoke(_ req: APIRequest, _ s: ServerContext) async throws -> APIResponse {
        let p = parameters(req)
        guard let token = p["token"], !token.isEmpty else { return oauthError(400, "invalid_request", "The token parameter is required.") }
        let hash = Credentials.sha256Hex(token)
        if try await s.store.refreshToken(hash: hash) != nil {
            try await s.store.deleteRefreshToken(hash: hash)
        } else if let claims = s.signer.verify(token), let jti = claims["jti"]?.stringValue, let exp = claims["exp"]?.intValue {
            _ = try await s.store.setMetaIfAbsent("revoked:" + jti, String(exp))
        }
        return .json(.ok, .object(JSONObject()))
    }
}
