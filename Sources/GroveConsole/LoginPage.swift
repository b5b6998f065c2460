/// Password login, with the two-factor code field once the API asks for one.
enum LoginPage {
    static func render(next: String?, username: String = "", error: String? = nil, notice: String? = nil, askCode: Bool = false, status: Int = 200) -> ConsoleResponse {
        let nextField: Markup = next.map { "<input type=\"hidden\" name=\"next\" value=\"\($0)\">" } ?? ""
        let code: Markup = askCode
            ? """
              <label for="totp">Two-factor code</label>\
              <input id="totp" name="totp" type="text" inputmode="numeric" autocomplete="one-time-code" autofocus>
              """
            : ""
        let body: Markup = """
        \(notice.map { Markup("<p class=\"notice\" role=\"status\">\($0)</p>") } ?? "")\(Layout.error(error))<form method="post" action="/console/login" class="card">\(nextField)\
        <label for="username">Email or user name</label><input id="username" name="username" type="text" autocomplete="username" value="\(username)" \(askCode ? "" : "autofocus")>\
        <label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password">\
        \(code)<p><button type="submit">Log in</button> <a href="/console/password-reset">Forgot your password?</a></p></form>\
        <details class="card"><summary>Log in with an API token</summary>\
        <form method="post" action="/console/login">\(nextField)\
        <label for="api_token">API token</label><input id="api_token" name="api_token" type="password" autocomplete="off">\
        <p class="muted">The first start of <code>grove serve</code> writes one to <code>initial-api-token</code> in the data directory; \
        <code>grove auth:info</code> shows where yours is.</p><p><button type="submit">Log in with the token</button></p></form></details>
        """
        return .page(Layout.bare(title: "Log in", body), status: status)
    }
}
