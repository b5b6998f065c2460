import Crypto
import Foundation
import GroveCredentials
import GroveModel
import GroveStore

/// The web console at `/console/`: server-rendered pages over the REST API, for people who do not live in a terminal.
public struct Console: Sendable {
    public static let cookieName = "grove_console"
    /// A login lasts this long; logging out or deactivating the user ends it sooner.
    public static let sessionLifetime: TimeInterval = 12 * 3600

    let backend: any ConsoleBackend

    public init(backend: any ConsoleBackend) { self.backend = backend }

    public func handle(_ req: ConsoleRequest) async -> ConsoleResponse {
        var response = await route(req)
        // No inline script or style, no framing, no third-party anything: the pages work offline and an injected
        // tag would not run.
        response.headers += [
            ("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
            ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin"), ("Cache-Control", "no-store"),
        ]
        return response
    }

    func route(_ req: ConsoleRequest) async -> ConsoleResponse {
        let parts = ConsolePath.segments(req.path)
        guard parts.first == "console" else { return notFound() }
        let rest = Array(parts.dropFirst())
        if req.method == "POST", !sameOrigin(req) {
            return .page(Layout.bare(title: "Refused", Markup("<p class=\"error\">A form from another site was refused.</p>")), status: 403)
        }
        let route = ConsoleRoute(method: req.method, parts: rest)
        if let m = route.match("GET", "assets/*") {
            guard let asset = Assets.named(m[0]) else { return notFound() }
            return ConsoleResponse(headers: [("Cache-Control", "max-age=3600")], body: .bytes(contentType: asset.type, Array(asset.text.utf8)))
        }
        if route.match("GET", "login") != nil {
            if await authenticate(req) != nil { return .redirect("/console/") }
            return LoginPage.render(next: req.queryValue("next"))
        }
        if route.match("POST", "login") != nil { return await login(req) }
        if route.match("GET", "password-reset") != nil { return AccountLinkPages.forgot() }
        if route.match("POST", "password-reset") != nil { return await AccountLinkPages.requestReset(backend, req) }
        if let m = route.match("GET", "password-reset/*") { return AccountLinkPages.choose(token: m[0]) }
        if let m = route.match("POST", "password-reset/*") { return await AccountLinkPages.completeReset(backend, token: m[0], req) }
        if let m = route.match("GET", "email-confirmation/*") { return AccountLinkPages.confirmEmail(token: m[0]) }
        if let m = route.match("POST", "email-confirmation/*") { return await AccountLinkPages.completeEmail(backend, token: m[0]) }
        guard let (session, token) = await authenticate(req) else {
            let next = req.method == "GET" ? "?next=" + ConsolePath.query(req.path) : ""
            return .redirect("/console/login" + next)
        }
        let page = PageContext(backend: backend, session: session, token: token, path: req.path)
        if req.method == "POST" {
            guard let sent = req.field("csrf"), constantTimeEqual(sent, session.csrfToken) else {
                return .page(Layout.bare(title: "Refused", Markup("<p class=\"error\">The form was stale or forged: reload the page and try again.</p>")), status: 403)
            }
        }
        if route.match("POST", "logout") != nil {
            try? await backend.store.delete(ConsoleSession.self, id: session.id)
            return ConsoleResponse(status: 303, headers: [("Set-Cookie", clearCookie())], body: .redirect("/console/login"))
        }
        if route.match("GET", "") != nil { return await HomePage.render(page) }
        if let m = route.match("POST", "organizations/*/projects") { return await HomePage.createProject(page, organization: m[0], form: req) }
        if let m = route.match("GET", "organizations/*") { return await OrganizationPage.render(page, organizationId: m[0]) }
        if let m = route.match("POST", "organizations/*/invitations") { return await OrganizationPage.invite(page, organizationId: m[0], form: req) }
        if let m = route.match("POST", "organizations/*/teams") { return await OrganizationPage.createTeam(page, organizationId: m[0], form: req) }
        if let m = route.match("GET", "teams/*") { return await TeamPage.render(page, teamId: m[0]) }
        if req.method == "POST", rest.first == "teams", rest.count > 2 { return await TeamPage.act(page, teamId: rest[1], what: Array(rest.dropFirst(2)), form: req) }
        if let m = route.match("GET", "projects/*") { return await ProjectPage.render(page, projectId: m[0]) }
        if let m = route.match("GET", "projects/*/environments/*") { return await EnvironmentPage.render(page, projectId: m[0], environmentId: m[1]) }
        if let m = route.match("POST", "projects/*/environments/*/variables") {
            return await EnvironmentPage.addVariable(page, projectId: m[0], environmentId: m[1], form: req)
        }
        if let m = route.match("POST", "projects/*/environments/*/actions/*") {
            return await EnvironmentPage.act(page, projectId: m[0], environmentId: m[1], action: m[2], form: req)
        }
        if route.match("GET", "account") != nil { return await AccountPage.render(page) }
        if req.method == "POST", rest.first == "account", rest.count > 1 { return await AccountPage.act(page, Array(rest.dropFirst()), form: req) }
        if let m = route.match("POST", "projects/*/certificates") { return await CertificateSection.add(page, projectId: m[0], form: req) }
        if let m = route.match("POST", "projects/*/certificates/*/delete") {
            return await CertificateSection.remove(page, projectId: m[0], certificateId: m[1])
        }
        if let m = route.match("POST", "projects/*/integrations") { return await IntegrationSection.add(page, projectId: m[0], form: req) }
        if let m = route.match("POST", "projects/*/integrations/*/delete") {
            return await IntegrationSection.remove(page, projectId: m[0], integrationId: m[1])
        }
        if let m = route.match("GET", "projects/*/access") { return await AccessPage.render(page, projectId: m[0]) }
        if let m = route.match("POST", "projects/*/invitations") { return await AccessPage.invite(page, projectId: m[0], form: req) }
        if let m = route.match("POST", "projects/*/invitations/*/cancel") { return await AccessPage.cancel(page, projectId: m[0], invitationId: m[1]) }
        if let m = route.match("POST", "projects/*/access/*/remove") { return await AccessPage.remove(page, projectId: m[0], userId: m[1]) }
        if let m = route.match("POST", "projects/*/environments/*/domains") {
            return await EnvironmentPage.addDomain(page, projectId: m[0], environmentId: m[1], form: req)
        }
        if let m = route.match("POST", "projects/*/environments/*/domains/*/delete") {
            return await EnvironmentPage.removeDomain(page, projectId: m[0], environmentId: m[1], name: m[2])
        }
        if let m = route.match("POST", "projects/*/environments/*/backups/*/restore") {
            return await EnvironmentPage.restore(page, projectId: m[0], environmentId: m[1], backupId: m[2])
        }
        if let m = route.match("GET", "projects/*/environments/*/logs/*") {
            return await EnvironmentPage.log(page, projectId: m[0], environmentId: m[1], name: m[2])
        }
        if let m = route.match("GET", "projects/*/states") {
            return ConsoleResponse(body: .eventStream(EnvironmentStates(page, projectId: m[0]).stream()))
        }
        if let m = route.match("GET", "projects/*/activities") {
            return await ActivityPage.list(page, projectId: m[0], before: req.queryValue("before"), skip: req.queryValue("skip"))
        }
        if let m = route.match("GET", "projects/*/activities/*") { return await ActivityPage.render(page, projectId: m[0], activityId: m[1]) }
        if let m = route.match("GET", "projects/*/activities/*/events") {
            return ConsoleResponse(headers: [("Content-Type", "text/event-stream")],
                                   body: .events(apiPath: "/projects/\(ConsolePath.encode(m[0]))/activities/\(ConsolePath.encode(m[1]))/log", token: token))
        }
        return notFound()
    }

    func notFound() -> ConsoleResponse {
        .page(Layout.bare(title: "Not found", Markup("<p>There is no such page. <a href=\"/console/\">Back to your projects</a>.</p>")), status: 404)
    }

    // MARK: sessions

    /// The session named by the cookie and a token to act for its user, or nil (no cookie, unknown, expired, or the
    /// user may no longer log in).
    func authenticate(_ req: ConsoleRequest) async -> (ConsoleSession, String)? {
        guard let secret = req.cookies[Self.cookieName], secret.utf8.count >= 32, secret.utf8.count <= 128 else { return nil }
        guard let session = try? await backend.store.get(ConsoleSession.self, id: Self.sessionId(secret)) else { return nil }
        guard let expires = Timestamp.parse(session.expiresAt), expires > Date() else {
            try? await backend.store.delete(ConsoleSession.self, id: session.id)
            return nil
        }
        guard let token = await backend.accessToken(for: session) else { return nil }
        return (session, token)
    }

    static func sessionId(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The password grant of `/oauth2/token`, so the console's login says exactly what the API says.
    func login(_ req: ConsoleRequest) async -> ConsoleResponse {
        let username = req.field("username") ?? ""
        var form = [("grant_type", "password"), ("username", username), ("password", req.field("password") ?? "")]
        if let code = req.field("totp"), !code.isEmpty { form.append(("totp", code)) }
        if let apiToken = req.field("api_token"), !apiToken.isEmpty { form = [("grant_type", "api_token"), ("api_token", apiToken)] }
        let answer = await backend.call("POST", "/oauth2/token", json: nil, form: form, token: nil)
        guard answer.ok, let token = answer.json["access_token"]?.stringValue, let claims = TokenClaims(token) else {
            let needsCode = answer.message.contains("two-factor")
            return LoginPage.render(next: req.field("next"), username: username, error: answer.message, askCode: needsCode, status: 400)
        }
        // The refresh token the grant made is not kept: sessions mint their own short tokens.
        if let refresh = answer.json["refresh_token"]?.stringValue {
            _ = await backend.call("POST", "/oauth2/revoke", json: nil, form: [("token", refresh)], token: nil)
        }
        let secret = Self.randomToken()
        let now = Date()
        let session = ConsoleSession(id: Self.sessionId(secret), userId: claims.subject, mfa: claims.mfa, csrfToken: Self.randomToken(),
                                     createdAt: Timestamp.format(now), expiresAt: Timestamp.format(now.addingTimeInterval(Self.sessionLifetime)))
        do { try await backend.store.insert(session) } catch {
            return LoginPage.render(next: nil, username: username, error: "The session could not be saved; try again.", status: 500)
        }
        let next = req.field("next").flatMap { $0.hasPrefix("/console/") && !$0.hasPrefix("//") ? $0 : nil } ?? "/console/"
        return ConsoleResponse(status: 303, headers: [("Set-Cookie", cookie(secret))], body: .redirect(next))
    }

    var secureCookies: Bool { backend.publicURL.lowercased().hasPrefix("https://") }

    func cookie(_ secret: String) -> String {
        "\(Self.cookieName)=\(secret); Path=/console; HttpOnly; SameSite=Strict; Max-Age=\(Int(Self.sessionLifetime))" + (secureCookies ? "; Secure" : "")
    }

    func clearCookie() -> String {
        "\(Self.cookieName)=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0" + (secureCookies ? "; Secure" : "")
    }

    /// A form posted from another site is refused even before its CSRF token is checked.
    func sameOrigin(_ req: ConsoleRequest) -> Bool {
        guard let origin = req.origin, origin != "null" else { return req.origin == nil }
        guard let host = req.host, let url = URL(string: origin), let originHost = url.host else { return false }
        let originAuthority = url.port.map { "\(originHost):\($0)" } ?? originHost
        return originAuthority.lowercased() == host.lowercased()
    }

    static func randomToken() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &g)) }.joined()
    }

}

/// The claims the console reads from a token the API just issued to it (no verification needed: it came from the
/// API in this process, not from the browser).
struct TokenClaims {
    let subject: String
    let mfa: Bool

    init?(_ jwt: String) {
        let parts = jwt.split(separator: ".")
        guard parts.count == 3 else { return nil }
        var b64 = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        guard let data = Data(base64Encoded: b64), let claims = try? JSON.parse(Array(data)), let sub = claims["sub"]?.stringValue else { return nil }
        subject = sub
        mfa = claims["amr"]?.arrayValue?.contains(.string("mfa")) == true
    }
}

/// A request's method and path segments (below `/console`), matched against patterns where `*` takes one segment.
struct ConsoleRoute {
    let method: String
    let parts: [String]

    /// The segments `*` took, or nil when the method or path differs.
    func match(_ method: String, _ pattern: String) -> [String]? {
        guard method == self.method else { return nil }
        let want = pattern.split(separator: "/").map(String.init)
        guard want.count == parts.count else { return nil }
        var captured: [String] = []
        for (w, p) in zip(want, parts) {
            if w == "*" {
                guard !p.isEmpty else { return nil }
                captured.append(p)
            } else if w != p {
                return nil
            }
        }
        return captured
    }
}

/// Paths: raw segments decoded one by one (branch names may hold an encoded `/`), and segments encoded back.
enum ConsolePath {
    static func segments(_ path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map { String($0).removingPercentEncoding ?? String($0) }
    }

    static func encode(_ segment: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return segment.addingPercentEncoding(withAllowedCharacters: allowed) ?? segment
    }

    static func query(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~/")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }

    static func project(_ p: String) -> String { "/console/projects/\(encode(p))" }
    static func environment(_ p: String, _ e: String) -> String { "/console/projects/\(encode(p))/environments/\(encode(e))" }
    static func activity(_ p: String, _ a: String) -> String { "/console/projects/\(encode(p))/activities/\(encode(a))" }
}

/// What every page handler gets: who asks, with what token, and the API.
struct PageContext: Sendable {
    let backend: any ConsoleBackend
    let session: ConsoleSession
    let token: String
    let path: String

    func get(_ path: String) async -> APIResult { await backend.get(path, token) }
    func post(_ path: String, _ body: JSON) async -> APIResult { await backend.post(path, body, token) }
    func call(_ method: String, _ path: String, _ body: JSON?) async -> APIResult {
        await backend.call(method, path, json: body, form: nil, token: token)
    }

    /// Page chrome for this user.
    func layout(title: String, crumbs: [(String, String?)] = [], _ content: Markup) -> Markup {
        Layout.page(title: title, crumbs: crumbs, csrf: session.csrfToken, content)
    }
}
