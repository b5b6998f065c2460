import GroveModel

/// A team: its members and the projects it has access to (with the team's project role); organization admins add
/// and remove both.
enum TeamPage {
    static func render(_ ctx: PageContext, teamId: String, error: String? = nil, status: Int = 200) async -> ConsoleResponse {
        let base = "/teams/\(ConsolePath.encode(teamId))"
        async let teamAnswer = ctx.get(base)
        async let membersAnswer = ctx.get(base + "/members")
        async let accessAnswer = ctx.get(base + "/project-access")
        let (team, members, access) = await (teamAnswer, membersAnswer, accessAnswer)
        guard team.ok else { return HomePage.failure(ctx, team) }
        let label = team.json["label"]?.stringValue ?? teamId
        let orgId = team.json["organization_id"]?.stringValue ?? ""
        let org = await ctx.get("/organizations/\(ConsolePath.encode(orgId))")
        let orgLabel = org.json["label"]?.stringValue ?? orgId
        // Organization admins manage teams (the API's rule); the organization's own #edit link says who they are.
        let canManage = org.json["_links"]?["#edit"] != nil
        let csrf = ctx.session.csrfToken
        let path = "/console/teams/\(ConsolePath.encode(teamId))"
        let names = await UserNames.lookup(ctx, members.items.compactMap { $0["user_id"]?.stringValue })
        var content: Markup = Layout.error(error)
        let role = (team.json["project_permissions"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ")
        content += "<section class=\"card\"><dl class=\"facts\"><dt>Organization</dt><dd><a href=\"/console/organizations/\(ConsolePath.encode(orgId))\">\(orgLabel)</a></dd><dt>Project role</dt><dd><code>\(role)</code></dd></dl></section>"

        let memberRows: [Markup] = members.items.map { m in
            let uid = m["user_id"]?.stringValue ?? ""
            let remove: Markup = canManage
                ? Layout.action(path + "/members/" + ConsolePath.encode(uid) + "/remove", csrf: csrf, label: "Remove", confirm: "Remove this member from the team?", style: "danger")
                : ""
            return "<tr><td>\(names[uid] ?? uid)</td><td>\(remove)</td></tr>"
        }
        content += "<h2>Members</h2>"
        content += memberRows.isEmpty ? "<p class=\"muted\">No members yet.</p>"
            : "<div class=\"table-wrap\"><table id=\"team-members\"><thead><tr><th>Member</th><th></th></tr></thead><tbody>\(memberRows)</tbody></table></div>"
        if canManage {
            content += """
            <form method="post" action="\(path)/members" class="card row" id="team-member-form"><input type="hidden" name="csrf" value="\(csrf)">\
            <div><label for="member-email">Add a user by email</label><input id="member-email" name="email" type="email" required></div>\
            <button type="submit">Add member</button></form>
            """
        }

        let projectRows: [Markup] = access.items.map { a in
            let pid = a["project_id"]?.stringValue ?? ""
            let remove: Markup = canManage
                ? Layout.action(path + "/projects/" + ConsolePath.encode(pid) + "/remove", csrf: csrf, label: "Remove", confirm: "Remove the team's access to this project?", style: "danger")
                : ""
            return "<tr><td><a href=\"\(ConsolePath.project(pid))\">\(a["project_title"]?.stringValue ?? pid)</a></td><td>\(remove)</td></tr>"
        }
        content += "<h2>Projects</h2>"
        content += projectRows.isEmpty ? "<p class=\"muted\">The team has access to no project yet.</p>"
            : "<div class=\"table-wrap\"><table id=\"team-projects\"><thead><tr><th>Project</th><th></th></tr></thead><tbody>\(projectRows)</tbody></table></div>"
        if canManage {
            let projects = (await ctx.get("/projects?filter[organization]=\(ConsolePath.encode(orgId))")).json["projects"]?.arrayValue ?? []
            let options: [Markup] = projects.map { p in "<option value=\"\(p["id"]?.stringValue ?? "")\">\(p["title"]?.stringValue ?? "")</option>" }
            if !options.isEmpty {
                content += """
                <form method="post" action="\(path)/projects" class="card row" id="team-project-form"><input type="hidden" name="csrf" value="\(csrf)">\
                <div><label for="team-project">Give the team access to</label><select id="team-project" name="project_id">\(options)</select></div>\
                <button type="submit">Add project</button></form>
                """
            }
        }
        return .page(ctx.layout(title: label, crumbs: [("Projects", "/console/"), (orgLabel, "/console/organizations/\(ConsolePath.encode(orgId))"), (label, nil)], content),
                     status: status)
    }

    static func act(_ ctx: PageContext, teamId: String, what: [String], form: ConsoleRequest) async -> ConsoleResponse {
        let base = "/teams/\(ConsolePath.encode(teamId))"
        let answer: APIResult
        switch what {
        case ["members"]:
            let email = form.field("email") ?? ""
            let user = await ctx.get("/users/email=\(ConsolePath.encode(email))")
            guard user.ok, let uid = user.json["id"]?.stringValue else {
                return await render(ctx, teamId: teamId, error: user.status == 404 ? "No Grove user has the email \(email): invite them to the organization first." : user.message,
                                    status: user.ok ? 400 : user.status)
            }
            answer = await ctx.post(base + "/members", .object(JSONObject([("user_id", .string(uid))])))
        case let w where w.count == 3 && w[0] == "members" && w[2] == "remove":
            answer = await ctx.call("DELETE", base + "/members/" + ConsolePath.encode(w[1]), nil)
        case ["projects"]:
            answer = await ctx.post(base + "/project-access", .array([.object(JSONObject([("project_id", .string(form.field("project_id") ?? ""))]))]))
        case let w where w.count == 3 && w[0] == "projects" && w[2] == "remove":
            answer = await ctx.call("DELETE", base + "/project-access/" + ConsolePath.encode(w[1]), nil)
        default:
            return .page(ctx.layout(title: "Not found", Layout.error("There is no such team action.")), status: 404)
        }
        guard answer.ok else { return await render(ctx, teamId: teamId, error: answer.message, status: answer.status) }
        return .redirect("/console/teams/\(ConsolePath.encode(teamId))")
    }
}
