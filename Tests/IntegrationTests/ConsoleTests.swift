import Foundation
import GroveModel
import Testing

/// The web console over plain HTTP (curl): logins the way the API allows them, sessions, and what a forged or
/// cross-site request gets.
@Suite struct ConsoleTests {
    /// A browser-like client: a cookie jar, no redirects followed, the Origin a browser sends with forms.
    struct Browser {
        let base: String
        let jar = FileManager.default.temporaryDirectory.appendingPathComponent("jar-\(UUID().uuidString.prefix(8))").path

        /// (status, headers and body)
        func request(_ path: String, form: [(String, String)]? = nil, origin: String? = nil) throws -> (Int, String) {
            var args = ["-s", "-i", "-b", jar, "-c", jar, "-w", "\n%{http_code}"]
            if let form {
                args += ["-H", "Origin: \(origin ?? base)"]
                for (k, v) in form { args += ["--data-urlencode", "\(k)=\(v)"] }
            }
            let (_, out) = try Spawn.run("/usr/bin/curl", args + [base + path])
            let lines = out.split(separator: "\n", omittingEmptySubsequences: false)
            return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
        }

        func csrf(_ page: String) -> String? {
            page.components(separatedBy: "name=\"csrf\" value=\"").dropFirst().first.map { String($0.prefix(64)) }
        }

        func remove() { try? FileManager.default.removeItem(atPath: jar) }
    }

    @Test("the activities page is paged: older pages follow without repeating or losing one")
    func activityPaging() async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let admin = try await s.login()
        let pid = try #require(try await s.createProject(admin)["id"]?.stringValue)
        for i in 0..<40 {
            #expect(try await admin.post("/projects/\(pid)/variables", ["name": .string("V\(i)"), "value": "x"]).status == 201)
        }
        let all = Set((try await admin.get("/projects/\(pid)/activities?count=1000").json.arrayValue ?? []).compactMap { $0["id"]?.stringValue })
        #expect(all.count >= 41)
        let b = Browser(base: s.baseURL)
        defer { b.remove() }
        var (code, _) = try b.request("/console/login", form: [("api_token", s.initialToken)])
        #expect(code == 303)
        var seen: [String] = []
        var path: String? = "/console/projects/\(pid)/activities"
        var pages = 0
        while let p = path, pages < 10 {
            let page: String
            (code, page) = try b.request(p)
            #expect(code == 200)
            seen += page.components(separatedBy: "/activities/").dropFirst().map { String($0.prefix { $0 != "\"" }) }
            path = page.components(separatedBy: "id=\"older\" href=\"").dropFirst().first.map { String($0.prefix { $0 != "\"" }).replacingOccurrences(of: "&amp;", with: "&") }
            pages += 1
        }
        #expect(pages == 2)
        #expect(seen.count == Set(seen).count, "no activity twice")
        #expect(Set(seen) == all)
    }

    @Test("project admins see, add and remove integrations in the console; the shared key never shows; a private target is refused with the API's reason")
    func integrations() async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let admin = try await s.login()
        let pid = try #require(try await s.createProject(admin)["id"]?.stringValue)
        let b = Browser(base: s.baseURL)
        defer { b.remove() }
        var (code, page) = try b.request("/console/login", form: [("api_token", s.initialToken)])
        #expect(code == 303)
        (code, page) = try b.request("/console/projects/\(pid)")
        #expect(code == 200 && page.contains("<h2>Integrations</h2>") && page.contains("id=\"webhook-form\""))
        let csrf = try #require(b.csrf(page))
        (code, page) = try b.request("/console/projects/\(pid)/integrations", form: [("csrf", csrf), ("url", "http://127.0.0.1:8000/x"), ("events", "*"),
                                                                                  ("states", "complete")])
        #expect(code == 400 && page.contains("allow-private-targets"), "\(page.suffix(800))")
        (code, page) = try b.request("/console/projects/\(pid)/integrations", form: [("csrf", csrf), ("url", "https://93.184.215.14/hook"),
                                                                                  ("events", "environment.push, environment.branch"), ("states", "complete"),
                                                                                  ("shared_key", "console-secret-key")])
        #expect(code == 303, "\(page.suffix(800))")
        let list = try await admin.get("/projects/\(pid)/integrations").json.arrayValue ?? []
        let id = try #require(list.first?["id"]?.stringValue)
        #expect(list.first?["events"] == ["environment.push", "environment.branch"])
        (code, page) = try b.request("/console/projects/\(pid)")
        #expect(page.contains("data-integration=\"\(id)\"") && page.contains("https://93.184.215.14/hook") && !page.contains("console-secret-key"))
        (code, page) = try b.request("/console/projects/\(pid)/integrations/\(id)/delete", form: [("csrf", csrf)])
        #expect(code == 303)
        #expect(try await admin.get("/projects/\(pid)/integrations").json == .array([]))
        // Without a session's CSRF token nothing is added.
        (code, _) = try b.request("/console/projects/\(pid)/integrations", form: [("url", "https://93.184.215.14/hook")])
        #expect(code == 403)
    }

    @Test("console logins: password with a second factor, the API's refusals, cookie flags, CSRF and cross-site forms refused, logout ends the session")
    func sessions() async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let admin = try await s.login()
        let pid = try #require(try await s.createProject(admin, title: "<img src=x onerror=alert(1)>")["id"]?.stringValue)
        var (st, out) = try s.admin(["admin:user-create", "--email", "mia@example.com", "--password", "correct horse", "--with-token"])
        #expect(st == 0, "\(out)")
        let miaToken = out.components(separatedBy: "API token (shown once): ").dropFirst().first?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        (st, out) = try s.admin(["admin:grant", "-p", pid, "--email", "mia@example.com", "--permission", "viewer", "--permission", "production:viewer"])
        #expect(st == 0, "\(out)")
        let mia = try await s.login(token: miaToken)
        let miaId = try #require(try await mia.get("/users/me").json["id"]?.stringValue)

        let b = Browser(base: s.baseURL)
        defer { b.remove() }
        // A browser at the root is sent to the console; API clients still get JSON there.
        let (_, root) = try Spawn.run("/usr/bin/curl", ["-s", "-i", "-H", "Accept: text/html,application/xhtml+xml", s.baseURL + "/"])
        #expect(root.hasPrefix("HTTP/1.1 303") && root.contains("Location: /console/"), "\(root)")
        var (code, page) = (0, "")
        #expect(try await HTTP(base: s.baseURL).get("/").json["name"] == "grove")
        (code, page) = try b.request("/console/projects/\(pid)")
        #expect(code == 303 && page.contains("/console/login?next=/console/projects/\(pid)"))

        // Wrong password: the API's message, no cookie.
        (code, page) = try b.request("/console/login", form: [("username", "mia@example.com"), ("password", "wrong")])
        #expect(code == 400 && page.contains("The user name or password is incorrect."), "\(page.suffix(400))")
        #expect(!page.contains("Set-Cookie"))

        // Two-factor: enrolled, the login asks for the code, then takes it.
        let secret = try #require(try await mia.get("/users/\(miaId)/totp").json["secret"]?.stringValue)
        #expect(try await mia.post("/users/\(miaId)/totp", ["secret": .string(secret), "passcode": .string(try AccountsTests.pyotp(secret))]).status == 200)
        (code, page) = try b.request("/console/login", form: [("username", "mia@example.com"), ("password", "correct horse")])
        #expect(code == 400 && page.contains("two-factor code is required") && page.contains("id=\"totp\""), "\(page.suffix(400))")
        // Codes are single-use: wait for the next period if the enrolment just used this one.
        try await Task.sleep(for: .seconds(30 - Double(Int(Date().timeIntervalSince1970) % 30) + 1))
        (code, page) = try b.request("/console/login", form: [("username", "mia@example.com"), ("password", "correct horse"),
                                                               ("totp", try AccountsTests.pyotp(secret)), ("next", "/console/projects/\(pid)")])
        #expect(code == 303 && page.contains("Location: /console/projects/\(pid)"), "\(page.prefix(600))")
        let cookieLine = page.components(separatedBy: .newlines).first { $0.lowercased().hasPrefix("set-cookie: grove_console=") } ?? ""
        #expect(cookieLine.contains("HttpOnly") && cookieLine.contains("SameSite=Strict") && cookieLine.contains("Path=/console"), "\(cookieLine)")

        // Titles are text: the hostile project title is escaped; the page forbids inline script.
        (code, page) = try b.request("/console/projects/\(pid)")
        #expect(code == 200)
        #expect(page.contains("&lt;img src=x onerror=alert(1)&gt;") && !page.contains("<img src=x"))
        #expect(page.contains("Content-Security-Policy: default-src 'self'"))
        let csrf = try #require(b.csrf(page))

        // A viewer's forged action: the API's refusal. A form without the token, or from another site: refused first.
        (code, page) = try b.request("/console/projects/\(pid)/environments/main/actions/redeploy", form: [("csrf", csrf)])
        #expect(code == 403 && page.contains("class=\"error\""), "\(page.suffix(500))")
        (code, page) = try b.request("/console/projects/\(pid)/environments/main/variables", form: [("name", "X"), ("value", "1")])
        #expect(code == 403 && page.contains("stale or forged"))
        (code, page) = try b.request("/console/projects/\(pid)/environments/main/variables", form: [("csrf", csrf), ("name", "X")],
                                     origin: "http://evil.example")
        #expect(code == 403 && page.contains("another site"))
        #expect(try await admin.get("/projects/\(pid)/environments/main/variables").json.arrayValue?.isEmpty == true)

        // Logging out ends that session (and no other).
        let b2 = Browser(base: s.baseURL)
        defer { b2.remove() }
        (code, _) = try b2.request("/console/login", form: [("api_token", s.initialToken)])
        #expect(code == 303)
        (code, page) = try b2.request("/console/")
        #expect(code == 200)
        let csrf2 = try #require(b2.csrf(page))
        (code, page) = try b2.request("/console/logout", form: [("csrf", csrf2)])
        #expect(code == 303 && page.contains("Location: /console/login"))
        (code, _) = try b2.request("/console/")
        #expect(code == 303)
        (code, _) = try b.request("/console/")
        #expect(code == 200)
    }
}
