import GroveModel

/// A project's integrations, for its admins: what each is connected to (a source's hook URL), removal, and a form
/// for the most common one, a webhook. Secrets go in and are never shown.
enum IntegrationSection {
    static func render(_ integrations: APIResult, projectId: String, csrf: String) -> Markup {
        // Only admins may list integrations: for others the API refuses and the section is left out.
        guard integrations.ok else { return "" }
        let base = ConsolePath.project(projectId) + "/integrations"
        let rows: [Markup] = integrations.items.map { i in
            let id = i["id"]?.stringValue ?? ""
            let type = i["type"]?.stringValue ?? ""
            var target = i["repository"]?.stringValue ?? i["project"]?.stringValue ?? i["url"]?.stringValue ?? i["host"]?.stringValue
                ?? i["channel"]?.stringValue ?? (i["recipients"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ")
            if type == "script" { target = "events: " + (i["events"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ") }
            let hook: Markup = i["_links"]?["#hook"]?["href"]?.stringValue.map { Markup("<br><span class=\"muted\">hook:</span> <code>\($0)</code>") } ?? ""
            let remove: Markup = i["_links"]?["#delete"] != nil
                ? Layout.action(base + "/" + ConsolePath.encode(id) + "/delete", csrf: csrf, label: "Remove",
                                confirm: "Remove this \(type) integration? Environments it made stay.", style: "danger")
                : ""
            return "<tr data-integration=\"\(id)\"><td>\(type)</td><td>\(target)\(hook)</td><td class=\"opt\">\(Layout.time(i["created_at"]?.stringValue))</td><td>\(remove)</td></tr>"
        }
        var out: Markup = "<h2>Integrations</h2>"
        out += rows.isEmpty ? "<p class=\"muted\">No integrations: add a webhook below, or a source repository, health channel or log sink with <code>grove integration:add</code>.</p>"
            : "<div class=\"table-wrap\"><table id=\"integrations\"><thead><tr><th>Type</th><th>Target</th><th class=\"opt\">Added</th><th></th></tr></thead><tbody>\(rows)</tbody></table></div>"
        out += """
        <details class="card"><summary>Add a webhook</summary><form method="post" action="\(base)" id="webhook-form">\
        <input type="hidden" name="csrf" value="\(csrf)">\
        <label for="webhook-url">URL</label><input id="webhook-url" name="url" type="url" required placeholder="https://hooks.example.com/grove">\
        <label for="webhook-events">Activity types (comma-separated, * wildcards)</label><input id="webhook-events" name="events" value="*">\
        <label for="webhook-states">States</label><input id="webhook-states" name="states" value="complete">\
        <label for="webhook-key">Shared key for X-JWS-Signature (optional; stored sealed, never shown again)</label><input id="webhook-key" name="shared_key" type="password" autocomplete="off">\
        <p><button type="submit">Add webhook</button></p></form></details>
        """
        return out
    }

    static func list(_ s: String?) -> JSON {
        JSON((s ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }

    static func add(_ ctx: PageContext, projectId: String, form: ConsoleRequest) async -> ConsoleResponse {
        var body = JSONObject([("type", "webhook"), ("url", .string(form.field("url") ?? "")), ("events", list(form.field("events"))),
                               ("states", list(form.field("states")))])
        if let key = form.field("shared_key"), !key.isEmpty { body["shared_key"] = .string(key) }
        let answer = await ctx.post("/projects/\(ConsolePath.encode(projectId))/integrations", .object(body))
        guard answer.ok else { return await ProjectPage.render(ctx, projectId: projectId, error: answer.message, status: answer.status) }
        return .redirect(ConsolePath.project(projectId))
    }

    static func remove(_ ctx: PageContext, projectId: String, integrationId: String) async -> ConsoleResponse {
        let answer = await ctx.call("DELETE", "/projects/\(ConsolePath.encode(projectId))/integrations/\(ConsolePath.encode(integrationId))", nil)
        guard answer.ok else { return await ProjectPage.render(ctx, projectId: projectId, error: answer.message, status: answer.status) }
        return .redirect(ConsolePath.project(projectId))
    }
}
