import GroveModel

/// An environment: state, URLs, the actions its links allow, what it runs, variables, backups and activities.
enum EnvironmentPage {
    /// Console action name -> the environment link that allows it, and the label of its button.
    static let actions: [(name: String, link: String, label: String, confirm: String?)] = [
        ("redeploy", "#redeploy", "Redeploy", nil),
        ("activate", "#activate", "Activate", nil),
        ("deactivate", "#deactivate", "Deactivate", "Deactivate this environment? Its services and their data are deleted."),
        ("pause", "#pause", "Pause", nil),
        ("resume", "#resume", "Resume", nil),
        ("backup", "#backup", "Back up", nil),
        ("synchronize", "#synchronize", "Synchronize from parent", "Copy the parent's code and data into this environment?"),
        ("merge", "#merge", "Merge into parent", "Merge this environment's code into its parent?"),
        ("delete", "#delete", "Delete", "Delete this environment? This cannot be undone."),
    ]

    static func render(_ ctx: PageContext, projectId: String, environmentId: String, error: String? = nil, status: Int = 200) async -> ConsoleResponse {
        let project = "/projects/\(ConsolePath.encode(projectId))"
        let base = project + "/environments/\(ConsolePath.encode(environmentId))"
        async let projectAnswer = ctx.get(project)
        async let envAnswer = ctx.get(base)
        async let routesAnswer = ctx.get(base + "/routes")
        async let deploymentAnswer = ctx.get(base + "/deployments/current")
        async let variablesAnswer = ctx.get(base + "/variables")
        async let backupsAnswer = ctx.get(base + "/backups")
        async let activitiesAnswer = ctx.get(base + "/activities?count=15")
        async let logsAnswer = ctx.get(base + "/logs")
        async let domainsAnswer = ctx.get(base + "/domains")
        let (p, env) = await (projectAnswer, envAnswer)
        guard p.ok else { return HomePage.failure(ctx, p) }
        guard env.ok else { return HomePage.failure(ctx, env) }
        let (routes, deployment, variables, backups, activities) = await (routesAnswer, deploymentAnswer, variablesAnswer, backupsAnswer, activitiesAnswer)
        let e = env.json
        let links = e["_links"]?.objectValue ?? JSONObject()
        let projectTitle = p.json["title"]?.stringValue ?? projectId
        let title = e["title"]?.stringValue ?? environmentId
        let csrf = ctx.session.csrfToken
        let actionPath = ConsolePath.environment(projectId, environmentId) + "/actions/"

        var content: Markup = Layout.error(error)
        let urls: [Markup] = routes.items.filter { $0["type"]?.stringValue == "upstream" }.compactMap { $0["url"]?.stringValue }
            .map { "<li><a href=\"\($0)\" rel=\"noopener\">\($0)</a></li>" }
        let parent: Markup = e["parent"]?.stringValue.map { "<a href=\"\(ConsolePath.environment(projectId, $0))\">\($0)</a>" } ?? "none"
        content += """
        <section class="card" data-states="\(ConsolePath.project(projectId))/states"><dl class="facts"><dt>Status</dt>\
        <dd id="environment-status">\(Layout.environmentStatus(environmentId, e["status"]?.stringValue ?? "", busy: e["is_dirty"]?.boolValue == true))</dd>\
        <dt>Type</dt><dd>\(e["type"]?.stringValue ?? "")</dd><dt>Parent</dt><dd>\(parent)</dd>\
        <dt>Head commit</dt><dd><code>\(String((e["head_commit"]?.stringValue ?? "none").prefix(12)))</code></dd>\
        <dt>Deployed</dt><dd>\(Layout.time(e["deployment_state"]?["last_deployment_at"]?.stringValue))</dd>\
        <dt>URLs</dt><dd><ul class="urls" id="environment-urls">\(urls.isEmpty ? ["<li class=\"muted\">none yet</li>"] : urls)</ul></dd></dl></section>
        """

        // Only what the environment's links allow: a viewer sees no button the API would refuse.
        var buttons: [Markup] = []
        for a in actions where links[a.link] != nil {
            var fields: Markup = ""
            if a.name == "synchronize" {
                fields = """
                <span class="check"><input type="checkbox" id="sync-code" name="synchronize_code" value="true" checked><label for="sync-code">code</label>\
                <input type="checkbox" id="sync-data" name="synchronize_data" value="true"><label for="sync-data">data</label></span>
                """
            }
            buttons.append(Layout.action(actionPath + a.name, csrf: csrf, label: a.label, confirm: a.confirm, fields: fields,
                                         style: a.name == "delete" || a.name == "deactivate" ? "danger" : "secondary"))
        }
        if e["is_dirty"]?.boolValue == true {
            content += "<p class=\"notice\" id=\"busy\">An activity is running on this environment: actions that change it wait until it ends.</p>"
        }
        if !buttons.isEmpty { content += "<h2>Actions</h2><div class=\"card\" id=\"actions\">\(buttons)</div>" }
        if links["#branch"] != nil {
            content += """
            <h2>Branch</h2><form method="post" action="\(actionPath)branch" class="card row" id="branch-form">\
            <input type="hidden" name="csrf" value="\(csrf)">\
            <div><label for="branch-name">New environment name</label><input id="branch-name" name="name" type="text" required></div>\
            <div><label for="branch-type">Type</label><select id="branch-type" name="type"><option>development</option><option>staging</option></select></div>\
            <div class="grow0 check"><input type="checkbox" id="branch-clone" name="clone_parent" value="true" checked><label for="branch-clone">copy the data</label></div>\
            <button type="submit">Branch</button></form>
            """
        }

        content += services(deployment)
        content += variablesSection(variables, canManage: links["#manage-variables"] != nil, csrf: csrf,
                                    path: ConsolePath.environment(projectId, environmentId) + "/variables")
        content += domainsSection(await domainsAnswer, canManage: links["#domains"] != nil, production: e["type"]?.stringValue == "production",
                                  csrf: csrf, path: ConsolePath.environment(projectId, environmentId) + "/domains")
        content += backupsSection(backups, csrf: csrf, path: ConsolePath.environment(projectId, environmentId) + "/backups/")
        content += logsSection(await logsAnswer, path: ConsolePath.environment(projectId, environmentId) + "/logs/")
        content += ActivityPage.table(activities.items, projectId: projectId)
        return .page(ctx.layout(title: title, crumbs: [("Projects", "/console/"), (projectTitle, ConsolePath.project(projectId)), (title, nil)], content),
                     status: status)
    }

    /// Applications and services with their relationships, never their credentials.
    static func services(_ deployment: APIResult) -> Markup {
        guard deployment.ok else { return "<h2>Applications and services</h2><p class=\"muted\">Nothing is deployed yet.</p>" }
        let apps = deployment.json["webapps"]?.objectValue ?? JSONObject()
        let services = deployment.json["services"]?.objectValue ?? JSONObject()
        var rows: [Markup] = []
        for (name, app) in apps {
            let rels = (app["relationships"]?.objectValue ?? JSONObject()).map { rel in
                let target = rel.value.stringValue
                    ?? [rel.value["service"]?.stringValue, rel.value["endpoint"]?.stringValue].compactMap { $0 }.joined(separator: ":")
                return "\(rel.key) → \(target)"
            }.joined(separator: ", ")
            rows.append("<tr><td>\(name)</td><td>application</td><td><code>\(app["type"]?.stringValue ?? "")</code></td><td>\(rels)</td></tr>")
        }
        for (name, service) in services {
            rows.append("<tr><td>\(name)</td><td>service</td><td><code>\(service["type"]?.stringValue ?? "")</code></td><td></td></tr>")
        }
        guard !rows.isEmpty else { return "<h2>Applications and services</h2><p class=\"muted\">Nothing is deployed yet.</p>" }
        return """
        <h2>Applications and services</h2><div class="table-wrap"><table id="services"><thead><tr><th>Name</th><th>Kind</th><th>Type</th>\
        <th>Relationships</th></tr></thead><tbody>\(rows)</tbody></table></div>
        """
    }

    static func variablesSection(_ variables: APIResult, canManage: Bool, csrf: String, path: String) -> Markup {
        let rows: [Markup] = variables.items.map { v in
            let sensitive = v["is_sensitive"]?.boolValue == true
            let value: Markup = sensitive ? "<span class=\"muted\">hidden (sensitive)</span>" : "<code>\(v["value"]?.stringValue ?? "")</code>"
            return "<tr><td><code>\(v["name"]?.stringValue ?? "")</code></td><td>\(value)</td><td class=\"opt\">\(v["inherited"]?.boolValue == true ? "inherited" : "this environment")</td></tr>"
        }
        var out: Markup = "<h2>Variables</h2>"
        out += rows.isEmpty ? "<p class=\"muted\">No variables.</p>"
            : "<div class=\"table-wrap\"><table id=\"variables\"><thead><tr><th>Name</th><th>Value</th><th class=\"opt\">Set on</th></tr></thead><tbody>\(rows)</tbody></table></div>"
        if canManage {
            out += """
            <form method="post" action="\(path)" class="card row" id="variable-form"><input type="hidden" name="csrf" value="\(csrf)">\
            <div><label for="var-name">Name</label><input id="var-name" name="name" type="text" required></div>\
            <div><label for="var-value">Value</label><input id="var-value" name="value" type="text"></div>\
            <div class="grow0 check"><input type="checkbox" id="var-sensitive" name="is_sensitive" value="true"><label for="var-sensitive">sensitive (write-only)</label></div>\
            <button type="submit">Add variable</button></form>
            """
        }
        return out
    }

    static func backupsSection(_ backups: APIResult, csrf: String, path: String) -> Markup {
        let rows: [Markup] = backups.items.map { b in
            let id = b["id"]?.stringValue ?? ""
            let restore: Markup = b["_links"]?["#restore"] != nil
                ? Layout.action(path + ConsolePath.encode(id) + "/restore", csrf: csrf, label: "Restore",
                                confirm: "Restore this backup into the environment? Its current data is replaced.", style: "secondary")
                : ""
            return """
            <tr><td><code>\(id)</code></td><td>\(Layout.status(b["status"]?.stringValue ?? ""))</td><td>\(Layout.time(b["created_at"]?.stringValue))</td>\
            <td>\(restore)</td></tr>
            """
        }
        guard !rows.isEmpty else { return "<h2>Backups</h2><p class=\"muted\">No backups yet.</p>" }
        return "<h2>Backups</h2><div class=\"table-wrap\"><table id=\"backups\"><thead><tr><th>ID</th><th>Status</th><th>Made</th><th></th></tr></thead><tbody>\(rows)</tbody></table></div>"
    }

    /// Custom domains: production's are the project's; other environments' replace one of them.
    static func domainsSection(_ domains: APIResult, canManage: Bool, production: Bool, csrf: String, path: String) -> Markup {
        guard domains.ok else { return "" }
        let rows: [Markup] = domains.items.map { d in
            let name = d["name"]?.stringValue ?? ""
            let delete: Markup = d["_links"]?["#delete"] != nil
                ? Layout.action(path + "/" + ConsolePath.encode(name) + "/delete", csrf: csrf, label: "Remove",
                                confirm: "Remove the domain \(name)? The site stops answering on it.", style: "danger")
                : ""
            let replaces: Markup = d["replacement_for"]?.stringValue.map { " <span class=\"muted\">replaces \($0)</span>" } ?? ""
            return "<tr><td>\(name)\(replaces)</td><td>\(delete)</td></tr>"
        }
        guard canManage || !rows.isEmpty else { return "" }
        var out: Markup = "<h2>Domains</h2>"
        out += rows.isEmpty ? "<p class=\"muted\">No custom domains.</p>"
            : "<div class=\"table-wrap\"><table id=\"domains\"><thead><tr><th>Domain</th><th></th></tr></thead><tbody>\(rows)</tbody></table></div>"
        if canManage {
            let replacement: Markup = production ? "" : """
                <div><label for="domain-replaces">Replaces the production domain</label><input id="domain-replaces" name="replacement_for" type="text"></div>
                """
            out += """
            <form method="post" action="\(path)" class="card row" id="domain-form"><input type="hidden" name="csrf" value="\(csrf)">\
            <div><label for="domain-name">Domain</label><input id="domain-name" name="name" type="text" required placeholder="www.example.com"></div>\
            \(replacement)<button type="submit">Add domain</button></form>
            """
        }
        return out
    }

    static func addDomain(_ ctx: PageContext, projectId: String, environmentId: String, form: ConsoleRequest) async -> ConsoleResponse {
        var body = JSONObject([("name", .string(form.field("name") ?? ""))])
        if let r = form.field("replacement_for"), !r.isEmpty { body["replacement_for"] = .string(r) }
        let path = "/projects/\(ConsolePath.encode(projectId))/environments/\(ConsolePath.encode(environmentId))/domains"
        let answer = await ctx.post(path, .object(body))
        guard answer.ok else { return await render(ctx, projectId: projectId, environmentId: environmentId, error: answer.message, status: answer.status) }
        return .redirect(ConsolePath.environment(projectId, environmentId))
    }

    static func removeDomain(_ ctx: PageContext, projectId: String, environmentId: String, name: String) async -> ConsoleResponse {
        let path = "/projects/\(ConsolePath.encode(projectId))/environments/\(ConsolePath.encode(environmentId))/domains/\(ConsolePath.encode(name))"
        let answer = await ctx.call("DELETE", path, nil)
        guard answer.ok else { return await render(ctx, projectId: projectId, environmentId: environmentId, error: answer.message, status: answer.status) }
        return .redirect(ConsolePath.environment(projectId, environmentId))
    }

    static func logsSection(_ logs: APIResult, path: String) -> Markup {
        guard logs.ok, !logs.items.isEmpty else { return "" }
        let links: [Markup] = logs.items.compactMap { $0["name"]?.stringValue }.map { "<li><a href=\"\(path)\(ConsolePath.encode($0))\">\($0)</a></li>" }
        return "<h2>Logs</h2><ul id=\"logs\">\(links)</ul>"
    }

    /// The last lines of one of the environment's logs (application, access, error, cron, deploy, ...).
    static func log(_ ctx: PageContext, projectId: String, environmentId: String, name: String) async -> ConsoleResponse {
        let base = "/projects/\(ConsolePath.encode(projectId))/environments/\(ConsolePath.encode(environmentId))"
        async let projectAnswer = ctx.get("/projects/\(ConsolePath.encode(projectId))")
        async let logAnswer = ctx.get(base + "/logs/\(ConsolePath.encode(name))?lines=500")
        let (project, log) = await (projectAnswer, logAnswer)
        guard project.ok else { return HomePage.failure(ctx, project) }
        guard log.ok else { return HomePage.failure(ctx, log) }
        let lines = (log.json["lines"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: "\n")
        let title = project.json["title"]?.stringValue ?? projectId
        let content: Markup = "<p class=\"muted\">The last 500 lines; reload for newer ones.</p><pre id=\"log-lines\">\(lines.isEmpty ? "(empty)" : lines)</pre>"
        return .page(ctx.layout(title: name, crumbs: [("Projects", "/console/"), (title, ConsolePath.project(projectId)),
                                                    (environmentId, ConsolePath.environment(projectId, environmentId)), (name, nil)], content))
    }

    static func restore(_ ctx: PageContext, projectId: String, environmentId: String, backupId: String) async -> ConsoleResponse {
        let path = "/projects/\(ConsolePath.encode(projectId))/environments/\(ConsolePath.encode(environmentId))/backups/\(ConsolePath.encode(backupId))/restore"
        let answer = await ctx.post(path, .object(JSONObject()))
        guard answer.ok else { return await render(ctx, projectId: projectId, environmentId: environmentId, error: answer.message, status: answer.status) }
        if let activity = answer.json["_embedded"]?["activities"]?.arrayValue?.first?["id"]?.stringValue {
            return .redirect(ConsolePath.activity(projectId, activity))
        }
        return .redirect(ConsolePath.environment(projectId, environmentId))
    }

    static func addVariable(_ ctx: PageContext, projectId: String, environmentId: String, form: ConsoleRequest) async -> ConsoleResponse {
        let body = JSONObject([
            ("name", .string(form.field("name") ?? "")), ("value", .string(form.field("value") ?? "")),
            ("is_sensitive", .bool(form.field("is_sensitive") == "true")),
        ])
        let path = "/projects/\(ConsolePath.encode(projectId))/environments/\(ConsolePath.encode(environmentId))/variables"
        let answer = await ctx.post(path, .object(body))
        guard answer.ok else { return await render(ctx, projectId: projectId, environmentId: environmentId, error: answer.message, status: answer.status) }
        return .redirect(ConsolePath.environment(projectId, environmentId))
    }

    static func act(_ ctx: PageContext, projectId: String, environmentId: String, action: String, form: ConsoleRequest) async -> ConsoleResponse {
        let base = "/projects/\(ConsolePath.encode(projectId))/environments/\(ConsolePath.encode(environmentId))"
        let answer: APIResult
        switch action {
        case "branch":
            var body = JSONObject([("name", .string(form.field("name") ?? "")), ("clone_parent", .bool(form.field("clone_parent") == "true"))])
            if let type = form.field("type"), !type.isEmpty { body["type"] = .string(type) }
            answer = await ctx.post(base + "/branch", .object(body))
        case "synchronize":
            answer = await ctx.post(base + "/synchronize", .object(JSONObject([
                ("synchronize_code", .bool(form.field("synchronize_code") == "true")), ("synchronize_data", .bool(form.field("synchronize_data") == "true")),
            ])))
        case "delete":
            answer = await ctx.call("DELETE", base, nil)
        case _ where actions.contains(where: { $0.name == action }):
            answer = await ctx.post(base + "/" + action, .object(JSONObject()))
        default:
            return .page(ctx.layout(title: "Not found", Layout.error("There is no action \(action).")), status: 404)
        }
        guard answer.ok else { return await render(ctx, projectId: projectId, environmentId: environmentId, error: answer.message, status: answer.status) }
        if let activity = answer.json["_embedded"]?["activities"]?.arrayValue?.first?["id"]?.stringValue {
            return .redirect(ConsolePath.activity(projectId, activity))
        }
        return .redirect(action == "delete" ? ConsolePath.project(projectId) : ConsolePath.environment(projectId, environmentId))
    }
}
