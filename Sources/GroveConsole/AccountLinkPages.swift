import GroveModel

/// Pages for the links Grove mails about an account, reached without a session: asking for a password reset,
/// choosing the new password, and confirming a new email address. Each acts through the API's own endpoints; a
/// mailed link only shows a form, so a mail scanner that opens it changes nothing.
enum AccountLinkPages {
    static func forgot(notice: String? = nil, error: String? = nil, status: Int = 200) -> ConsoleResponse {
        let sent: Markup = notice.map { "<p class=\"notice\" role=\"status\">\($0)</p>" } ?? ""
        return .page(Layout.bare(title: "Reset your password", """
        \(sent)\(Layout.error(error))<form method="post" action="/console/password-reset" class="card">\
        <label for="email">Your account's email address</label><input id="email" name="email" type="email" autocomplete="email" required autofocus>\
        <p class="muted">A link to choose a new password is mailed there; it works once, for an hour.</p>\
        <p><button type="submit">Mail me a link</button></p></form><p><a href="/console/login">Back to the login</a></p>
        """), status: status)
    }

    static func requestReset(_ backend: any ConsoleBackend, _ req: ConsoleRequest) async -> ConsoleResponse {
        let answer = await backend.call("POST", "/password-resets", json: .object(JSONObject([("email", .string(req.field("email") ?? ""))])), form: nil, token: nil)
        guard answer.ok else { return forgot(error: answer.message, status: 400) }
        return forgot(notice: "If an account has this address, a link is on its way to it.")
    }

    static func choose(token: String, error: String? = nil, status: Int = 200) -> ConsoleResponse {
        .page(Layout.bare(title: "Choose a new password", """
        \(Layout.error(error))<form method="post" action="/console/password-reset/\(ConsolePath.encode(token))" class="card">\
        <label for="password">New password (8 characters at least)</label>\
        <input id="password" name="password" type="password" autocomplete="new-password" minlength="8" required autofocus>\
        <p class="muted">Your other sessions end when it is set.</p><p><button type="submit">Set the password</button></p></form>
        """), status: status)
    }

    static func completeReset(_ backend: any ConsoleBackend, token: String, _ req: ConsoleRequest) async -> ConsoleResponse {
        let answer = await backend.call("POST", "/password-resets/" + ConsolePath.encode(token),
                                        json: .object(JSONObject([("password", .string(req.field("password") ?? ""))])), form: nil, token: nil)
        guard answer.ok else { return choose(token: token, error: answer.message, status: answer.status == 400 ? 400 : 410) }
        return LoginPage.render(next: nil, notice: "Your password was changed: log in with it.")
    }

    static func confirmEmail(token: String, error: String? = nil, done: String? = nil, status: Int = 200) -> ConsoleResponse {
        if let done {
            return .page(Layout.bare(title: "Email address confirmed", "<p class=\"notice\">Your account now uses \(done).</p><p><a href=\"/console/\">Open the console</a></p>"))
        }
        return .page(Layout.bare(title: "Confirm your new email address", """
        \(Layout.error(error))<form method="post" action="/console/email-confirmation/\(ConsolePath.encode(token))" class="card">\
        <p>Use this address for your Grove account from now on.</p><p><button type="submit">Confirm</button></p></form>
        """), status: status)
    }

    static func completeEmail(_ backend: any ConsoleBackend, token: String) async -> ConsoleResponse {
        let answer = await backend.call("POST", "/email-confirmations/" + ConsolePath.encode(token), json: nil, form: nil, token: nil)
        guard answer.ok else { return confirmEmail(token: token, error: answer.message, status: answer.status) }
        return confirmEmail(token: token, done: answer.json["email"]?.stringValue ?? "")
    }
}
