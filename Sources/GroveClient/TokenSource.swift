import Foundation
import GroveModel

/// Supplies access tokens: exchanges the stored API token and caches the result until shortly before it expires.
public actor TokenSource {
    let apiToken: String
    var cached: (token: String, expires: Date)?
    let onRefresh: @Sendable (String, Date) -> Void

    public init(apiToken: String, cachedAccessToken: String? = nil, expires: Date? = nil,
                onRefresh: @Sendable @escaping (String, Date) -> Void = { _, _ in }) {
        self.apiToken = apiToken
        if let cachedAccessToken, let expires { cached = (cachedAccessToken, expires) }
        self.onRefresh = onRefresh
    }

    public func accessToken(client: APIClient) async throws -> String {
        if let c = cached, c.expires > Date().addingTimeInterval(30) { return c.token }
        let reply = try await client.tokenRequest([("grant_type", "api_token"), ("api_token", apiToken)])
        guard let token = reply["access_token"]?.stringValue else { throw ClientError(status: 0, message: "the token endpoint returned no access_token") }
        let expires = Date().addingTimeInterval(Double(reply["expires_in"]?.intValue ?? 900))
        cached = (token, expires)
        onRefresh(token, expires)
        return token
    }

    public func invalidate() { cached = nil }
    public var currentAccessToken: String? { cached?.token }
}
