import GroveModel

/// A project's own TLS certificates: what they cover and until when; admins add (PEM) and remove them.
enum CertificateSection {
    static func render(_ certificates: APIResult, projectId: String, canManage: Bool, csrf: String) -> Markup {
        guard certificates.ok else { return "" }
        let base = ConsolePath.project(projectId) + "/certificates"
        let rows: [Markup] = certificates.items.map { c in
            let id = c["id"]?.stringValue ?? ""
            let domains = (c["domains"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ")
            let issuer = (c["issuer"]?.arrayValue ?? []).first { $0["alias"]?.stringValue == "commonName" }?["value"]?.stringValue ?? ""
            let remove: Markup = c["_links"]?["#delete"] != nil
                ? Layout.action(base + "/" + ConsolePath.encode(id) + "/delete", csrf: csrf, label: "Remove",
                                confirm: "Remove this certificate? Its domains fall back to the generated one.", style: "danger")
                : ""
            return "<tr><td>\(domains)</td><td class=\"opt\">\(issuer)</td><td>\(Layout.time(c["expires_at"]?.stringValue))</td><td>\(remove)</td></tr>"
        }
        guard canManage || !rows.isEmpty else { return "" }
        var out: Markup = "<h2>TLS certificates</h2>"
        out += rows.isEmpty ? "<p class=\"muted\">No certificates of your own: routes are served with the generated one.</p>"
            : "<div class=\"table-wrap\"><table id=\"certificates\"><thead><tr><th>Domains</th><th class=\"opt\">Issuer</th><th>Expires</th><th></th></tr></thead><tbody>\(rows)</tbody></table></div>"
        if canManage {
            out += """
            <details class="card"><summary>Add a certificate</summary><form method="post" action="\(base)" id="certificate-form">\
            <input type="hidden" name="csrf" value="\(csrf)">\
            <label for="cert-pem">Certificate (PEM)</label><textarea id="cert-pem" name="certificate" rows="6" required></textarea>\
            <label for="cert-key">Private key (PEM; stored sealed, never shown again)</label><textarea id="cert-key" name="key" rows="6" required></textarea>\
            <label for="cert-chain">Intermediate certificates (PEM, optional)</label><textarea id="cert-chain" name="chain" rows="4"></textarea>\
            <p><button type="submit">Add certificate</button></p></form></details>
            """
        }
        return out
    }

    static func add(_ ctx: PageContext, projectId: String, form: ConsoleRequest) async -> ConsoleResponse {
        var body = JSONObject([("certificate", .string(form.field("certificate") ?? "")), ("key", .string(form.field("key") ?? ""))])
        if let chain = form.field("chain"), !chain.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            // The API takes the chain as a list of PEM certificates.
            let parts = chain.components(separatedBy: "-----END CERTIFICATE-----").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                .filter { !$0.isEmpty }.map { JSON.string($0 + "\n-----END CERTIFICATE-----\n") }
            body["chain"] = .array(parts)
        }
        let answer = await ctx.post("/projects/\(ConsolePath.encode(projectId))/certificates", .object(body))
        guard answer.ok else { return await ProjectPage.render(ctx, projectId: projectId, error: answer.message, status: answer.status) }
        return .redirect(ConsolePath.project(projectId))
    }

    static func remove(_ ctx: PageContext, projectId: String, certificateId: String) async -> ConsoleResponse {
        let answer = await ctx.call("DELETE", "/projects/\(ConsolePath.encode(projectId))/certificates/\(ConsolePath.encode(certificateId))", nil)
        guard answer.ok else { return await ProjectPage.render(ctx, projectId: projectId, error: answer.message, status: answer.status) }
        return .redirect(ConsolePath.project(projectId))
    }
}
