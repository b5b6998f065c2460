import Foundation

/// A browser request as the console sees it, independent of the HTTP server that received it.
public struct ConsoleRequest: Sendable {
    public var method: String
    /// The path below the site root, starting with `/console`.
    public var path: String
    public var query: [(String, String)]
    /// Fields of an `application/x-www-form-urlencoded` body.
    public var form: [(String, String)]
    public var cookies: [String: String]
    /// The `Origin` and `Host` headers, compared on every POST.
    public var origin: String?
    public var host: String?

    public init(method: String, path: String, query: [(String, String)] = [], form: [(String, String)] = [], cookies: [String: String] = [:],
                origin: String? = nil, host: String? = nil) {
        self.method = method; self.path = path; self.query = query; self.form = form; self.cookies = cookies; self.origin = origin; self.host = host
    }

    public func field(_ name: String) -> String? { form.first { $0.0 == name }?.1 }
    public func queryValue(_ name: String) -> String? { query.first { $0.0 == name }?.1 }

    /// `a=1&b=two+words` into pairs (form bodies and query strings).
    public static func parseForm(_ text: String) -> [(String, String)] {
        text.split(separator: "&", omittingEmptySubsequences: true).map { part in
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
            return (decode(kv[0]), kv.count > 1 ? decode(kv[1]) : "")
        }
    }

    /// The `Cookie` header's pairs.
    public static func parseCookies(_ header: String?) -> [String: String] {
        var out: [String: String] = [:]
        for part in (header ?? "").split(separator: ";") {
            let kv = part.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { continue }
            out[kv[0].trimmingCharacters(in: .whitespaces)] = kv[1].trimmingCharacters(in: .whitespaces)
        }
        return out
    }
}

/// What the console answers; the server adapter turns it into HTTP.
public struct ConsoleResponse: Sendable {
    public enum Body: Sendable {
        case html(Markup)
        case bytes(contentType: String, [UInt8])
        case redirect(String)
        /// The API's streaming answer at `apiPath`, relayed as server-sent events (one `data:` event per line).
        case events(apiPath: String, token: String)
        /// Server-sent events the console makes itself (each string one whole event).
        case eventStream(AsyncStream<String>)
    }

    public var status: Int
    public var headers: [(String, String)]
    public var body: Body

    public init(status: Int = 200, headers: [(String, String)] = [], body: Body) {
        self.status = status; self.headers = headers; self.body = body
    }

    public static func page(_ markup: Markup, status: Int = 200) -> ConsoleResponse { ConsoleResponse(status: status, body: .html(markup)) }
    /// 303: a POST is followed by a GET of the result page.
    public static func redirect(_ location: String) -> ConsoleResponse { ConsoleResponse(status: 303, body: .redirect(location)) }
}
