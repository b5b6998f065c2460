import Foundation
import GroveModel
import GroveStore
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore

/// Turns HTTP requests into `APIRequest`s: size limit, authentication, routing, and errors as JSON.
struct GroveResponder: HTTPResponder {
    typealias Context = BasicRequestContext
    let routes: Routes
    let server: ServerContext

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        let start = ContinuousClock.now
        let response: Response
        do {
            response = try await handle(request)
        } catch {
            response = errorResponse(error, path: request.uri.path)
        }
        RequestTimers.shared.timer(for: request.method).recordNanoseconds((ContinuousClock.now - start).nanosecondsValue)
        return response
    }

    func handle(_ request: Request) async throws -> Response {
        // Region links on Platform.sh live under /api/projects/...; accept that prefix too.
        var path = request.uri.path
        if path.hasPrefix("/api/") { path = String(path.dropFirst(4)) }
        if ConsoleMount.handles(request.uri.path) || ConsoleMount.wantsConsole(request) {
            if request.uri.path == "/" { return Response(status: .seeOther, headers: [.location: "/console/"]) }
            return await ConsoleMount(responder: self).handle(request)
        }
        if request.uri.path.hasPrefix(PushHookHandler.prefix) {
            return try await PushHookHandler(server: server).handle(request)
        }
        if let projectId = GitHandler.projectId(in: request.uri.path) {
            return try await GitHandler(server: server).handle(request, projectId: projectId)
        }
        let route: Routes.Route
        let params: [String: String]
        switch routes.match(method: request.method, rawPath: path) {
        case .found(let r, let p): route = r; params = p
        case .methodNotAllowed(let allowed):
            var e = APIError(.methodNotAllowed, "\(request.method.rawValue) is not allowed on \(path).")
            e.headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
            throw e
        case .none: throw APIError.notFound("The path \(path)")
        }
        var body: [UInt8] = []
        if request.method != .get && request.method != .head {
            var req = request
            do {
                let buf = try await req.collectBody(upTo: server.maxBodySize)
                body = Array(buf.readableBytesView)
            } catch {
                throw APIError(.contentTooLarge, "The request body exceeds \(server.maxBodySize) bytes.")
            }
        }
        var user: User?
        var grant: String?
        var amr: [String] = []
        var cacheKey: String?
        var version: UInt64?
        var access: RouteAccess?
        if route.authenticated {
            let claims = try verifiedClaims(request.headers[.authorization])
            // A GET answered before for this caller, with no write since that it could show, is served as rendered
            // then: a project's answers move with that project's writes and with writes of what access depends on,
            // not with other projects'. Repository views change with pushes, which bypass the store: never cached.
            if request.method == .get, !route.template.hasPrefix("/projects/{projectId}/git/"), let cache = server.responseCache,
               let v = params["projectId"].map({ server.store.answerVersion(project: $0) }) ?? server.store.answerVersion,
               let sub = claims["sub"]?.stringValue, let logKey = logKey(route) {
                // Tokens with and without a second factor may see different things.
                let mfa = claims["amr"]?.arrayValue?.contains(.string("mfa")) == true
                let key = sub + (mfa ? "+mfa " : " ") + path + "?" + (request.uri.query ?? "") + logKey
                if let cached = cache.get(key, version: v) {
                    if cached.body.readableBytes >= ContentEncoding.minimumBytes, ContentEncoding.acceptsGzip(request.headers[.acceptEncoding]),
                       let gzipped = cache.gzipped(key, version: v, entry: cached) {
                        return Response(status: .ok, headers: [.contentType: "application/json", .contentEncoding: "gzip", .vary: "Accept-Encoding"],
                                        body: .init(byteBuffer: gzipped))
                    }
                    return cachedResponse(cached.body)
                }
                cacheKey = key
                version = v
            }
            if route.scope != .none {
                // The caller, the project and the environment in one read: most API traffic is project routes.
                let (u, found) = try await server.routeAccess(forClaims: claims, projectId: params["projectId"] ?? "",
                                                              environmentId: route.scope == .environment ? params["environmentId"] ?? "" : nil)
                (user, grant, access) = (u, claims["grant"]?.stringValue ?? "api_token", found)
            } else {
                (user, grant) = try await authenticate(claims)
            }
            amr = claims["amr"]?.arrayValue?.compactMap(\.stringValue) ?? []
        }
        var api = APIRequest(method: request.method, path: path, params: params, query: QueryString.parse(request.uri.query),
                             headers: request.headers, body: body, user: user, grant: grant)
        api.amr = amr
        if route.authenticated, route.scope != .none {
            let (p, level) = try await server.visibleProject(api, id: api.param("projectId"), found: access?.project)
            api.resolvedProject = (p, level)
            api.resolvedOrganization = access?.project?.1.organization
            if route.scope == .environment {
                api.resolvedEnvironment = try server.visibleEnvironment(access?.environment, level, id: api.param("environmentId"))
            }
        }
        let result = try await route.handler(api)
        if let cacheKey, let version {
            let rendered: ByteBuffer?
            switch result {
            case .json(.ok, let json): rendered = ByteBuffer(bytes: json.bytes)
            case .raw(.ok, "application/json", let raw): rendered = raw
            default: rendered = nil
            }
            if let buffer = rendered {
                server.responseCache?.put(cacheKey, version: version, body: buffer)
                return cachedResponse(buffer)
            }
        }
        return render(result)
    }

    /// What a cache key adds for answers that show an activity's log, which moves without moving the answer version
    /// (`Store.answerVersion`): the change version, so a new log line is a new key. nil when that is unknown (such an
    /// answer is then not cached); empty for every other route.
    func logKey(_ route: Routes.Route) -> String? {
        guard route.template.hasSuffix("/activities/{activityId}") else { return "" }
        return server.store.changeVersion.map { " log@\($0)" }
    }

    /// A cacheable answer sent as it is; it may come gzip on the next request, so caches must key on Accept-Encoding.
    func cachedResponse(_ body: ByteBuffer) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if body.readableBytes >= ContentEncoding.minimumBytes { headers[.vary] = "Accept-Encoding" }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }

    func verifiedClaims(_ header: String?) throws -> JSONObject {
        guard let header, header.utf8.count > 7, header.utf8.prefix(7).map({ $0 | 0x20 }).elementsEqual("bearer ".utf8) else {
            throw APIError.unauthorized("Authentication required: send Authorization: Bearer <access token>.")
        }
        var token = Substring(header.dropFirst(7))
        while token.first == " " { token = token.dropFirst() }
        while token.last == " " { token = token.dropLast() }
        return try server.accessTokenClaims(String(token))
    }

    func authenticate(_ claims: JSONObject) async throws -> (User, String) {
        (try await server.user(forClaims: claims), claims["grant"]?.stringValue ?? "api_token")
    }

    func render(_ r: APIResponse) -> Response {
        switch r {
        case .json(let status, let json):
            return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: json.bytes)))
        case .empty(let status):
            return Response(status: status)
        case .stream(let status, let type, let body):
            return Response(status: status, headers: [.contentType: type, .cacheControl: "no-cache"], body: body)
        case .raw(let status, let type, let buffer):
            return Response(status: status, headers: [.contentType: type], body: .init(byteBuffer: buffer))
        }
    }

    func errorResponse(_ error: any Error, path: String) -> Response {
        let e: APIError
        if let mapped = APIError.from(error) {
            e = mapped
        } else {
            server.logger.error("request failed", metadata: ["path": "\(path)", "error": "\(error)"])
            e = APIError(.internalServerError, "Internal error; the server log has the details.")
        }
        var headers = e.headers
        headers[.contentType] = "application/json"
        var buf = ByteBuffer()
        buf.writeString(e.body.serialized())
        return Response(status: e.status, headers: headers, body: .init(byteBuffer: buf))
    }
}

extension Duration {
    var nanosecondsValue: Int64 {
        let c = components
        return c.seconds * 1_000_000_000 + c.attoseconds / 1_000_000_000
    }
}

/// One swift-metrics timer per HTTP method, made once instead of per request.
final class RequestTimers: Sendable {
    static let shared = RequestTimers()
    private let timers: [String: Timer]
    private let other: Timer

    init() {
        var t: [String: Timer] = [:]
        for m in ["GET", "POST", "PATCH", "DELETE", "PUT", "HEAD"] {
            t[m] = Timer(label: "grove_http_request_duration", dimensions: [("method", m)])
        }
        timers = t
        other = Timer(label: "grove_http_request_duration", dimensions: [("method", "other")])
    }

    func timer(for method: HTTPRequest.Method) -> Timer { timers[method.rawValue] ?? other }
}
