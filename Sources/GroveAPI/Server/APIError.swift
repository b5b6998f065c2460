import GroveModel
import GroveStore
import HTTPTypes

/// An error answered as `{status, code, message, title, detail}` (plus `error` for accounts-style clients).
public struct APIError: Error, Sendable {
    public var status: HTTPResponse.Status
    public var message: String
    public var detail: JSON
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ message: String, detail: JSON = .object(JSONObject())) {
        self.status = status
        self.message = message
        self.detail = detail
    }

    public static func badRequest(_ m: String, field: String? = nil) -> APIError {
        var d = JSONObject()
        if let field { d[field] = .string(m) }
        return APIError(.badRequest, field.map { "\($0): \(m)" } ?? m, detail: .object(d))
    }
    public static func notFound(_ what: String) -> APIError { APIError(.notFound, "\(what) not found.") }
    public static func forbidden(_ m: String) -> APIError { APIError(.forbidden, m) }
    public static func conflict(_ m: String) -> APIError { APIError(.conflict, m) }
    public static func unauthorized(_ m: String = "A valid access token is required.") -> APIError {
        var e = APIError(.unauthorized, m)
        e.headers[.wwwAuthenticate] = "Bearer realm=\"grove\", error=\"invalid_token\""
        return e
    }
    public static func unavailable(_ m: String) -> APIError { APIError(.serviceUnavailable, m) }
    public static func notImplemented(_ m: String) -> APIError { APIError(.notImplemented, m) }

    var body: JSON {
        .object(JSONObject([
            ("status", "error"),
            ("code", .int(Int64(status.code))),
            ("message", .string(message)),
            ("title", .string(status.reasonPhrase)),
            ("detail", detail),
            ("error", .string(message)),
        ]))
    }
}

extension APIError {
    /// Maps store conflicts and other low-level failures to API errors.
    static func from(_ error: any Error) -> APIError? {
        if let e = error as? APIError { return e }
        if let e = error as? StoreError {
            switch e {
            case .conflict: return .conflict("The resource already exists.")
            case .notFound(let m): return .notFound(m)
            default: return nil
            }
        }
        return nil
    }
}
