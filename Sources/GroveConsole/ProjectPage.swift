import GroveModel

/// A project: its facts, the environment tree with status, type and URLs, and recent activities.
enum ProjectPage {
    static func render(_ ctx: PageContext, projectId: String, error: String? = nil, status: Int = 200) async -> ConsoleResponse {
        let base = "/projects/\(ConsolePath.encode(projectId))"
        async let projectAnswer = ctx.get(base)
        async let certificatesAnswer = ctx.get(base + "/certificates")
        async let integrationsAnswer = ctx.get(base + "/integrations")
        async let environmentsAnswer = ctx.get(base + "/environments")
        async let activitiesAnswer = ctx.get(base + "/activities?count=20")
        let (project, environments, activities) = await (projectAnswer, environmentsAnswer, activitiesAnswer)
        guard project.ok else { return HomePage.failure(ctx, project) }
        guard environments.ok else { return HomePage.failure(ctx, environments) }
        let envs = environments.items
        let title = project.json["title"]?.stringValue ?? projectId
        let remote = project.json["repository"]?["http_url"]?.stringValue ?? ctx.backend.gitRemote(projectId: projectId)
        let sshRemote = project.json["repository"]?["url"]?.stringValue.flatMap { $0 == remote ? nil : $0 }
        let defaultBranch = project.json["default_branch"]?.stringValue ?? "main"

        // URLs of active environments, read from each one's routes.
        var urls: [String: [String]] = [:]
        await withTaskGroup(of: (String, [String]).self) { group in
            for e in envs where e["status"]?.stringValue == "active" {
                guard let id = e["id"]?.stringValue else { continue }
                group.addTask {
                    let routes = await ctx.get(base + "/environments/\(ConsolePath.encode(id))/routes")
                    let list = routes.items.filter { $0["type"]?.stringValue == "upstream" }
                        .sorted { ($0["primary"]?.boolValue == true ? 0 : 1) < ($1["primary"]?.boolValue == true ? 0 : 1) }
                        .compactMap { $0["url"]?.stringValue }
                    return (id, list)
                }
            }
            for await (id, list) in group { urls[id] = list }
        }
        let recent = activities.items
        func lastActivity(_ id: String) -> JSON? {
            recent.first { $0["environments"]?.arrayValue?.contains(.string(id)) == true }
        }

        func draw(_ nodes: [EnvironmentTree.Node]) -> Markup {
            let items: [Markup] = nodes.map { n in
                let e = n.environment
                let id = n.id
                let links: [Markup] = (urls[id] ?? []).prefix(3).map { "<a href=\"\($0)\" rel=\"noopener\">\($0)</a> " }
                let last: Markup = lastActivity(id).map {
                    "<span class=\"muted\">\($0["text"]?.stringValue ?? "")</span> \(Layout.time($0["created_at"]?.stringValue))"
                } ?? ""
                let kids: Markup = n.children.isEmpty ? "" : "<ul>\(draw(n.children))</ul>"
                return """
                <li><div class="node" data-environment="\(id)"><a class="name" href="\(ConsolePath.environment(projectId, id))">\(e["title"]?.stringValue ?? id)</a>\
                \(Layout.environmentStatus(id, e["status"]?.stringValue ?? "", busy: e["is_dirty"]?.boolValue == true)) <span class="muted">\(e["type"]?.stringValue ?? "")</span> \(last)\
                <span class="urls">\(links)</span></div>\(kids)</li>
                """
            }
            return items.joined()
        }

        var content: Markup = Layout.error(error)
        content += """
        <section class="card"><dl class="facts"><dt>ID</dt><dd><code>\(projectId)</code></dd>\
        <dt>Git remote</dt><dd><code>\(remote)</code></dd>\
        \(sshRemote.map { Markup("<dt>Git over SSH</dt><dd><code>\($0)</code></dd>") } ?? "")<dt>Default branch</dt><dd>\(defaultBranch)</dd>\
        <dt>Created</dt><dd>\(Layout.time(project.json["created_at"]?.stringValue))</dd>\
        <dt>Access</dt><dd><a href="\(ConsolePath.project(projectId))/access" id="access-link">users and invitations</a></dd></dl></section>
        """
        if !envs.contains(where: { $0["has_code"]?.boolValue == true }) {
            content += """
            <section class="card notice" id="empty-project"><h2>Push your code</h2>\
            <p>This project has no code yet. From your application's repository:</p>\
            <pre>git remote add grove \(remote)\ngit push grove HEAD:\(defaultBranch)</pre>\
            <p class="muted">When git asks, give any user name and an API token as the password (make one under \
            <a href="/console/account">Account</a>), or push over SSH with a key added there.</p>\
            <p>Grove builds and deploys every push; each branch you push can become an environment of its own.</p></section>
            """
        }
        content += """
        <h2>Environments</h2><ul class="tree" aria-label="Environment tree" data-states="\(ConsolePath.project(projectId))/states">\
        \(draw(EnvironmentTree.build(envs)))</ul>
        """
        content += CertificateSection.render(await certificatesAnswer, projectId: projectId,
                                             canManage: project.json["_links"]?["#edit"] != nil, csrf: ctx.session.csrfToken)
        content += IntegrationSection.render(await integrationsAnswer, projectId: projectId, csrf: ctx.session.csrfToken)
        content += ActivityPage.table(recent, projectId: projectId)
        content += "<p><a id=\"all-activities\" href=\"\(ConsolePath.project(projectId))/activities\">All activities</a></p>"
        return .page(ctx.layout(title: title, crumbs: [("Projects", "/console/"), (title, nil)], content), status: status)
    }
}
