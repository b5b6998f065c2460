import Foundation
import GroveModel
import Testing

/// Email changes and password resets through mailed links, with a local SMTP sink (Tests/Fixtures/smtp-sink.py).
@Suite("Account links: email changes and password resets")
struct AccountLinkTests {
    @Test("a new address takes effect only through its mailed link; a forgotten password is reset by mail and other sessions end")
    func links() async throws {
        let sink = try await SMTPSink.start()
        defer { sink.stop() }
        let s = try await TestServer.start(.sqlite, extraArgs: ["--smtp-url", "smtp://127.0.0.1:\(sink.port)?from=noreply@grove.test"])
        defer { s.stopNow() }
        let mails: @Sendable () -> [String] = { sink.messages }
        /// The secret of the newest link of `kind` mailed to `email`.
        func secret(_ kind: String, to email: String) async throws -> String {
            var found: String?
            try await waitFor(timeout: 15) {
                found = mails().last { $0.contains("RCPT: " + email) && $0.contains("/\(kind)/") }.flatMap { m in
                    m.range(of: "/\(kind)/[A-Za-z0-9_-]+", options: .regularExpression).map { String(m[$0].dropFirst(kind.count + 2)) }
                }
                return found != nil
            }
            return found ?? ""
        }

        let admin = try await s.login()
        let pid = try #require(try await s.createProject(admin)["id"]?.stringValue)
        let bobToken = try s.createUser(email: "bob@example.com")
        let bob = try await s.login(token: bobToken)
        let bobId = try #require(try await bob.get("/users/me").json["id"]?.stringValue)

        // Claiming an address directly is refused; a project invitation to it stays with whoever reads its mail.
        var r = try await bob.patch("/users/\(bobId)", ["email": "newhire@example.com"])
        #expect(r.status == 400 && r.json["detail"]?["email"]?.stringValue?.contains("emailaddress") == true, "\(r.text)")
        r = try await admin.post("/projects/\(pid)/invitations", ["email": "newhire@example.com", "role": "viewer"])
        #expect(r.status == 201 && r.json["state"] == "pending", "\(r.text)")
        r = try await bob.post("/users/\(bobId)/emailaddress", ["email_address": "NewHire@example.com"])
        #expect(r.status == 204, "\(r.text)")
        #expect(try await bob.get("/users/me").json["email"]?.stringValue == "bob@example.com")
        #expect(try await bob.get("/projects/\(pid)").status == 404)
        let confirm = try await secret("email-confirmations", to: "newhire@example.com")
        // Asking again at once is refused; taken and malformed addresses too; only for oneself.
        r = try await bob.post("/users/\(bobId)/emailaddress", ["email_address": "other@example.com"])
        #expect(r.status == 429, "\(r.text)")
        r = try await bob.post("/users/\(bobId)/emailaddress", ["email_address": "admin@grove.local"])
        #expect(r.status == 409, "\(r.text)")
        for bad in ["not-an-address", "a@b", "x@example.com\r\nBcc: victim@example.com", ""] {
            r = try await bob.post("/users/\(bobId)/emailaddress", ["email_address": .string(bad)])
            #expect(r.status == 400 && r.json["detail"]?["email_address"] != nil, "\(bad): \(r.text)")
        }
        let adminId = try #require(try await admin.get("/users/me").json["id"]?.stringValue)
        #expect(try await bob.post("/users/\(adminId)/emailaddress", ["email_address": "evil@example.com"]).status == 404)

        // The link: a wrong secret finds nothing; the right one changes the address once and tells the old one.
        let anon = HTTP(base: s.baseURL)
        #expect(try await anon.post("/email-confirmations/\(String(repeating: "x", count: 43))").status == 404)
        #expect(try await anon.post("/password-resets/\(confirm)", ["password": "whatever-long"]).status == 404, "a link is for its purpose only")
        r = try await anon.post("/email-confirmations/\(confirm)")
        #expect(r.status == 200 && r.json["email"]?.stringValue == "newhire@example.com", "\(r.text)")
        #expect(try await bob.get("/users/me").json["email"]?.stringValue == "newhire@example.com")
        #expect(try await anon.post("/email-confirmations/\(confirm)").status == 410)
        try await waitFor(timeout: 15) { mails().contains { $0.contains("RCPT: bob@example.com") && $0.contains("now uses newhire@example.com") } }

        // A forgotten password: the same answer for an unknown address, a link only to the account's.
        r = try await anon.post("/password-resets", ["email": "nobody@example.com"])
        #expect(r.status == 204, "\(r.text)")
        r = try await anon.post("/password-resets", ["email": "NewHire@example.com"])
        #expect(r.status == 204, "\(r.text)")
        let reset = try await secret("password-resets", to: "newhire@example.com")
        #expect(!mails().contains { $0.contains("RCPT: nobody@example.com") })
        r = try await anon.post("/password-resets/\(reset)", ["password": "short"])
        #expect(r.status == 400 && r.json["detail"]?["password"] != nil, "\(r.text)")
        r = try await anon.post("/password-resets/\(reset)", ["password": "a-new-passphrase"])
        #expect(r.status == 200 && r.json["user_id"]?.stringValue == bobId, "\(r.text)")
        #expect(try await anon.post("/password-resets/\(reset)", ["password": "another-passphrase"]).status == 410)
        let login = try await anon.request("POST", "/oauth2/token", raw: Data("grant_type=password&username=newhire%40example.com&password=a-new-passphrase".utf8),
                                           contentType: "application/x-www-form-urlencoded")
        #expect(login.status == 200, "\(login.text)")
        let refresh = try #require(login.json["refresh_token"]?.stringValue, "\(login.text)")

        // Signed in, one asks for one's own reset only.
        #expect(try await bob.post("/users/\(bobId)/resetpassword").status == 204)
        #expect(try await bob.post("/users/\(adminId)/resetpassword").status == 404)
        try await waitFor(timeout: 15) { mails().filter { $0.contains("RCPT: newhire@example.com") && $0.contains("/password-resets/") }.count == 2 }
        // The console: the login page links to the reset form; the mailed link's page sets the password.
        #expect(try await anon.get("/console/login").text.contains("/console/password-reset"))
        let second = try await secret("password-resets", to: "newhire@example.com")
        #expect(second != reset)
        let page = try await anon.get("/console/password-reset/\(second)")
        #expect(page.status == 200 && page.text.contains("action=\"/console/password-reset/\(second)\""), "\(page.text)")
        let form = try await anon.request("POST", "/console/password-reset/\(second)", raw: Data("password=console-passphrase".utf8),
                                          contentType: "application/x-www-form-urlencoded")
        #expect(form.status == 200 && form.text.contains("Your password was changed"), "\(form.text)")
        let hostile = try await anon.get("/console/password-reset/%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        #expect(!hostile.text.contains("<script>alert"), "\(hostile.text)")
        let viaConsole = try await anon.request("POST", "/oauth2/token", raw: Data("grant_type=password&username=newhire%40example.com&password=console-passphrase".utf8),
                                                contentType: "application/x-www-form-urlencoded")
        #expect(viaConsole.status == 200, "\(viaConsole.text)")
        // The session made with the old password is over.
        let refreshed = try await anon.request("POST", "/oauth2/token", raw: Data("grant_type=refresh_token&refresh_token=\(refresh)".utf8),
                                               contentType: "application/x-www-form-urlencoded")
        #expect(refreshed.status == 400 || refreshed.status == 401, "a session from before the reset: \(refreshed.text)")
        r = try await anon.post("/password-resets", ["email": "newhire@example.com", "admin": true])
        #expect(r.status == 400, "\(r.text)")
    }
}
