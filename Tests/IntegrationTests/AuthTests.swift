import Foundation
import GroveModel
import Testing

@Suite("OAuth2 tokens and users")
struct AuthTests {
    @Test("api_token grant: form with Basic, form with client_id, JSON; bad tokens refused", arguments: Backend.allCases)
    func apiTokenGrant(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let anon = HTTP(base: s.baseURL)
        let form = try await anon.request("POST", "/oauth2/token", raw: Data("grant_type=api_token&api_token=\(s.initialToken)&client_id=platform-cli&client_secret=".utf8),
                                          contentType: "application/x-www-form-urlencoded")
        #expect(form.status == 200)
        #expect(form.json["token_type"]?.stringValue == "bearer")
        #expect(form.json["expires_in"]?.intValue == 900)
        let json = try await anon.request("POST", "/oauth2/token", json: ["grant_type": "api_token", "api_token": .string(s.initialToken)],
                                          headers: ["Authorization": "Basic " + Data("platform-cli:".utf8).base64EncodedString()])
        #expect(json.status == 200)
        // The access token is a JWT whose sub is the user id.
        let access = try #require(json.json["access_token"]?.stringValue)
        let parts = access.split(separator: ".")
        #expect(parts.count == 3)
        var payload = String(parts[1]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while payload.count % 4 != 0 { payload += "=" }
        let claims = try JSON.parse(Array(try #require(Data(base64Encoded: payload))))
        let me = try await HTTP(base: s.baseURL, bearer: access).get("/users/me")
        #expect(me.status == 200)
        #expect(claims["sub"]?.stringValue == me.json["id"]?.stringValue)
        #expect(claims["exp"]?.intValue != nil)

        let bad = try await anon.request("POST", "/oauth2/token", raw: Data("grant_type=api_token&api_token=nope".utf8), contentType: "application/x-www-form-urlencoded")
        #expect(bad.status == 400)
        #expect(bad.json["error"]?.stringValue == "invalid_grant")
        let unsupported = try await anon.request("POST", "/oauth2/token", raw: Data("grant_type=magic".utf8), contentType: "application/x-www-form-urlencoded")
        #expect(unsupported.json["error"]?.stringValue == "unsupported_grant_type")
    }

    @Test("every API endpoint needs a bearer token", arguments: Backend.allCases)
    func unauthenticated(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        for path in ["/users/me", "/projects", "/organizations", "/me"] {
            let r = try await HTTP(base: s.baseURL).get(path)
            #expect(r.status == 401, "\(path)")
            #expect(r.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
            #expect(r.json["code"]?.intValue == 401)
            #expect(r.json["message"]?.stringValue?.isEmpty == false)
        }
        let garbage = try await HTTP(base: s.baseURL, bearer: "not-a-jwt").get("/users/me")
        #expect(garbage.status == 401)
    }

    @Test("password grant, refresh rotation and revocation", arguments: Backend.allCases)
    func passwordAndRefresh(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let (st, out) = try s.admin(["admin:user-create", "--email", "dev@example.com", "--username", "dev", "--password", "s3cret-pass"])
        #expect(st == 0, "\(out)")
        let anon = HTTP(base: s.baseURL)
        let wrong = try await anon.request("POST", "/oauth2/token", raw: Data("grant_type=password&username=dev&password=nope".utf8),
                                           contentType: "application/x-www-form-urlencoded")
        #expect(wrong.status == 400)
        let ok = try await anon.request("POST", "/oauth2/token", raw: Data("grant_type=password&username=dev%40example.com&password=s3cret-pass".utf8),
                                        contentType: "application/x-www-form-urlencoded")
        #expect(ok.status == 200)
        let refresh = try #require(ok.json["refresh_token"]?.stringValue)
        let access = try #require(ok.json["access_token"]?.stringValue)
        let me = try await HTTP(base: s.baseURL, bearer: access).get("/users/me")
        #expect(me.json["email"]?.stringValue == "dev@example.com")

        let r1 = try await anon.request("POST", "/oauth2/token", raw: Data("grant_type=refresh_token&refresh_token=\(refresh)".utf8),
                                        contentType: "application/x-www-form-urlencoded")
        #expect(r1.status == 200)
        #expect(r1.json["refresh_token"]?.stringValue != refresh)
        // A refresh token works once.
        let r2 = try await anon.request("POST", "/oauth2/token", raw: Data("grant_type=refresh_token&refresh_token=\(refresh)".utf8),
                                        contentType: "application/x-www-form-urlencoded")
        #expect(r2.status == 400)

        let revoke = try await anon.request("POST", "/oauth2/revoke", raw: Data("token=\(access)&token_type_hint=access_token".utf8),
                                            contentType: "application/x-www-form-urlencoded")
        #expect(revoke.status == 200)
        #expect(try await HTTP(base: s.baseURL, bearer: access).get("/users/me").status == 401)
    }

    @Test("API tokens: create shows the secret once, list hides it, delete stops it", arguments: Backend.allCases)
    func apiTokens(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let http = try await s.login()
        let uid = try #require(try await http.get("/users/me").json["id"]?.stringValue)
        let created = try await http.post("/users/\(uid)/api-tokens", ["name": "ci"])
        #expect(created.status == 201)
        let secret = try #require(created.json["token"]?.stringValue)
        let tid = try #require(created.json["id"]?.stringValue)
        let list = try await http.get("/users/\(uid)/api-tokens")
        #expect(list.json.arrayValue?.count == 2)
        #expect(list.json.arrayValue?.allSatisfy { $0["token"] == nil } == true)
        #expect(try await http.get("/users/\(uid)/api-tokens/\(tid)").json["name"]?.stringValue == "ci")
        _ = try await s.login(token: secret)
        #expect(try await http.delete("/users/\(uid)/api-tokens/\(tid)").status == 204)
        await #expect(throws: TestFailure.self) { _ = try await s.login(token: secret) }
        #expect(try await http.post("/users/\(uid)/api-tokens", [:]).status == 400)
        #expect(try await http.get("/users/other-user/api-tokens").status == 404)
    }

    @Test("user lookups and updates", arguments: Backend.allCases)
    func users(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let http = try await s.login()
        let me = try await http.get("/users/me").json
        let uid = try #require(me["id"]?.stringValue)
        #expect(try await http.get("/users/\(uid)").json["username"]?.stringValue == "admin")
        #expect(try await http.get("/users/email=admin@grove.local").json["id"]?.stringValue == uid)
        #expect(try await http.get("/users/username=admin").json["id"]?.stringValue == uid)
        #expect(try await http.get("/me").json["mail"]?.stringValue == "admin@grove.local")
        let patched = try await http.patch("/users/\(uid)", ["first_name": "Ada"])
        #expect(patched.json["first_name"]?.stringValue == "Ada")
        #expect(try await http.patch("/users/\(uid)", ["first_name": 3]).status == 400)
        // A user outside every shared organization is invisible.
        _ = try s.admin(["admin:user-create", "--email", "stranger@example.com"])
        #expect(try await http.get("/users/email=stranger@example.com").status == 404)
    }
}
