import Foundation
import GroveModel
import GroveStore

/// The one place that turns presented secrets into users: bearer access tokens (REST), and API tokens or access
/// tokens given as HTTP Basic passwords (git) or to the token endpoint.
extension ServerContext {
    /// Claims of a valid, unexpired access token; verified tokens are remembered so reuse skips the signature check.
    func accessTokenClaims(_ token: String) throws -> JSONObject {
        let now = Int64(Date().timeIntervalSince1970)
        if let known = verifiedTokens.claims(for: token, now: now) { return known }
        guard let claims = signer.verify(token), claims["sub"]?.stringValue != nil, let exp = claims["exp"]?.intValue else {
            throw APIError.unauthorized("The access token is invalid or has expired.")
        }
        verifiedTokens.put(token, claims: claims, exp: exp)
        return claims
    }

    /// The active user behind verified claims, unless the token was revoked.
    func user(forClaims claims: JSONObject) async throws -> User {
        let (found, revoked) = try await store.userForAccessToken(userId: claims["sub"]?.stringValue ?? "", tokenId: claims["jti"]?.stringValue ?? "")
        if revoked { throw APIError.unauthorized("The access token was revoked.") }
        guard let user = found, !user.deactivated else { throw APIError.unauthorized("The user of this access token no longer exists.") }
        return user
    }

    /// The same for a project route, with the route's project, the caller's access records and (environment routes)
    /// the environment read in the same round trip; see `visibleProject(_:id:found:)`.
    func routeAccess(forClaims claims: JSONObject, projectId: String, environmentId: String?) async throws -> (User, RouteAccess) {
        let access = try await store.routeAccess(userId: claims["sub"]?.stringValue ?? "", tokenId: claims["jti"]?.stringValue ?? "",
                                                 projectId: projectId, environmentId: environmentId)
        if access.revoked { throw APIError.unauthorized("The access token was revoked.") }
        guard let user = access.user, !user.deactivated else { throw APIError.unauthorized("The user of this access token no longer exists.") }
        return (user, access)
    }

    /// The active user owning an API token secret; records its use.
    func user(forAPIToken secret: String) async throws -> User? {
        guard var token = try await store.apiToken(hash: Credentials.sha256Hex(secret)),
              let user = try await store.user(id: token.userId), !user.deactivated else { return nil }
        token.lastUsedAt = Timestamp.now()
        try await store.updateAPIToken(token)
        return user
    }

    /// An API token or an access token, whichever the secret is.
    func user(forSecret secret: String) async throws -> User? {
        if let user = try await user(forAPIToken: secret) { return user }
        guard let claims = try? accessTokenClaims(secret) else { return nil }
        return try? await user(forClaims: claims)
    }
}
