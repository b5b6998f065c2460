import GroveModel

/// A browser's login to the console, stored under the SHA-256 of the cookie's secret so a copy of the store
/// cannot be replayed as a cookie. The console holds no API token: each request gets a short one minted for the
/// session's user, so deactivating the user or deleting the session (logout) ends access at once.
public struct ConsoleSession: DocumentRecord, Equatable {
    public static let kind = "console_session"
    public var id: String
    public var userId: String
    /// The login had a second factor (tokens minted for it carry `mfa`, as the password grant's would).
    public var mfa: Bool
    /// Sent back in every form; a request without it changes nothing.
    public var csrfToken: String
    public var createdAt: String
    public var expiresAt: String
    public var documentId: String { id }
    public var documentParent: String { userId }
    public var documentRef: String { "" }

    public init(id: String, userId: String, mfa: Bool, csrfToken: String, createdAt: String, expiresAt: String) {
        self.id = id; self.userId = userId; self.mfa = mfa; self.csrfToken = csrfToken; self.createdAt = createdAt; self.expiresAt = expiresAt
    }
}
