import GroveModel

/// The organizations the user belongs to and their projects, with a form to create a project where allowed.
enum HomePage {
    static func render(_ ctx: PageContext, error: String? = nil, status: Int = 200) async -> ConsoleResponse {
        async let orgsAnswer = ctx.get("/organizations")
        async let projectsAnswer = ctx.get("/projects")
        let (orgs, projects) = await (orgsAnswer, projectsAnswer)
        guard orgs.ok else { return failure(ctx, orgs) }
        let allProjects = projects.json["projects"]?.arrayValue ?? []
        var sections: [Markup] = []
        for org in orgs.items {
            let orgId = org["id"]?.stringValue ?? ""
            let label = org["label"]?.stringValue ?? org["name"]?.stringValue ?? orgId
            let mine = allProjects.filter { $0["organization"]?.stringValue == orgId }
            let rows: [Markup] = mine.map { p in
                let id = p["id"]?.stringValue ?? ""
                return """
                <tr><td><a href="\(ConsolePath.project(id))">\(p["title"]?.stringValue ?? id)</a></td><td><code>\(id)</code></td>\
                <td class="opt">\(Layout.time(p["created_at"]?.stringValue))</td></tr>
                """
            }
            let list: Markup = rows.isEmpty
                ? "<p class=\"muted\">No projects here yet.</p>"
                : "<div class=\"table-wrap\"><table><thead><tr><th>Project</th><th>ID</th><th class=\"opt\">Created</th></tr></thead><tbody>\(rows)</tbody></table></div>"
            var create: Markup = ""
            if org["_links"]?["#create-subscription"] != nil {
                create = """
                <form method="post" action="/console/organizations/\(ConsolePath.encode(orgId))/projects" class="row">\
                <input type="hidden" name="csrf" value="\(ctx.session.csrfToken)">\
                <div><label for="title-\(orgId)">New project title</label><input id="title-\(orgId)" name="title" type="text" required></div>\
                <button type="submit">Create project</button></form>
                """
            }
            sections.append("""
                <section class="card" aria-label="\(label)"><h2><a href="/console/organizations/\(ConsolePath.encode(orgId))">\(label)</a></h2>\
                \(list)\(create)</section>
                """)
        }
        if sections.isEmpty {
            sections.append("<p class=\"muted\">You belong to no organization yet: accept an invitation, or create one with <code>grove organization:create</code>.</p>")
        }
        return .page(ctx.layout(title: "Projects", crumbs: [("Projects", nil)], Layout.error(error) + sections.joined()), status: status)
    }

    static func createProject(_ ctx: PageContext, organization: String, form: ConsoleRequest) async -> ConsoleResponse {
        let title = form.field("title") ?? ""
        let answer = await ctx.post("/organizations/\(ConsolePath.encode(organization))/subscriptions",
                                    .object(JSONObject([("project_title", .string(title))])))
        guard answer.ok, let pid = answer.json["project_id"]?.stringValue else {
            return await render(ctx, error: answer.message, status: answer.status >= 400 ? answer.status : 400)
        }
        return .redirect(ConsolePath.project(pid))
    }

    /// The API refused: its message, with the status it gave.
    static func failure(_ ctx: PageContext, _ answer: APIResult) -> ConsoleResponse {
        .page(ctx.layout(title: answer.status == 404 ? "Not found" : "Refused", crumbs: [("Projects", "/console/")], Layout.error(answer.message)),
              status: answer.status >= 400 ? answer.status : 500)
    }
}
