import Foundation
import GroveConsole
import GroveModel
import GroveStore
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// Serves the web console under `/console` from this process; its API calls go through the same responder as
/// requests from the network (routing, authentication, visibility, errors).
struct ConsoleMount {
    static let prefix = "/console"
    /// Login and other console forms are small.
    static let maxFormSize = 64 * 1024

    let responder: GroveResponder

    static func handles(_ path: String) -> Bool { path == prefix || path.hasPrefix(prefix + "/") }

    /// A browser asking for the site root gets the console; API clients keep the service root's JSON.
    static func wantsConsole(_ request: Request) -> Bool {
        guard request.method == .get, request.uri.path == "/" else { return false }
        let accept = request.headers[.accept] ?? ""
        return accept.contains("text/html")
    }

    func handle(_ request: Request) async -> Response {
        if request.uri.path == Self.prefix { return redirect("/console/") }
        var form: [(String, String)] = []
        if request.method == .post {
            var req = request
            guard let body = try? await req.collectBody(upTo: Self.maxFormSize) else {
                return Response(status: .contentTooLarge, headers: [.contentType: "text/plain; charset=utf-8"],
                                body: .init(byteBuffer: ByteBuffer(string: "The form is larger than \(Self.maxFormSize) bytes.\n")))
            }
            form = ConsoleRequest.parseForm(String(buffer: body))
        }
        let consoleRequest = ConsoleRequest(
            method: request.method.rawValue, path: request.uri.path, query: ConsoleRequest.parseForm(request.uri.query ?? ""), form: form,
            cookies: ConsoleRequest.parseCookies(request.headers[.cookie]), origin: request.headers[.origin],
            host: request.head.authority)
        let answer = await Console(backend: ConsoleAPIBackend(responder: responder)).handle(consoleRequest)
        var headers = HTTPFields()
        for (name, value) in answer.headers {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        let status = HTTPResponse.Status(code: answer.status)
        switch answer.body {
        case .html(let markup):
            headers[.contentType] = "text/html; charset=utf-8"
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: markup.html)))
        case .bytes(let type, let bytes):
            headers[.contentType] = type
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        case .redirect(let location):
            headers[.location] = location
            return Response(status: status, headers: headers)
        case .eventStream(let events):
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-cache"
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                for await event in events { try await writer.write(ByteBuffer(string: event)) }
                try await writer.finish(nil)
            })
        case .events(let path, let token):
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-cache"
            return Response(status: .ok, headers: headers, body: await events(path: path, token: token))
        }
    }

    func redirect(_ location: String) -> Response { Response(status: .seeOther, headers: [.location: location]) }

    /// The API's line-per-item stream at `path`, relayed as one server-sent event per line, then an `end` event.
    func events(path: String, token: String) async -> ResponseBody {
        let upstream = await ConsoleAPIBackend(responder: responder).raw("GET", path, body: ByteBuffer(), contentType: nil, token: token)
        guard upstream.status == .ok else {
            let message = (try? JSON.parse(await ResponseCollector.bytes(of: upstream.body)))?["message"]?.stringValue ?? "The log is not available."
            let event = "event: failure\ndata: \(JSON.string(message).serialized())\n\nevent: end\ndata: done\n\n"
            return .init(byteBuffer: ByteBuffer(string: event))
        }
        let body = upstream.body
        return ResponseBody { writer in
            let (chunks, continuation) = AsyncStream<ByteBuffer>.makeStream()
            let producer = Task {
                try? await body.write(StreamingWriter(continuation: continuation))
                continuation.finish()
            }
            defer { producer.cancel() }
            var pending: [UInt8] = []
            for await chunk in chunks {
                pending.append(contentsOf: chunk.readableBytesView)
                var out = ByteBuffer()
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = pending[..<newline]
                    if !line.isEmpty {
                        out.writeString("data: ")
                        out.writeBytes(line)
                        out.writeString("\n\n")
                    }
                    pending.removeSubrange(...newline)
                }
                if out.readableBytes > 0 { try await writer.write(out) }
            }
            try await writer.write(ByteBuffer(string: "event: end\ndata: done\n\n"))
            try await writer.finish(nil)
        }
    }
}

/// The console's view of the API: in-process requests through the responder.
struct ConsoleAPIBackend: ConsoleBackend {
    let responder: GroveResponder
    var server: ServerContext { responder.server }
    var store: any Store { server.store }
    var publicURL: String { server.publicURL }

    func gitRemote(projectId: String) -> String { "\(server.publicURL)/\(projectId).git" }

    func call(_ method: String, _ path: String, json: JSON?, form: [(String, String)]?, token: String?) async -> APIResult {
        var body = ByteBuffer()
        var type: String?
        if let json {
            body.writeBytes(json.bytes)
            type = "application/json"
        } else if let form {
            body.writeString(form.map { "\(Self.formEscape($0.0))=\(Self.formEscape($0.1))" }.joined(separator: "&"))
            type = "application/x-www-form-urlencoded"
        }
        let response = await raw(method, path, body: body, contentType: type, token: token)
        let bytes = await ResponseCollector.bytes(of: response.body)
        return APIResult(status: Int(response.status.code), json: bytes.isEmpty ? .null : ((try? JSON.parse(bytes)) ?? .null))
    }

    func raw(_ method: String, _ path: String, body: ByteBuffer, contentType: String?, token: String?) async -> Response {
        var headers = HTTPFields()
        headers[.accept] = "application/json"
        if let token { headers[.authorization] = "Bearer \(token)" }
        if let contentType { headers[.contentType] = contentType }
        let head = HTTPRequest(method: HTTPRequest.Method(method) ?? .get, scheme: "http", authority: "console.internal", path: path, headerFields: headers)
        let request = Request(head: head, body: RequestBody(buffer: body))
        do { return try await responder.handle(request) } catch { return responder.errorResponse(error, path: path) }
    }

    func accessToken(for session: ConsoleSession) async -> String? {
        if let cached = server.consoleTokens.token(for: session.id) { return cached }
        guard let user = try? await store.user(id: session.userId), !user.deactivated,
              let issued = try? await OAuthHandlers.issue(for: user, grant: "password", mfa: session.mfa, withRefresh: false, server),
              let token = issued["access_token"]?.stringValue else { return nil }
        server.consoleTokens.remember(token, for: session.id, lifetime: TimeInterval(server.accessTokenLifetime))
        return token
    }

    static func formEscape(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}

/// Access tokens minted for console sessions, reused until shortly before they expire. They never leave the server.
final class ConsoleTokenCache: Sendable {
    private let entries = Mutex<[String: (token: String, until: Date)]>([:])

    func token(for session: String) -> String? {
        entries.withLock { e in
            guard let hit = e[session], hit.until > Date() else { return nil }
            return hit.token
        }
    }

    func remember(_ token: String, for session: String, lifetime: TimeInterval) {
        entries.withLock { e in
            let now = Date()
            if e.count > 10_000 { e = e.filter { $0.value.until > now } }
            e[session] = (token, now.addingTimeInterval(max(0, lifetime - 60)))
        }
    }
}

/// Reads a response body into memory (API answers are bounded; streams are relayed, not collected).
enum ResponseCollector {
    final class Sink: Sendable {
        let buffer = Mutex(ByteBuffer())
    }

    struct Writer: ResponseBodyWriter {
        let sink: Sink
        mutating func write(_ buffer: ByteBuffer) async throws {
            var b = buffer
            sink.buffer.withLock { $0.writeBuffer(&b) }
        }
        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }

    static func bytes(of body: ResponseBody) async -> [UInt8] {
        let sink = Sink()
        try? await body.write(Writer(sink: sink))
        return sink.buffer.withLock { Array($0.readableBytesView) }
    }
}

/// Hands the chunks of a streaming body to an async sequence.
struct StreamingWriter: ResponseBodyWriter {
    let continuation: AsyncStream<ByteBuffer>.Continuation
    mutating func write(_ buffer: ByteBuffer) async throws { continuation.yield(buffer) }
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws { continuation.finish() }
}
