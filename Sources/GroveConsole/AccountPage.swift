import GroveModel

/// The user's own account: profile, API tokens, SSH keys and two-factor authentication.
enum AccountPage {
    /// `notice` shows once what the API handed back only once (a new token, recovery codes).
    static func render(_ ctx: PageContext, error: String? = nil, notice: Markup? = nil, enrolment: JSON? = nil, status: Int = 200) async -> ConsoleResponse {
        async let meAnswer = ctx.get("/users/me")
        async let legacyAnswer = ctx.get("/me")
        let (me, legacy) = await (meAnswer, legacyAnswer)
        guard me.ok else { return HomePage.failure(ctx, me) }
        let userId = me.json["id"]?.stringValue ?? ""
        let tokens = await ctx.get("/users/\(ConsolePath.encode(userId))/api-tokens")
        let csrf = ctx.session.csrfToken
        var content: Markup = Layout.error(error)
        if let notice { content += "<div class=\"notice\" role=\"status\" id=\"notice\">\(notice)</div>" }
        content += """
        <section class="card"><dl class="facts"><dt>Name</dt><dd>\(me.json["display_name"]?.stringValue ?? "")</dd>\
        <dt>Email</dt><dd>\(me.json["email"]?.stringValue ?? "")</dd><dt>User name</dt><dd>\(me.json["username"]?.stringValue ?? "")</dd>\
        <dt>Two-factor</dt><dd id="mfa-state">\(me.json["mfa_enabled"]?.boolValue == true ? "on" : "off")</dd></dl></section>
        """

        // API tokens: listed by name; the secret is shown once, when made.
        let tokenRows: [Markup] = tokens.items.map { t in
            let id = t["id"]?.stringValue ?? ""
            return """
            <tr><td>\(t["name"]?.stringValue ?? "")</td><td class="opt">\(Layout.time(t["created_at"]?.stringValue))</td>\
            <td class="opt">\(Layout.time(t["last_used_at"]?.stringValue))</td>\
            <td>\(Layout.action("/console/account/api-tokens/\(ConsolePath.encode(id))/delete", csrf: csrf, label: "Delete",
                                confirm: "Delete this API token? Programs using it stop working.", style: "danger"))</td></tr>
            """
        }
        content += "<h2>API tokens</h2>"
        content += tokenRows.isEmpty ? "<p class=\"muted\">No API tokens.</p>"
            : "<div class=\"table-wrap\"><table id=\"api-tokens\"><thead><tr><th>Name</th><th class=\"opt\">Created</th><th class=\"opt\">Last used</th><th></th></tr></thead><tbody>\(tokenRows)</tbody></table></div>"
        content += """
        <form method="post" action="/console/account/api-tokens" class="card row" id="token-form"><input type="hidden" name="csrf" value="\(csrf)">\
        <div><label for="token-name">New token name</label><input id="token-name" name="name" type="text" required></div>\
        <button type="submit">Create token</button></form>
        """

        // SSH keys.
        let keys = legacy.json["ssh_keys"]?.arrayValue ?? []
        let keyRows: [Markup] = keys.map { k in
            let id = k["key_id"]?.intValue.map { String($0) } ?? ""
            return """
            <tr><td>\(k["title"]?.stringValue ?? "")</td><td><code>\(k["fingerprint"]?.stringValue ?? "")</code></td>\
            <td>\(Layout.action("/console/account/ssh-keys/\(id)/delete", csrf: csrf, label: "Delete", confirm: "Delete this SSH key?", style: "danger"))</td></tr>
            """
        }
        content += "<h2>SSH keys</h2>"
        content += keyRows.isEmpty ? "<p class=\"muted\">No SSH keys: add your public key to use <code>ssh</code> and git over SSH.</p>"
            : "<div class=\"table-wrap\"><table id=\"ssh-keys\"><thead><tr><th>Title</th><th>Fingerprint</th><th></th></tr></thead><tbody>\(keyRows)</tbody></table></div>"
        content += """
        <form method="post" action="/console/account/ssh-keys" class="card" id="ssh-key-form"><input type="hidden" name="csrf" value="\(csrf)">\
        <label for="key-title">Title</label><input id="key-title" name="title" type="text">\
        <label for="key-value">Public key</label><textarea id="key-value" name="value" rows="3" required></textarea>\
        <p><button type="submit">Add SSH key</button></p></form>
        """

        // Two-factor authentication.
        content += "<h2>Two-factor authentication</h2>"
        if me.json["mfa_enabled"]?.boolValue == true {
            content += Layout.action("/console/account/totp/withdraw", csrf: csrf, label: "Turn two-factor authentication off",
                                     confirm: "Turn two-factor authentication off?", style: "danger")
        } else if let enrolment, let secret = enrolment["secret"]?.stringValue {
            let qr = enrolment["qr_code"]?.stringValue ?? ""
            let picture: Markup = qr.hasPrefix("data:image/png;base64,") ? "<img id=\"totp-qr\" src=\"\(qr)\" alt=\"QR code of the two-factor secret\" width=\"200\" height=\"200\">" : ""
            content += """
            <section class="card" id="totp-enrol"><p>Scan the code with an authenticator app, or type the secret, then enter the code it shows.</p>\
            \(picture)<p>Secret: <code id="totp-secret">\(secret)</code></p>\
            <form method="post" action="/console/account/totp" class="row"><input type="hidden" name="csrf" value="\(csrf)">\
            <input type="hidden" name="secret" value="\(secret)">\
            <div><label for="totp-code">Code from the app</label><input id="totp-code" name="passcode" type="text" inputmode="numeric" autocomplete="one-time-code" required></div>\
            <button type="submit">Turn on</button></form></section>
            """
        } else {
            content += Layout.action("/console/account/totp/start", csrf: csrf, label: "Set up two-factor authentication")
        }
        return .page(ctx.layout(title: "Account", crumbs: [("Projects", "/console/"), ("Account", nil)], content), status: status)
    }

    static func userId(_ ctx: PageContext) async -> String? { await ctx.get("/users/me").json["id"]?.stringValue }

    static func act(_ ctx: PageContext, _ what: [String], form: ConsoleRequest) async -> ConsoleResponse {
        guard let uid = await userId(ctx) else { return await render(ctx, error: "Your account could not be read.", status: 500) }
        let user = "/users/\(ConsolePath.encode(uid))"
        func done(_ answer: APIResult, notice: Markup? = nil) async -> ConsoleResponse {
            guard answer.ok else { return await render(ctx, error: answer.message, status: answer.status) }
            if let notice { return await render(ctx, notice: notice) }
            return .redirect("/console/account")
        }
        switch what {
        case ["api-tokens"]:
            let answer = await ctx.post(user + "/api-tokens", .object(JSONObject([("name", .string(form.field("name") ?? ""))])))
            let token = answer.json["token"]?.stringValue ?? ""
            return await done(answer, notice: "New API token (copy it now: it is not shown again): <code id=\"new-token\">\(token)</code>")
        case let w where w.count == 3 && w[0] == "api-tokens" && w[2] == "delete":
            return await done(await ctx.call("DELETE", user + "/api-tokens/\(ConsolePath.encode(w[1]))", nil))
        case ["ssh-keys"]:
            var body = JSONObject([("value", .string(form.field("value") ?? ""))])
            if let title = form.field("title"), !title.isEmpty { body["title"] = .string(title) }
            return await done(await ctx.post("/ssh_keys", .object(body)))
        case let w where w.count == 3 && w[0] == "ssh-keys" && w[2] == "delete":
            return await done(await ctx.call("DELETE", "/ssh_keys/\(ConsolePath.encode(w[1]))", nil))
        case ["totp", "start"]:
            let enrolment = await ctx.get(user + "/totp")
            guard enrolment.ok else { return await render(ctx, error: enrolment.message, status: enrolment.status) }
            return await render(ctx, enrolment: enrolment.json)
        case ["totp"]:
            let answer = await ctx.post(user + "/totp", .object(JSONObject([("secret", .string(form.field("secret") ?? "")),
                                                                            ("passcode", .string(form.field("passcode") ?? ""))])))
            let codes: [Markup] = (answer.json["recovery_codes"]?.arrayValue ?? []).compactMap(\.stringValue).map { "<li><code>\($0)</code></li>" }
            return await done(answer, notice: "Two-factor authentication is on. Keep these recovery codes somewhere safe; each works once:<ul id=\"recovery-codes\">\(codes)</ul>")
        case ["totp", "withdraw"]:
            return await done(await ctx.call("DELETE", user + "/totp", nil))
        default:
            return .page(ctx.layout(title: "Not found", Layout.error("There is no such account action.")), status: 404)
        }
    }
}
