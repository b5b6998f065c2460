import Foundation
import GroveGit
import GroveModel
import GroveStore
import HTTPTypes
import Hummingbird
import NIOCore

/// `{public-url}/{projectId}.git/...`: git's smart HTTP protocol for clone, fetch and push, authenticated with
/// HTTP Basic (any user name; the password is an API token or an access token) and authorized by project role.
/// Requests and answers stream through `git http-backend`, so pushes of any size work and the hooks'
/// messages (the push's activity log) reach the pusher as they happen.
struct GitHandler {
    let server: ServerContext

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
        let (access, mfaEnforced) = try await server.access.resolve(user: user, project: project)
        guard access.permits(.view) else { return plain(.notFound, "Repository not found.\n") }
        if !server.repositories.exists(projectId) {
            // A push right after POST /projects: the repository appears when project.create runs, moments later.
            let sub = try await server.store.subscription(id: project.subscriptionId)
            if let status = sub?.status, status == .requested || status == .provisioning {
                let deadline = ContinuousClock.now + .seconds(30)
                while !server.repositories.exists(projectId) && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
            }
            guard server.repositories.exists(projectId) else { return plain(.notFound, "Repository not found.\n") }
        }
        // Git authenticates with API tokens, which count as a second factor only for users who have one.
        if mfaEnforced, try await !MFAHandlers.enrolled(server, user.id) {
            return plain(.forbidden, "The organization of \(projectId) requires two-factor authentication: set it up with `grove auth:mfa`.\n")
        }
        // Pushing needs at least the contributor role on some environment type; which branches a role may
        // update is decided per ref by the pre-receive hook.
        let mayPush = EnvironmentType.allCases.contains { access.permits(.environment(.contributor, $0)) }
        if service == .receivePack && !mayPush {
            return plain(.forbidden, "You have read-only access to \(projectId); pushing needs the contributor or admin role.\n")
        }
        var extra: [String: String] = [:]
        var config: [(String, String)] = []
        var token: String?
        if service == .receivePack {
            config = server.hooks.receiveConfig
            if request.method == .post {
                let t = server.pushSessions.open(.init(user: user, projectId: projectId, access: access))
                token = t
                extra = ["GROVE_HOOK_EXE": server.groveExecutable, "GROVE_HOOK_URL": server.internalURL, "GROVE_PUSH_TOKEN": t]
            }
        }
        let smart = SmartHTTP(repositories: server.repositories)
        let env = smart.environment(
            method: request.method.rawValue, pathInfo: path, query: request.uri.query, contentType: request.headers[.contentType],
            contentEncoding: request.headers[.contentEncoding], contentLength: request.headers[.contentLength].flatMap { Int($0) },
            user: user.username, allowPush: mayPush, config: config, extra: extra)
        let sessions = server.pushSessions
        let sessionToken = token
        let child: StreamingChild
        do { child = try StreamingChild(smart.backend.exe, smart.backend.args, environment: env) } catch {
            if let token { sessions.close(token) }
            throw error
        }
        // Feed the request body while reading the answer: git reads its input before it answers, but
        // neither side may wait for the other to finish first.
        let requestBody = request.body
        let pump = Task {
            // Writes go to the pipe in batches of up to 1 MiB: each write is a blocking call off the pool.
            var batch: [UInt8] = []
            batch.reserveCapacity(1 << 20)
            do {
                for try await buffer in requestBody {
                    batch.append(contentsOf: buffer.readableBytesView)
                    if batch.count >= 1 << 20 {
                        try await child.write(batch)
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                try await child.write(batch)
            } catch {}
            child.closeInput()
        }
        var pending: [UInt8] = []
        var parsed = SmartHTTP.parseHead(pending)
        while parsed == nil, let chunk = await child.next() {
            pending += chunk
            parsed = SmartHTTP.parseHead(pending)
        }
        guard let (head, bodyStart) = parsed else {
            _ = await pump.value
            let (_, stderr) = await child.wait()
            if let token { sessions.close(token) }
            server.logger.error("git http-backend failed", metadata: ["stderr": "\(String(decoding: stderr, as: UTF8.self))"])
            return plain(.internalServerError, "git http-backend failed: \(String(decoding: stderr, as: UTF8.self))\n")
        }
        var headers = HTTPFields()
        for (name, value) in head.headers { if let n = HTTPField.Name(name) { headers[n] = value } }
        let first = Array(pending[bodyStart...])
        let body = ResponseBody { writer in
            do {
                if !first.isEmpty { try await writer.write(ByteBuffer(bytes: first)) }
                while let chunk = await child.next() { try await writer.write(ByteBuffer(bytes: chunk)) }
            } catch {
                // The client went away: stop git (its hooks' activities carry on), reap it, end the session.
                child.kill()
                pump.cancel()
                _ = await child.wait()
                if let sessionToken { sessions.close(sessionToken) }
                throw error
            }
            _ = await pump.value
            _ = await child.wait()
            if let sessionToken { sessions.close(sessionToken) }
            try await writer.finish(nil)
        }
        return Response(status: .init(code: head.status), headers: headers, body: body)
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
