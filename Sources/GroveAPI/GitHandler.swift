import Foundation
import GroveGit
import GroveModel
import HTTPTypes
import Hummingbird
import NIOCore

/// `{public-url}/{projectId}.git/...`: git's smart HTTP protocol for clone, fetch and push, authenticated with
/// HTTP Basic (any user name; the password is an API token or an access token) and authorized by project role.
struct GitHandler {
    let server: ServerContext
    static let maxPushBytes = 256 << 20

    /// The project id when `path` addresses a hosted repository.
    static func projectId(in path: String) -> String? {
        guard path.hasPrefix("/") else { return nil }
        let first = path.dropFirst().prefix { $0 != "/" }
        guard first.hasSuffix(".git"), first.count > 4 else { return nil }
        return String(first.dropLast(4))
    }

    func handle(_ request: Request, projectId: String) async throws -> Response {
        let path = request.uri.path
        guard let service = SmartHTTP.service(path: path, query: request.uri.query) else {
            return plain(.notFound, "Not a git smart HTTP path: \(path)\n")
        }
        guard let user = try await authenticate(request.headers[.authorization]) else {
            var headers: HTTPFields = [.contentType: "text/plain"]
            headers[.wwwAuthenticate] = "Basic realm=\"Grove git\""
            return Response(status: .unauthorized, headers: headers,
                            body: .init(byteBuffer: ByteBuffer(string: "Authentication required: use an API token as the password.\n")))
        }
        guard let project = try await server.store.project(id: projectId) else { return plain(.notFound, "Repository not found.\n") }
        let access = try await server.access.level(user: user, project: project)
        guard access.canSeeProject, server.repositories.exists(projectId) else { return plain(.notFound, "Repository not found.\n") }
        // Pushing needs at least the contributor role on some environment type; which branches a role may update
        // is enforced per ref with the push semantics.
        let mayPush = EnvironmentType.allCases.contains { access.allows(.contributor, on: $0) }
        if service == .receivePack && !mayPush {
            return plain(.forbidden, "You have read-only access to \(projectId); pushing needs the contributor or admin role.\n")
        }
        var body: [UInt8] = []
        if request.method == .post {
            var req = request
            do { body = Array(try await req.collectBody(upTo: Self.maxPushBytes).readableBytesView) } catch {
                return plain(.contentTooLarge, "The push exceeds \(Self.maxPushBytes >> 20) MiB.\n")
            }
        }
        let answer = try await SmartHTTP(repositories: server.repositories).handle(
            method: request.method.rawValue, pathInfo: path, query: request.uri.query,
            contentType: request.headers[.contentType], contentEncoding: request.headers[.contentEncoding],
            body: body, user: user.username, allowPush: mayPush)
        var headers = HTTPFields()
        for (name, value) in answer.headers { if let n = HTTPField.Name(name) { headers[n] = value } }
        return Response(status: .init(code: answer.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }

    func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// Basic credentials whose password is an API token or a valid access token.
    func authenticate(_ header: String?) async throws -> User? {
        guard let header, header.utf8.count > 6, header.utf8.prefix(6).map({ $0 | 0x20 }).elementsEqual("basic ".utf8),
              let decoded = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
              let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":") else { return nil }
        return try await server.user(forSecret: String(text[text.index(after: colon)...]))
    }
}
