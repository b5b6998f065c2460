import GroveModel

/// An organization: its members with their permissions, invitations, and teams.
enum OrganizationPage {
    static let permissions = ["admin", "billing", "members", "plans", "projects:create", "projects:list"]

    static func render(_ ctx: PageContext, organizationId: String, error: String? = nil, notice: String? = nil, status: Int = 200) async -> ConsoleResponse {
        let base = "/organizations/\(ConsolePath.encode(organizationId))"
        async let orgAnswer = ctx.get(base)
        async let membersAnswer = ctx.get(base + "/members")
        async let invitationsAnswer = ctx.get(base + "/invitations")
        async let teamsAnswer = ctx.get("/teams?filter[organization_id]=\(ConsolePath.encode(organizationId))")
        let (org, members, invitations, teams) = await (orgAnswer, membersAnswer, invitationsAnswer, teamsAnswer)
        guard org.ok else { return HomePage.failure(ctx, org) }
        let label = org.json["label"]?.stringValue ?? organizationId
        let csrf = ctx.session.csrfToken
        let names = await UserNames.lookup(ctx, members.items.compactMap { $0["user_id"]?.stringValue })
        var content: Markup = Layout.error(error)
        if let notice { content += "<p class=\"notice\" role=\"status\">\(notice)</p>" }
        if members.ok {
            let rows: [Markup] = members.items.map { m in
                let uid = m["user_id"]?.stringValue ?? ""
                let perms = (m["permissions"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ")
                let owner: Markup = m["owner"]?.boolValue == true ? " <span class=\"status\">owner</span>" : ""
                return "<tr><td>\(names[uid] ?? uid)\(owner)</td><td><code>\(perms)</code></td></tr>"
            }
            content += "<h2>Members</h2><div class=\"table-wrap\"><table id=\"members\"><thead><tr><th>Member</th><th>Permissions</th></tr></thead><tbody>\(rows)</tbody></table></div>"
        }
        if invitations.ok {
            let rows: [Markup] = invitations.items.map { i in
                let perms = (i["permissions"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ")
                return "<tr><td>\(i["email"]?.stringValue ?? "")</td><td><code>\(perms)</code></td><td>\(Layout.status(i["state"]?.stringValue ?? ""))</td></tr>"
            }
            if !rows.isEmpty {
                content += "<h2>Invitations</h2><div class=\"table-wrap\"><table id=\"org-invitations\"><thead><tr><th>Email</th><th>Permissions</th><th>State</th></tr></thead><tbody>\(rows)</tbody></table></div>"
            }
            let boxes: [Markup] = permissions.map { p in
                "<span class=\"check\"><input type=\"checkbox\" id=\"org-perm-\(p)\" name=\"permission\" value=\"\(p)\"><label for=\"org-perm-\(p)\">\(p)</label></span> "
            }
            content += """
            <form method="post" action="/console/organizations/\(ConsolePath.encode(organizationId))/invitations" class="card" id="org-invite-form">\
            <input type="hidden" name="csrf" value="\(csrf)"><label for="org-invite-email">Invite by email</label>\
            <input id="org-invite-email" name="email" type="email" required><p>\(boxes)</p><p><button type="submit">Invite</button></p></form>
            """
        }
        let teamRows: [Markup] = teams.items.map { t in
            let counts = t["counts"]
            return """
            <tr><td><a href="/console/teams/\(ConsolePath.encode(t["id"]?.stringValue ?? ""))">\(t["label"]?.stringValue ?? "")</a></td><td><code>\((t["project_permissions"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", "))</code></td>\
            <td>\(Int(counts?["member_count"]?.intValue ?? 0))</td><td>\(Int(counts?["project_count"]?.intValue ?? 0))</td></tr>
            """
        }
        content += "<h2>Teams</h2>"
        content += teamRows.isEmpty ? "<p class=\"muted\">No teams. A team gives its members the same roles on the projects it is added to.</p>"
            : "<div class=\"table-wrap\"><table id=\"teams\"><thead><tr><th>Team</th><th>Project permissions</th><th>Members</th><th>Projects</th></tr></thead><tbody>\(teamRows)</tbody></table></div>"
        if org.json["_links"]?["#edit"] != nil {
            content += """
            <form method="post" action="/console/organizations/\(ConsolePath.encode(organizationId))/teams" class="card row" id="team-form">\
            <input type="hidden" name="csrf" value="\(csrf)">\
            <div><label for="team-label">New team</label><input id="team-label" name="label" type="text" required></div>\
            <div><label for="team-role">Project role</label><select id="team-role" name="role"><option>viewer</option><option>admin</option></select></div>\
            <button type="submit">Create team</button></form>
            """
        }
        return .page(ctx.layout(title: label, crumbs: [("Projects", "/console/"), (label, nil)], content), status: status)
    }

    static func invite(_ ctx: PageContext, organizationId: String, form: ConsoleRequest) async -> ConsoleResponse {
        let perms = form.form.filter { $0.0 == "permission" }.map { JSON.string($0.1) }
        let body = JSONObject([("email", .string(form.field("email") ?? "")), ("permissions", .array(perms))])
        let answer = await ctx.post("/organizations/\(ConsolePath.encode(organizationId))/invitations", .object(body))
        guard answer.ok else { return await render(ctx, organizationId: organizationId, error: answer.message, status: answer.status) }
        return await render(ctx, organizationId: organizationId, notice: "Invitation sent to \(form.field("email") ?? "").")
    }

    static func createTeam(_ ctx: PageContext, organizationId: String, form: ConsoleRequest) async -> ConsoleResponse {
        let body = JSONObject([("organization_id", .string(organizationId)), ("label", .string(form.field("label") ?? "")),
                               ("project_permissions", .array([.string(form.field("role") ?? "viewer")]))])
        let answer = await ctx.post("/teams", .object(body))
        guard answer.ok else { return await render(ctx, organizationId: organizationId, error: answer.message, status: answer.status) }
        return .redirect("/console/organizations/\(ConsolePath.encode(organizationId))")
    }
}
