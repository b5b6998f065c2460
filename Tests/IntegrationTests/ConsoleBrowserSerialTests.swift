import Foundation
import GroveModel
import Testing

/// The web console in a real browser (Debian's chromium through chromedriver): what a person does in a day.
/// Serial: other suites create and remove network namespaces and interfaces, which Chromium takes for the machine
/// going offline (ERR_INTERNET_DISCONNECTED) and then refuses to navigate.
@Suite struct ConsoleBrowserSerialTests {
    static let app = """
    name: app
    type: python:3.12
    web:
      commands:
        start: python -m http.server $PORT
    """
    static let routes = "\"http://{default}/\":\n  type: upstream\n  upstream: \"app:http\"\n"

    @Test("in a browser: log in, create a project, watch a push's log live, open the site, live states, variables, branch, backup and restore, domains, certificates, logs, invitations, teams, account, log out; a viewer sees no actions")
    func dailyRoundTrip() async throws {
        guard WebDriver.available() else {
            Issue.record("chromium and chromium-driver are missing: scripts/install-deps.sh installs them")
            return
        }
        // Steps of activities are slowed so the page can be seen following a running deploy.
        let s = try await TestServer.start(.sqlite, stepDelayMs: 400)
        defer { s.stopNow() }
        let browser = try await WebDriver.start()
        do {
            try await roundTrip(s, browser)
        } catch {
            let page = (try? await browser.source()) ?? ""
            await browser.quit()
            // Chromium's own error page names the network error; the server's output says whether it was alive.
            let netError = page.components(separatedBy: "ERR_").dropFirst().first.map { "ERR_" + $0.prefix { $0.isLetter || $0 == "_" } } ?? "none"
            throw TestFailure("\(error)\n--- network error: \(netError)\n--- page:\n\(page.prefix(3000))\n--- server:\n\(s.output.suffix(3000))")
        }
        await browser.quit()
    }

    /// Where screenshots of the main pages go when `GROVE_SCREENSHOTS` names a directory (docs/console.md uses them).
    func snap(_ b: WebDriver, _ name: String) async throws {
        guard let dir = ProcessInfo.processInfo.environment["GROVE_SCREENSHOTS"], !dir.isEmpty else { return }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try await b.screenshot().write(to: URL(fileURLWithPath: dir + "/\(name).png"))
    }

    /// The open activity page shows the activity complete: live, as its log stream ends, or (when the browser's event
    /// stream stalls on a loaded machine) after a reload. The push's page above is the one that must follow live.
    func activityCompletes(_ b: WebDriver) async throws {
        do {
            try await b.waitFor("#activity-state .status-complete", timeout: 90)
        } catch {
            try await b.reloadUntil(try await b.currentURL(), "#activity-state .status-complete", containing: "", timeout: 210)
        }
    }

    func login(_ b: WebDriver, _ s: TestServer, token: String) async throws {
        try await b.open(s.baseURL + "/")
        try await b.waitFor("h1", containing: "Log in")
        #expect(try await b.currentURL().hasSuffix("/console/login?next=/console/"))
        try await b.click("details summary")
        try await b.type("#api_token", token)
        try await b.click("form:has(#api_token) button[type=submit]")
        try await b.waitFor("h1", containing: "Projects")
    }

    func roundTrip(_ s: TestServer, _ b: WebDriver) async throws {
        // A wrong token: the API's own refusal, on the login page.
        try await b.open(s.baseURL + "/console/login")
        try await b.click("details summary")
        try await b.type("#api_token", "not-a-token")
        try await b.click("form:has(#api_token) button[type=submit]")
        try await b.waitFor(".error", containing: "The API token is invalid")
        try await snap(b, "login")

        try await login(b, s, token: s.initialToken)
        try await b.type("input[name=title]", "Console <demo>")
        try await b.click("form.row button[type=submit]")
        try await b.waitFor("#empty-project", containing: "git push")
        #expect(try await b.title().hasPrefix("Console <demo>"), "titles are text, never markup")
        let projectPage = try await b.currentURL()
        let pid = try #require(projectPage.split(separator: "/").last.map(String.init))
        let remote = try await b.text("#empty-project pre")
        #expect(remote.contains("\(s.baseURL)/\(pid).git"))

        // The new project's default environment goes live once provisioning ends.
        try await b.reloadUntil(projectPage, ".node[data-environment='main'] .status-active", containing: "active")

        // Push from here; the page follows the deploy's log while it runs.
        let tree = GitWorkTree(remote: "\(s.baseURL)/\(pid).git".replacingOccurrences(of: "http://", with: "http://grove:\(s.initialToken)@"))
        try tree.initialize()
        defer { tree.remove() }
        try tree.commit([".platform.app.yaml": Self.app, ".platform/routes.yaml": Self.routes,
                         "index.html": "<h1>Hello from the console test</h1>\n"])
        let (st, out) = try tree.push(["-o", "nowait", "HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        try await b.open(projectPage)
        try await b.waitFor("table a[href*='/activities/']", containing: "pushed")
        try await b.click("table a[href*='/activities/']")
        try await b.waitFor("pre#log")
        #expect(try await b.attribute("pre#log", "data-finished-reload") == "yes", "the push was still running when its page opened")
        try await b.waitFor("pre#log", containing: "app", timeout: 120)
        // The first lines arrived while the activity ran, then the page reloads into its final state.
        try await b.waitFor("#activity-state .status-complete", timeout: 300)
        try await b.waitFor(".facts .status-success")
        #expect(try await b.attribute("pre#log", "data-finished-reload") == "no")
        try await b.waitFor("pre#log", containing: "app", timeout: 30)
        try await snap(b, "activity")

        // The environment: its URL serves the pushed site.
        try await b.open(s.baseURL + "/console/projects/\(pid)/environments/main")
        try await b.waitFor("#environment-urls a")
        let site = try #require(try await b.attribute("#environment-urls a", "href"))
        try await snap(b, "environment")
        try await b.open(site.hasSuffix("/") ? site : site + "/")
        try await b.waitFor("h1", containing: "Hello from the console test")

        // A variable, a sensitive one (never shown back), and a bad name refused with the API's words.
        try await b.open(s.baseURL + "/console/projects/\(pid)/environments/main")
        try await b.type("#var-name", "GREETING")
        try await b.type("#var-value", "hello there")
        try await b.click("#variable-form button[type=submit]")
        try await b.waitFor("#variables", containing: "GREETING")
        try await b.type("#var-name", "API_SECRET")
        try await b.type("#var-value", "s3cr3t-value")
        try await b.click("#var-sensitive")
        try await b.click("#variable-form button[type=submit]")
        try await b.waitFor("#variables", containing: "API_SECRET")
        #expect(try await !b.source().contains("s3cr3t-value"))
        try await b.type("#var-name", "bad name!")
        try await b.click("#variable-form button[type=submit]")
        try await b.waitFor(".error")

        // Branch from the page: an activity, then a new active environment under main in the tree.
        // The variables' redeploys run first: branching waits for a quiet environment, as the API's links say.
        try await b.reloadUntil(s.baseURL + "/console/projects/\(pid)/environments/main", "#branch-form", containing: "Branch")
        try await b.type("#branch-name", "feature-x")
        try await b.click("#branch-form button[type=submit]")
        try await activityCompletes(b)
        try await b.open(projectPage)
        try await b.reloadUntil(projectPage, "ul.tree ul .node[data-environment='feature-x'] .status-active", containing: "active")
        try await snap(b, "project")

        // Back up main, then restore that backup (a confirmed, destructive action).
        try await b.reloadUntil(s.baseURL + "/console/projects/\(pid)/environments/main", "#actions", containing: "Back up")
        try await b.click("form[action$='/actions/backup'] button")
        try await activityCompletes(b)
        try await b.reloadUntil(s.baseURL + "/console/projects/\(pid)/environments/main", "#backups", containing: "Restore")
        try await b.click("#backups form[action$='/restore'] button")
        #expect(try await b.alertText()?.contains("Restore this backup") == true)
        try await b.acceptAlert()
        try await activityCompletes(b)
        try await b.waitFor(".facts .status-success")

        // Badges follow the environments' states live: feature-x deactivated elsewhere turns inactive on the open page,
        // which does not reload (a lasting state, so a loaded machine cannot make the test miss it).
        try await b.open(projectPage)
        try await b.waitFor("[data-environment-status='feature-x']", containing: "active")
        // The page has its first state event (it is listening) before the change.
        try await b.waitFor("[data-states][data-live='on']", timeout: 120)
        _ = try await b.execute("window.groveSamePage = true; return true;")
        let api = try await s.login()
        let deactivate = try await api.post("/projects/\(pid)/environments/feature-x/deactivate", [:])
        #expect((200..<300).contains(deactivate.status), "\(deactivate.text)")
        try await b.waitFor("[data-environment-status='feature-x']", containing: "inactive", timeout: 300)
        #expect(try await b.execute("return window.groveSamePage === true;") == .bool(true), "the badge changed without a reload")

        // A custom domain on production, listed, then removed (confirmed).
        try await b.open(s.baseURL + "/console/projects/\(pid)/environments/main")
        try await b.type("#domain-name", "www.console-test.example")
        try await b.click("#domain-form button[type=submit]")
        try await b.waitFor("#domains", containing: "www.console-test.example")
        try await b.click("#domains form button")
        try await b.acceptAlert()
        try await b.waitFor("#domain-form")
        #expect(try await !b.exists("#domains"))

        // The project's own TLS certificate: pasted as PEM, listed by its domain; a broken one gets the API's refusal.
        let certDir = FileManager.default.temporaryDirectory.appendingPathComponent("console-cert-\(UUID().uuidString.prefix(6))").path
        try FileManager.default.createDirectory(atPath: certDir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: certDir) }
        let (cst, cout) = try Spawn.run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=secure.console-test.example",
                                                             "-keyout", certDir + "/key.pem", "-out", certDir + "/cert.pem"])
        #expect(cst == 0, "\(cout)")
        try await b.open(projectPage)
        try await b.click("details:has(#certificate-form) summary")
        try await b.type("#cert-pem", "not a certificate")
        try await b.type("#cert-key", "not a key")
        try await b.click("#certificate-form button[type=submit]")
        try await b.waitFor(".error")
        try await b.click("details:has(#certificate-form) summary")
        try await b.type("#cert-pem", try String(contentsOfFile: certDir + "/cert.pem", encoding: .utf8))
        try await b.type("#cert-key", try String(contentsOfFile: certDir + "/key.pem", encoding: .utf8))
        try await b.click("#certificate-form button[type=submit]")
        try await b.waitFor("#certificates", containing: "secure.console-test.example")
        #expect(try await !b.source().contains("PRIVATE KEY"), "the key is never sent back")

        // The environment's logs, one page each.
        try await b.open(s.baseURL + "/console/projects/\(pid)/environments/main")
        try await b.waitFor("#logs a")
        let logPage = try #require(try await b.attribute("#logs a", "href"))
        // Opened again if the first navigation meets a network error page (a reused connection closed under load).
        try await b.reloadUntil(logPage.hasPrefix("http") ? logPage : s.baseURL + logPage, "main p.muted", containing: "The last 500 lines")
        try await b.waitFor("#log-lines")

        // Invite someone; the invitation is listed as pending.
        try await b.open(projectPage)
        try await b.click("#access-link")
        try await b.waitFor("#users", containing: "admin@grove.local")
        try await b.type("#invite-email", "dave@example.com")
        _ = try await b.execute("document.getElementById('perm-development').value = 'contributor';")
        try await b.click("#invite-form button[type=submit]")
        try await b.waitFor("#invitations", containing: "dave@example.com")
        #expect(try await b.text("#invitations").contains("development:contributor"))
        try await snap(b, "access")

        // The organization: members, an invitation with organization permissions, a team.
        try await b.click(".crumbs a[href='/console/']")
        try await b.click("section.card h2 a")
        try await b.waitFor("#members", containing: "admin@grove.local")
        try await b.type("#org-invite-email", "erin@example.com")
        try await b.click("#org-perm-projects\\:create")
        try await b.click("#org-invite-form button[type=submit]")
        try await b.waitFor("#org-invitations", containing: "erin@example.com")
        #expect(try await b.text("#org-invitations").contains("projects:create"))
        try await b.type("#team-label", "Developers")
        try await b.click("#team-form button[type=submit]")
        try await b.waitFor("#teams", containing: "Developers")
        try await snap(b, "organization")
        // The team: members by email (an unknown one refused), and a project it may reach.
        try await b.click("#teams a")
        try await b.type("#member-email", "nobody@example.com")
        try await b.click("#team-member-form button[type=submit]")
        try await b.waitFor(".error", containing: "No Grove user has the email")
        try await b.type("#member-email", "admin@grove.local")
        try await b.click("#team-member-form button[type=submit]")
        try await b.waitFor("#team-members", containing: "admin@grove.local")
        try await b.click("#team-project-form button[type=submit]")
        try await b.waitFor("#team-projects", containing: "Console <demo>")

        // The account: an API token shown once, an SSH key, two-factor enrolment with its QR code.
        try await b.click("a.account")
        try await b.type("#token-name", "laptop")
        try await b.click("#token-form button[type=submit]")
        try await b.waitFor("#new-token")
        let newToken = try await b.text("#new-token")
        #expect(newToken.count >= 20)
        #expect(try await HTTP(base: s.baseURL).request("POST", "/oauth2/token", raw: Data("grant_type=api_token&api_token=\(newToken)".utf8),
                                                          contentType: "application/x-www-form-urlencoded").status == 200)
        let keyDir = FileManager.default.temporaryDirectory.appendingPathComponent("console-key-\(UUID().uuidString.prefix(6))").path
        try FileManager.default.createDirectory(atPath: keyDir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: keyDir) }
        _ = try Spawn.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "console-test", "-f", keyDir + "/id"])
        let publicKey = try String(contentsOfFile: keyDir + "/id.pub", encoding: .utf8)
        try await b.type("#key-title", "work laptop")
        try await b.type("#key-value", publicKey)
        try await b.click("#ssh-key-form button[type=submit]")
        try await b.waitFor("#ssh-keys", containing: "work laptop")
        try await b.click("form[action='/console/account/totp/start'] button")
        try await b.waitFor("#totp-enrol")
        #expect(try await b.attribute("#totp-qr", "src")?.hasPrefix("data:image/png;base64,") == true)
        let secret = try await b.text("#totp-secret")
        try await b.type("#totp-code", try AccountsTests.pyotp(secret))
        try await b.click("#totp-enrol button[type=submit]")
        try await b.waitFor("#recovery-codes")
        #expect(try await b.findAll("#recovery-codes li").count == 10)
        try await b.waitFor("#mfa-state", containing: "on")
        try await snap(b, "account")

        // Phone width: nothing wider than the screen.
        try await b.resize(width: 390, height: 844)
        try await b.open(projectPage)
        try await b.waitFor("ul.tree")
        #expect(try await b.execute("return document.documentElement.scrollWidth <= window.innerWidth + 1;") == .bool(true))
        try await snap(b, "project-phone")
        try await b.resize(width: 1280, height: 900)

        // Logging out ends the session: its cookie no longer opens a page.
        let cookie = try await b.command("GET", "/cookie/grove_console")["value"]?.stringValue ?? ""
        #expect(!cookie.isEmpty)
        try await b.click(".logout button[type=submit]")
        try await b.waitFor("h1", containing: "Log in")
        let (_, after) = try Spawn.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                                                        "-b", "grove_console=\(cookie)", s.baseURL + "/console/"])
        #expect(after.hasPrefix("303") && after.contains("/console/login"), "\(after)")

        // A viewer: sees the project and environment, no action, no form; a forged action gets the API's refusal.
        let carol = try s.createUser(email: "carol@example.com")
        let (gst, gout) = try s.admin(["admin:grant", "-p", pid, "--email", "carol@example.com", "--permission", "viewer",
                                      "--permission", "production:viewer"])
        #expect(gst == 0, "\(gout)")
        try await login(b, s, token: carol)
        try await b.open(s.baseURL + "/console/projects/\(pid)/environments/main")
        try await b.waitFor("#environment-status .status-active", containing: "active")
        #expect(try await !b.exists("#actions"))
        #expect(try await !b.exists("#branch-form"))
        #expect(try await !b.exists("#variable-form"))
        #expect(try await !b.exists("form[action$='/organizations/']"))
        let csrf = try #require(try await b.attribute(".logout input[name=csrf]", "value"))
        let carolCookie = try await b.command("GET", "/cookie/grove_console")["value"]?.stringValue ?? ""
        let (_, forged) = try Spawn.run("/usr/bin/curl", ["-s", "-w", "\n%{http_code}", "-b", "grove_console=\(carolCookie)",
                                                         "-H", "Origin: \(s.baseURL)", "--data", "csrf=\(csrf)",
                                                         s.baseURL + "/console/projects/\(pid)/environments/main/actions/redeploy"])
        #expect(forged.hasSuffix("403"), "\(forged.suffix(300))")
        #expect(forged.contains("class=\"error\""), "\(forged.prefix(300))")
    }
}
