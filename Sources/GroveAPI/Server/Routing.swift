import Foundation
import GroveModel
import HTTPTypes
import Hummingbird
import NIOCore

/// What a handler sees: the request, its decoded path parameters and query, and the caller.
public struct APIRequest: Sendable {
    public let method: HTTPRequest.Method
    public let path: String
    public let params: [String: String]
    public let query: [(String, String)]
    public let headers: HTTPFields
    public let body: [UInt8]
    public let user: User?
    public let grant: String?
    /// The access token's authentication methods (`pwd`, `api_token`, `mfa`).
    public var amr: [String] = []
    /// The project of a `/projects/{projectId}/...` route with the caller's access, and the environment of a
    /// `.../environments/{environmentId}/...` route: resolved (404 when not visible to the caller, MFA enforced) by the
    /// responder before the handler runs, so no handler repeats the check.
    var resolvedProject: (Project, ProjectAccessLevel)?
    var resolvedEnvironment: Environment?
    /// The resolved project's organization, read with the caller's access (nil when the record is gone).
    var resolvedOrganization: Organization?

    public func param(_ name: String) -> String { params[name] ?? "" }

    /// The path's project and the caller's access to it.
    func project() throws -> (Project, ProjectAccessLevel) {
        guard let resolvedProject else { throw APIError(.internalServerError, "\(path) is not a project route.") }
        return resolvedProject
    }

    /// The path's environment, visible to the caller.
    func environment() throws -> Environment {
        guard let resolvedEnvironment else { throw APIError(.internalServerError, "\(path) is not an environment route.") }
        return resolvedEnvironment
    }
    public func queryValue(_ name: String) -> String? { query.first { $0.0 == name }?.1 }
    /// All values of a repeated parameter, accepting `name`, `name[]` and comma-separated lists.
    public func queryValues(_ name: String) -> [String] {
        query.filter { $0.0 == name || $0.0 == name + "[]" }.flatMap { $0.1.split(separator: ",").map(String.init) }.filter { !$0.isEmpty }
    }

    public func requireUser() throws -> User {
        guard let user else { throw APIError.unauthorized() }
        return user
    }

    /// The JSON object body, or an empty object when there is no body.
    public func jsonObject(allowEmpty: Bool = true) throws -> JSONObject {
        if body.isEmpty || body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            if allowEmpty { return JSONObject() }
            throw APIError.badRequest("A JSON object body is required.")
        }
        let v: JSON
        do { v = try JSON.parse(body) } catch { throw APIError.badRequest("The body is not valid JSON: \(error)") }
        guard case .object(let o) = v else { throw APIError.badRequest("The body must be a JSON object, not \(v.typeName).") }
        return o
    }
}

public enum APIResponse: Sendable {
    case json(HTTPResponse.Status, JSON)
    case empty(HTTPResponse.Status)
    case stream(HTTPResponse.Status, contentType: String, ResponseBody)
    /// Bytes rendered by the handler, sent as they are.
    case raw(HTTPResponse.Status, contentType: String, ByteBuffer)
}

public typealias Handler = @Sendable (APIRequest) async throws -> APIResponse

/// One operation of the API as `OperationCatalog` declares it: method, path template, whether it needs a bearer token,
/// and its OpenAPI description (operation id, parameters, body, responses).
public struct Operation: Sendable {
    public let id: String
    public let method: HTTPRequest.Method
    public let path: String
    public let authenticated: Bool
    public let spec: JSON
}

/// Handlers bound to operations that are not declared (or twice): the server does not start with them.
public struct RouteDeclarationError: Error, CustomStringConvertible {
    public let problems: [String]
    public var description: String { "routes: " + problems.joined(separator: "; ") }
}

/// A small method-and-segments router. Routes are bound to declared operations by id, so what is served and what
/// `/openapi.json` describes come from one declaration. Segments are percent-decoded one by one, so environment ids
/// holding `/` (sent as `%2F`) stay one parameter, and segments such as `email={email}` can be matched by prefix.
public struct Routes: Sendable {
    enum Segment: Sendable {
        case literal(String)
        case param(String)
        case prefixed(String, String)  // "email=" + param
    }

    /// What the responder resolves from the path before the handler runs.
    enum Scope: Sendable { case none, project, environment }

    struct Route: Sendable {
        let operation: Operation
        let scope: Scope
        let segments: [Segment]
        let handler: Handler
        let literalCount: Int
        var method: HTTPRequest.Method { operation.method }
        var authenticated: Bool { operation.authenticated }
        var template: String { operation.path }
    }

    private(set) var routes: [Route] = []
    /// Registrations naming an operation the catalog does not declare, or one already bound: the server refuses to
    /// start with any (see `APIServer.makeRoutes`).
    public private(set) var problems: [String] = []
    private let catalog: [String: Operation]

    /// The operations served, in registration order.
    public var operations: [Operation] { routes.map(\.operation) }

    public init(catalog: [String: Operation] = OperationCatalog.operations) { self.catalog = catalog }

    /// Serves the declared operation `id` with `handler`.
    public mutating func add(_ id: String, _ handler: @escaping Handler) {
        guard let operation = catalog[id] else { problems.append("no operation \(id) is declared"); return }
        guard !routes.contains(where: { $0.operation.id == id }) else { problems.append("operation \(id) is served twice"); return }
        let segs = operation.path.split(separator: "/").map { s -> Segment in
            let s = String(s)
            if s.hasPrefix("{") && s.hasSuffix("}") { return .param(String(s.dropFirst().dropLast())) }
            if let open = s.firstIndex(of: "{"), s.hasSuffix("}") {
                return .prefixed(String(s[..<open]), String(s[s.index(after: open)..<s.index(before: s.endIndex)]))
            }
            return .literal(s)
        }
        let literals = segs.reduce(0) { n, s in if case .literal = s { return n + 2 }; if case .prefixed = s { return n + 1 }; return n }
        let scope: Scope = operation.path.hasPrefix("/projects/{projectId}/environments/{environmentId}") ? .environment
            : operation.path.hasPrefix("/projects/{projectId}") ? .project : .none
        routes.append(Route(operation: operation, scope: scope, segments: segs, handler: handler, literalCount: literals))
        // Literal routes first, so `/users/me` wins over `/users/{user_id}`; sorted once here, not per request.
        routes.sort { $0.literalCount > $1.literalCount }
    }

    enum Match {
        case found(Route, [String: String])
        case methodNotAllowed([HTTPRequest.Method])
        case none
    }

    func match(method: HTTPRequest.Method, rawPath: String) -> Match {
        let parts = rawPath.split(separator: "/", omittingEmptySubsequences: true).map { String($0) }
        var allowed: [HTTPRequest.Method] = []
        for route in routes {
            guard route.segments.count == parts.count else { continue }
            var params: [String: String] = [:]
            var ok = true
            for (seg, raw) in zip(route.segments, parts) {
                let decoded = raw.utf8.contains(0x25) ? (raw.removingPercentEncoding ?? raw) : raw
                switch seg {
                case .literal(let l): ok = decoded == l
                case .param(let name): params[name] = decoded; ok = !decoded.isEmpty
                case .prefixed(let prefix, let name):
                    ok = decoded.hasPrefix(prefix) && decoded.count > prefix.count
                    if ok { params[name] = String(decoded.dropFirst(prefix.count)) }
                }
                if !ok { break }
            }
            guard ok else { continue }
            if route.method == method || (method == .head && route.method == .get) { return .found(route, params) }
            allowed.append(route.method)
        }
        return allowed.isEmpty ? .none : .methodNotAllowed(allowed)
    }
}

enum QueryString {
    static func parse(_ query: String?) -> [(String, String)] {
        guard let query, !query.isEmpty else { return [] }
        return query.split(separator: "&").map { pair in
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func dec(_ s: Substring) -> String { String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
            return (dec(kv[0]), kv.count > 1 ? dec(kv[1]) : "")
        }
    }
}
