import GroveModel

/// Who may do what on a project: users with their roles, pending invitations, and (for admins) inviting someone.
enum AccessPage {
    static let environmentTypes = ["production", "staging", "development"]

    static func render(_ ctx: PageContext, projectId: String, error: String? = nil, notice: String? = nil, status: Int = 200) async -> ConsoleResponse {
        let base = "/projects/\(ConsolePath.encode(projectId))"
        async let projectAnswer = ctx.get(base)
        async let accessAnswer = ctx.get(base + "/user-access")
        async let invitationsAnswer = ctx.get(base + "/invitations")
        let (project, access, invitations) = await (projectAnswer, accessAnswer, invitationsAnswer)
        guard project.ok else { return HomePage.failure(ctx, project) }
        let title = project.json["title"]?.stringValue ?? projectId
        let csrf = ctx.session.csrfToken
        let names = await UserNames.lookup(ctx, access.items.compactMap { $0["user_id"]?.stringValue })
        var content: Markup = Layout.error(error)
        if let notice { content += "<p class=\"notice\" role=\"status\">\(notice)</p>" }
        let rows: [Markup] = access.items.map { a in
            let uid = a["user_id"]?.stringValue ?? ""
            let permissions = (a["permissions"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ")
            let remove: Markup = a["_links"]?["delete"] != nil
                ? Layout.action("/console/projects/\(ConsolePath.encode(projectId))/access/\(ConsolePath.encode(uid))/remove", csrf: csrf,
                                label: "Remove", confirm: "Remove this user's access to the project?", style: "danger")
                : ""
            return "<tr><td>\(names[uid] ?? uid)</td><td><code>\(permissions)</code></td><td>\(remove)</td></tr>"
        }
        content += "<h2>Users</h2><div class=\"table-wrap\"><table id=\"users\"><thead><tr><th>User</th><th>Permissions</th><th></th></tr></thead><tbody>\(rows)</tbody></table></div>"

        // Invitations are an admin's business: the API answers the list only to admins, and so the form shows only then.
        if invitations.ok {
            let pending: [Markup] = invitations.items.map { i in
                let id = i["id"]?.stringValue ?? ""
                let cancel: Markup = i["state"]?.stringValue == "pending"
                    ? Layout.action("/console/projects/\(ConsolePath.encode(projectId))/invitations/\(ConsolePath.encode(id))/cancel", csrf: csrf,
                                    label: "Cancel", confirm: "Cancel this invitation?", style: "secondary")
                    : ""
                let permissions = (i["permissions"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ")
                return "<tr><td>\(i["email"]?.stringValue ?? "")</td><td><code>\(permissions)</code></td><td>\(Layout.status(i["state"]?.stringValue ?? ""))</td><td>\(cancel)</td></tr>"
            }
            content += "<h2>Invitations</h2>"
            content += pending.isEmpty ? "<p class=\"muted\">No invitations.</p>"
                : "<div class=\"table-wrap\"><table id=\"invitations\"><thead><tr><th>Email</th><th>Permissions</th><th>State</th><th></th></tr></thead><tbody>\(pending)</tbody></table></div>"
            let typeSelects: [Markup] = environmentTypes.map { t in
                """
                <div><label for="perm-\(t)">\(t.capitalized) environments</label><select id="perm-\(t)" name="\(t)">\
                <option value="">no access</option><option value="viewer" \(t == "production" ? "" : "")>viewer</option>\
                <option value="contributor">contributor</option><option value="admin">admin</option></select></div>
                """
            }
            content += """
            <form method="post" action="/console/projects/\(ConsolePath.encode(projectId))/invitations" class="card" id="invite-form">\
            <input type="hidden" name="csrf" value="\(csrf)"><div class="row">\
            <div><label for="invite-email">Email</label><input id="invite-email" name="email" type="email" required></div>\
            <div><label for="invite-role">Project role</label><select id="invite-role" name="role"><option>viewer</option><option>admin</option></select></div>\
            </div><div class="row">\(typeSelects)</div><p><button type="submit">Invite</button></p></form>
            """
        }
        return .page(ctx.layout(title: "Access", crumbs: [("Projects", "/console/"), (title, ConsolePath.project(projectId)), ("Access", nil)], content),
                     status: status)
    }

    static func invite(_ ctx: PageContext, projectId: String, form: ConsoleRequest) async -> ConsoleResponse {
        var permissions: [JSON] = []
        for t in environmentTypes {
            if let role = form.field(t), !role.isEmpty { permissions.append(.object(JSONObject([("type", .string(t)), ("role", .string(role))]))) }
        }
        var body = JSONObject([("email", .string(form.field("email") ?? "")), ("role", .string(form.field("role") ?? "viewer"))])
        if !permissions.isEmpty { body["permissions"] = .array(permissions) }
        let answer = await ctx.post("/projects/\(ConsolePath.encode(projectId))/invitations", .object(body))
        guard answer.ok else { return await render(ctx, projectId: projectId, error: answer.message, status: answer.status) }
        return await render(ctx, projectId: projectId, notice: "Invitation sent to \(form.field("email") ?? "").")
    }

    static func remove(_ ctx: PageContext, projectId: String, userId: String) async -> ConsoleResponse {
        let answer = await ctx.call("DELETE", "/projects/\(ConsolePath.encode(projectId))/user-access/\(ConsolePath.encode(userId))", nil)
        guard answer.ok else { return await render(ctx, projectId: projectId, error: answer.message, status: answer.status) }
        return .redirect(ConsolePath.project(projectId) + "/access")
    }

    static func cancel(_ ctx: PageContext, projectId: String, invitationId: String) async -> ConsoleResponse {
        let answer = await ctx.call("DELETE", "/projects/\(ConsolePath.encode(projectId))/invitations/\(ConsolePath.encode(invitationId))", nil)
        guard answer.ok else { return await render(ctx, projectId: projectId, error: answer.message, status: answer.status) }
        return .redirect(ConsolePath.project(projectId) + "/access")
    }
}
