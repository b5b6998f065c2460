import GroveModel
import GroveStore

/// One answer of the REST API.
public struct APIResult: Sendable {
    public var status: Int
    public var json: JSON

    public init(status: Int, json: JSON) { self.status = status; self.json = json }

    public var ok: Bool { (200..<300).contains(status) }
    /// The API's own words for a refusal (its error JSON's `message`, or OAuth's `error_description`).
    public var message: String {
        json["message"]?.stringValue ?? json["error_description"]?.stringValue ?? "The API answered \(status)."
    }
    public var items: [JSON] { json.arrayValue ?? json["items"]?.arrayValue ?? [] }
}

/// What the console needs from the server it runs in. Every read and every action is a REST API call answered by
/// the API's own handlers, so the console can show or do nothing the API would not let the same user see or do.
public protocol ConsoleBackend: Sendable {
    /// Calls the API in process: `json` or `form` is the body; `token` the caller's access token.
    func call(_ method: String, _ path: String, json: JSON?, form: [(String, String)]?, token: String?) async -> APIResult
    /// A short-lived access token for a console session's user (nil when the user may no longer log in).
    func accessToken(for session: ConsoleSession) async -> String?
    /// The store holding console sessions.
    var store: any Store { get }
    /// The URL the platform is reached at (links shown to users, `Secure` cookies when it is https).
    var publicURL: String { get }
    /// The git remote of a project, shown where a project has no code yet.
    func gitRemote(projectId: String) -> String
}

extension ConsoleBackend {
    func get(_ path: String, _ token: String) async -> APIResult { await call("GET", path, json: nil, form: nil, token: token) }
    func post(_ path: String, _ body: JSON, _ token: String) async -> APIResult { await call("POST", path, json: body, form: nil, token: token) }
}
