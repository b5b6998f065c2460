import Foundation
import GroveModel
import GroveStore

/// Projects, subscriptions, capabilities, settings and environment types.
enum ProjectHandlers {
    static let createFields = ["title", "project_title", "region", "project_region", "default_branch", "description", "plan",
                               "storage", "environments", "user_licenses", "timezone", "attributes", "options_url", "vendor", "resources",
                               "organization_id"]

    struct NewProject: Sendable {
        var title: String
        var region: String
        var defaultBranch: String
        var description: String
        var plan: String
        var storage: Int
        var environments: Int
    }

    static func readNewProject(_ b: BodyReader, region defaultRegion: String) throws -> NewProject {
        let title = try b.string("title", nonEmpty: true, maxLength: 255) ?? b.string("project_title", nonEmpty: true, maxLength: 255) ?? "Untitled Project"
        let region = try b.string("region", nonEmpty: true) ?? b.string("project_region", nonEmpty: true) ?? defaultRegion
        guard region == defaultRegion else {
            throw APIError.badRequest("unknown region '\(region)'; this server offers \(defaultRegion)", field: b.has("region") ? "region" : "project_region")
        }
        let branch = try b.string("default_branch", nonEmpty: true) ?? "main"
        _ = try b.string("organization_id", nonEmpty: true)
        if let problem = EnvironmentName.problem(with: branch) { throw APIError.badRequest(problem, field: "default_branch") }
        _ = try b.stringMap("attributes")
        _ = try b.objectValue("resources")
        _ = try b.string("timezone")
        _ = try b.int("user_licenses", max: 10_000)
        return NewProject(title: title, region: region, defaultBranch: branch, description: try b.string("description", maxLength: 4096) ?? "",
                          plan: try b.string("plan", nonEmpty: true) ?? "development",
                          storage: try b.int("storage", min: 0, max: 10_000_000) ?? 5120,
                          environments: try b.int("environments", min: 1, max: 1000) ?? 3)
    }

    /// Writes the subscription, project, default environment and `project.create` activity in one transaction.
    static func provision(_ n: NewProject, org: Organization, user: User, _ s: ServerContext) async throws -> (Subscription, Project, Activity) {
        let now = Timestamp.now()
        var sub = Subscription(id: Identifier.numeric(), organizationId: org.id, ownerId: user.id, plan: n.plan, projectRegion: n.region,
                               projectTitle: n.title, defaultBranch: n.defaultBranch, environments: n.environments, storage: n.storage, createdAt: now)
        var project = Project(id: Identifier.short(), organizationId: org.id, ownerId: user.id, subscriptionId: sub.id, title: n.title,
                              defaultBranch: n.defaultBranch, region: n.region, createdAt: now)
        project.description = n.description
        project.plan = n.plan
        project.storage = n.storage
        project.environmentsLimit = n.environments
        sub.projectId = project.id
        let env = Environment(projectId: project.id, name: n.defaultBranch, title: n.defaultBranch.capitalizedFirst, type: .production,
                              parent: nil, status: .inactive, isMain: true, createdAt: now)
        let activity = s.makeActivity(type: "project.create", project: project, environment: nil, user: user,
                                      action: "created project \(n.title)", parameters: JSONObject([("subscription_id", .string(sub.id))]))
        try await s.store.transaction { [sub, project] tx in
            try await tx.insertSubscription(sub)
            try await tx.insertProject(project)
            try await tx.insertEnvironment(env)
            try await tx.insertActivity(activity)
        }
        return (sub, project, activity)
    }

    static func register(_ r: inout Routes, _ s: ServerContext) {
        // Subscriptions (accounts API).
        r.add("list-org-subscriptions") { req in
            let (o, m) = try await OrganizationHandlers.visible(req, s)
            var subs = try await s.store.subscriptions(organizationId: o.id)
            if !m.has(.projectsList) && !m.has(.billing) {
                let user = try req.requireUser()
                var visible: [Subscription] = []
                for sub in subs {
                    if let pid = sub.projectId, let p = try await s.store.project(id: pid), try await s.access.level(user: user, project: p).permits(.view) {
                        visible.append(sub)
                    }
                }
                subs = visible
            }
            if let st = req.queryValue("filter[status]") { subs = subs.filter { $0.status.rawValue == st } }
            return .json(.ok, try accountsCollection(subs, request: req, base: s.publicURL, cursor: { $0.id },
                                                     render: { s.render.subscription($0, canManage: m.has(.billing)) }))
        }
        r.add("create-org-subscription") { req in
            let user = try req.requireUser()
            let (o, m) = try await OrganizationHandlers.visible(req, s)
            guard m.has(.projectsCreate) else { throw APIError.forbidden("Creating projects requires the projects:create permission.") }
            let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: createFields)
            // The official CLI repeats the organization in the body: it must be the one in the path.
            if let named = try b.string("organization_id"), named != o.id {
                throw APIError.badRequest("names organization \(named), but the request is for \(o.id)", field: "organization_id")
            }
            let (sub, _, _) = try await provision(try readNewProject(b, region: s.region), org: o, user: user, s)
            return .json(.created, s.render.subscription(sub, canManage: true))
        }
        r.add("can-create-new-org-subscription") { req in
            let (_, m) = try await OrganizationHandlers.visible(req, s)
            let ok = m.has(.projectsCreate)
            return .json(.ok, .object(JSONObject([("can_create", .bool(ok)), ("message", .string(ok ? "" : "You need the projects:create permission.")),
                                                  ("required_action", .null)])))
        }
        r.add("get-org-subscription") { req in
            let (o, m) = try await OrganizationHandlers.visible(req, s)
            return .json(.ok, s.render.subscription(try await subscription(req, o, s), canManage: m.has(.billing)))
        }
        r.add("update-org-subscription") { req in
            let (o, m) = try await OrganizationHandlers.visible(req, s)
            guard m.has(.billing) else { throw APIError.forbidden("Changing a subscription requires the billing permission.") }
            var sub = try await subscription(req, o, s)
            let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: ["plan", "environments", "storage", "user_licenses", "project_title"])
            if let plan = try b.string("plan", nonEmpty: true) { sub.plan = plan }
            if let e = try b.int("environments", min: 1, max: 1000) { sub.environments = e }
            if let st = try b.int("storage", min: 0, max: 10_000_000) { sub.storage = st }
            if let u = try b.int("user_licenses", min: 1, max: 10_000) { sub.userLicenses = u }
            if let t = try b.string("project_title", nonEmpty: true, maxLength: 255) { sub.projectTitle = t }
            sub.updatedAt = Timestamp.now()
            try await s.store.transaction { [sub] tx in
                try await tx.updateSubscription(sub)
                if let pid = sub.projectId, var p = try await tx.project(id: pid) {
                    p.plan = sub.plan; p.environmentsLimit = sub.environments; p.storage = sub.storage; p.userLicenses = sub.userLicenses
                    p.title = sub.projectTitle
                    p.updatedAt = sub.updatedAt
                    try await tx.updateProject(p)
                }
            }
            return .json(.ok, s.render.subscription(sub, canManage: true))
        }
        r.add("delete-org-subscription") { req in
            let (o, m) = try await OrganizationHandlers.visible(req, s)
            guard m.has(.billing) || m.has(.admin) else { throw APIError.forbidden("Deleting a subscription requires the billing permission.") }
            let sub = try await subscription(req, o, s)
            if let pid = sub.projectId {
                try await s.deleteProject(pid, subscriptionId: sub.id)
            } else {
                try await s.store.deleteSubscription(id: sub.id)
            }
            return .empty(.noContent)
        }

        // Organization projects.
        r.add("list-org-projects") { req in
            let user = try req.requireUser()
            let (o, _) = try await OrganizationHandlers.visible(req, s)
            let access = try await s.access.userAccess(user)
            var list: [(Project, ProjectAccessLevel)] = []
            for p in try await s.store.projects(organizationId: o.id) {
                let l = try await s.access.level(user: user, project: p, organization: o, access: access)
                if l.permits(.view) { list.append((p, l)) }
            }
            return .json(.ok, try accountsCollection(list, request: req, base: s.publicURL, cursor: { $0.0.id },
                                                     render: { s.render.organizationProject($0.0, canManage: $0.1.permits(.administer)) }))
        }
        r.add("create-org-project") { req in
            let user = try req.requireUser()
            let (o, m) = try await OrganizationHandlers.visible(req, s)
            guard m.has(.projectsCreate) else { throw APIError.forbidden("Creating projects requires the projects:create permission.") }
            let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: createFields)
            // The official CLI repeats the organization in the body: it must be the one in the path.
            if let named = try b.string("organization_id"), named != o.id {
                throw APIError.badRequest("names organization \(named), but the request is for \(o.id)", field: "organization_id")
            }
            let (_, project, _) = try await provision(try readNewProject(b, region: s.region), org: o, user: user, s)
            return .json(.created, s.render.organizationProject(project))
        }
        r.add("get-org-project") { req in
            let (o, _) = try await OrganizationHandlers.visible(req, s)
            let (p, l) = try await s.visibleProject(req, id: req.param("project_id"))
            guard p.organizationId == o.id else { throw APIError.notFound("Project \(p.id)") }
            return .json(.ok, s.render.organizationProject(p, canManage: l.permits(.administer)))
        }
        r.add("update-org-project") { req in
            let (o, _) = try await OrganizationHandlers.visible(req, s)
            let (before, _) = try await s.visibleProject(req, id: req.param("project_id"))
            guard before.organizationId == o.id else { throw APIError.notFound("Project \(before.id)") }
            _ = try await updateProject(req, s, id: before.id)
            let (p, l) = try await s.visibleProject(req, id: before.id)
            return .json(.ok, s.render.organizationProject(p, canManage: l.permits(.administer)))
        }
        r.add("delete-org-project") { req in try await deleteProject(req, s, id: req.param("project_id")) }

        // Region API project.
        r.add("list-projects") { req in
            let user = try req.requireUser()
            var list = try await s.access.visibleProjects(user: user)
            if let owner = req.queryValue("filter[owner]") { list = list.filter { $0.0.ownerId == owner } }
            if let org = req.queryValue("filter[organization]") ?? req.queryValue("filter[organization_id]") { list = list.filter { $0.0.organizationId == org } }
            var size = 100
            if let v = req.queryValue("page[size]") {
                guard let n = Int(v), (1...200).contains(n) else { throw APIError.badRequest("must be an integer from 1 to 200", field: "page[size]") }
                size = n
            }
            var page = 1
            if let v = req.queryValue("page") {
                guard let n = Int(v), (1...1_000_000).contains(n) else { throw APIError.badRequest("must be an integer from 1 to 1000000", field: "page") }
                page = n
            }
            let slice = list.dropFirst((page - 1) * size).prefix(size)
            var links = Links(base: s.publicURL)
            links.add("self", "/projects?page=\(page)")
            if (page * size) < list.count { links.add("next", "/projects?page=\(page + 1)") }
            if page > 1 { links.add("previous", "/projects?page=\(page - 1)") }
            let items = slice.map { (p, l) -> JSON in
                var j = s.render.project(p, access: l, organization: nil, sshEndpoint: s.ssh?.endpoint)
                if case .object(var o) = j {
                    o["endpoint"] = .string(s.publicURL + "/api/projects/\(p.id)")
                    o["ui"] = .string(s.publicURL + "/console/projects/\(p.id)")
                    o["owner_info"] = .object(JSONObject([("type", "organization"), ("id", .string(p.organizationId))]))
                    j = .object(o)
                }
                return j
            }
            return .json(.ok, .object(JSONObject([("count", .int(Int64(list.count))), ("projects", .array(items)), ("_links", links.json)])))
        }
        r.add("list-referenced-projects") { req in
            let user = try req.requireUser()
            let ids = req.queryValues("in")
            let visible = try await s.access.visibleProjects(user: user, ids: ids, access: try await s.access.userAccess(user))
            var out = JSONObject()
            for id in ids { out[id] = visible[id].map { s.render.projectReference($0.0) } ?? .null }
            return .json(.ok, .object(out))
        }
        r.add("list-user-extended-access") { req in
            let user = try UserHandlers.own(req)
            if let t = req.queryValue("filter[resource_type]"), t != "project" {
                return .json(.ok, .object(JSONObject([("items", .array([])), ("_links", .object(JSONObject()))])))
            }
            var list = try await s.access.visibleProjects(user: user)
            if let org = req.queryValue("filter[organization_id]") { list = list.filter { $0.0.organizationId == org } }
            let items = list.map { (p, l) -> JSON in
                .object(JSONObject([("user_id", .string(user.id)), ("resource_id", .string(p.id)), ("resource_type", "project"),
                                    ("organization_id", .string(p.organizationId)), ("permissions", JSON(l.permissions)),
                                    ("granted_at", .string(p.createdAt)), ("updated_at", .string(p.updatedAt))]))
            }
            var links = Links(base: s.publicURL)
            links.add("self", "/users/\(user.id)/extended-access")
            if !list.isEmpty {
                links.add("ref:projects:0", "/ref/projects?in=" + list.map(\.0.id).joined(separator: ","))
                links.add("ref:organizations:0", "/ref/organizations?in=" + Array(Set(list.map(\.0.organizationId))).sorted().joined(separator: ","))
            }
            return .json(.ok, .object(JSONObject([("items", .array(items)), ("_links", links.json)])))
        }
        r.add("get-projects") { req in
            let (p, l) = try req.project()
            return .json(.ok, s.render.project(p, access: l, organization: req.resolvedOrganization, sshEndpoint: s.ssh?.endpoint))
        }
        r.add("update-projects") { req in try await updateProject(req, s, id: req.param("projectId")) }
        r.add("delete-projects") { req in try await deleteProject(req, s, id: req.param("projectId")) }
        r.add("get-projects-capabilities") { req in
            _ = try req.project()
            return .json(.ok, capabilities)
        }
        r.add("get-projects-settings") { req in
            let (p, _) = try req.project()
            return .json(.ok, settingsJSON(p, s))
        }
        r.add("update-projects-settings") { req in
            var (p, l) = try req.project()
            try s.requireProjectAdmin(l)
            let body = try req.jsonObject(allowEmpty: false)
            for (k, v) in body {
                guard let current = effectiveSettings(p)[k] else { throw APIError.badRequest("unknown setting", field: k) }
                if !current.isNull && !v.isNull && current.typeName != v.typeName {
                    throw APIError.badRequest("must be a \(current.typeName), not \(v.typeName)", field: k)
                }
                if k == "data_retention", case .object(let types) = v {
                    for (type, policy) in types {
                        guard EnvironmentType(rawValue: type) != nil else { throw APIError.badRequest("is not an environment type", field: "data_retention.\(type)") }
                        if case .failure(let e) = BackupRetention.parse(policy) { throw APIError.badRequest(e.reason, field: "data_retention.\(type)") }
                    }
                }
                if k == "build_resources" { try validateBuildResources(v) }
                p.settings[k] = v
            }
            p.updatedAt = Timestamp.now()
            try await s.store.updateProject(p)
            return .json(.ok, resultEnvelope(settingsJSON(p, s), activities: []))
        }
        r.add("action-projects-clear-build-cache") { req in
            let user = try req.requireUser()
            let (p, l) = try req.project()
            try s.requireProjectAdmin(l)
            let cacheDir = s.dataDir + "/build-cache/" + p.id
            try? FileManager.default.removeItem(atPath: cacheDir)
            let a = s.makeActivity(type: "project.clear_build_cache", project: p, environment: nil, user: user, action: "cleared the build cache",
                                   log: ["Build cache of project \(p.id) cleared; the next build of every application starts from scratch."])
            try await s.store.insertActivity(a)
            return .json(.ok, resultEnvelope(nil, activities: [s.render.activity(a, canCancel: false)]))
        }
        // Every active environment the caller administers is redeployed, each by an activity of its own.
        r.add("maintenance-redeploy-project") { req in
            let user = try req.requireUser()
            let (p, l) = try req.project()
            try s.requireProjectAdmin(l)
            var activities: [Activity] = []
            for e in try await s.store.environments(projectId: p.id).sorted(by: { $0.id < $1.id })
            where EnvironmentRules.allowed(.maintenanceRedeploy, environment: e, isDefault: e.id == p.defaultBranch, hasRunningActivity: false, access: l) {
                activities.append(s.makeActivity(type: "environment.maintenance-redeploy", project: p, environment: e, user: user,
                                                 action: "ran a maintenance redeploy of", parameters: JSONObject([("environment", .string(e.id))])))
            }
            let queued = activities
            try await s.store.transaction { tx in for a in queued { try await tx.insertActivity(a) } }
            return .json(.ok, resultEnvelope(nil, activities: queued.map { s.render.activity($0, canCancel: true) }))
        }
        r.add("list-projects-environment-types") { req in
            let (p, l) = try req.project()
            return .json(.ok, .array(EnvironmentType.allCases.filter { l.permits(.environment(.viewer, $0)) }.map { s.render.environmentType($0, projectId: p.id) }))
        }
        r.add("get-environment-type") { req in
            let (p, l) = try req.project()
            guard let t = EnvironmentType(rawValue: req.param("environmentTypeId")), l.permits(.environment(.viewer, t)) else {
                throw APIError.notFound("Environment type \(req.param("environmentTypeId"))")
            }
            return .json(.ok, s.render.environmentType(t, projectId: p.id))
        }
    }

    /// The most one project's builds may be given (the `build_resources` capability): tenants raise their
    /// builds' CPU and memory up to it, never past what the host can share.
    static let maxBuildCPU = Double(max(1, ProcessInfo.processInfo.activeProcessorCount))
    static let maxBuildMemoryMB = 8192

    static func validateBuildResources(_ v: JSON) throws {
        guard case .object(let o) = v else { throw APIError.badRequest("must be an object with cpu and memory", field: "build_resources") }
        for key in o.keys where key != "cpu" && key != "memory" { throw APIError.badRequest("unknown field; allowed fields are cpu, memory", field: "build_resources.\(key)") }
        guard let cpu = o["cpu"]?.doubleValue, cpu >= 0.1, cpu <= maxBuildCPU else {
            throw APIError.badRequest("must be a number of CPUs from 0.1 to \(maxBuildCPU)", field: "build_resources.cpu")
        }
        _ = cpu
        guard let mem = o["memory"]?.intValue, mem >= 256, mem <= maxBuildMemoryMB else {
            throw APIError.badRequest("must be MB of memory from 256 to \(maxBuildMemoryMB)", field: "build_resources.memory")
        }
    }

    static func subscription(_ req: APIRequest, _ o: Organization, _ s: ServerContext) async throws -> Subscription {
        guard let sub = try await s.store.subscription(id: req.param("subscription_id")), sub.organizationId == o.id else {
            throw APIError.notFound("Subscription \(req.param("subscription_id"))")
        }
        return sub
    }

    static func settingsJSON(_ p: Project, _ s: ServerContext) -> JSON {
        var o = effectiveSettings(p)
        var l = Links(base: s.publicURL)
        l.add("self", "/projects/\(p.id)/settings")
        l.add("#edit", "/projects/\(p.id)/settings", method: "patch")
        o["_links"] = l.json
        return .object(o)
    }

    /// The project's settings over the current defaults, so projects made before a setting existed still show it.
    static func effectiveSettings(_ p: Project) -> JSONObject {
        var o = ProjectSettings.defaults
        for (k, v) in p.settings { o[k] = v }
        return o
    }

    static let capabilities: JSON = .object(JSONObject([
        ("custom_domains", .object(JSONObject([("enabled", true), ("environments_with_domains_limit", 0)]))),
        ("source_operations", .object(JSONObject([("enabled", true)]))),
        ("runtime_operations", .object(JSONObject([("enabled", true)]))),
        // Concepts Grove does not have, answered with their neutral values (docs/api.md).
        ("tasks", .object(JSONObject([("enabled", false)]))),
        ("guaranteed_resources", .object(JSONObject([("enabled", false), ("instance_limit", 0)]))),
        ("autoscaling", .object(JSONObject([("enabled", false)]))),
        ("outbound_firewall", .object(JSONObject([("enabled", false)]))),
        ("metrics", .object(JSONObject([("max_range", "P30D")]))),
        ("logs_forwarding", .object(JSONObject([("max_extra_payload_size", 0)]))),
        ("images", .object(JSONObject())),
        ("instance_limit", 1),
        ("build_resources", .object(JSONObject([("enabled", true), ("max_cpu", .double(maxBuildCPU)), ("max_memory", .int(Int64(maxBuildMemoryMB)))]))),
        ("data_retention", .object(JSONObject([("enabled", true)]))),
        ("integrations", .object(JSONObject([("enabled", true), ("config", .object(JSONObject())),
                                             ("allowed_integrations", JSON(IntegrationSpec.all.map(\.type)))]))),
    ]))

    static func updateProject(_ req: APIRequest, _ s: ServerContext, id: String) async throws -> APIResponse {
        let user = try req.requireUser()
        var (p, l) = try await s.visibleProject(req, id: id)
        try s.requireProjectAdmin(l)
        let b = try BodyReader(try req.jsonObject(allowEmpty: false),
                               allowed: ["attributes", "title", "description", "default_branch", "timezone", "region", "default_domain"])
        var activities: [Activity] = []
        if let t = try b.string("title", nonEmpty: true, maxLength: 255), t != p.title {
            activities.append(s.makeActivity(type: "project.modify.title", project: p, environment: nil, user: user,
                                             action: "changed the project title to \(t)", log: ["Project title changed from \"\(p.title)\" to \"\(t)\"."]))
            p.title = t
        }
        if let d = try b.string("description", maxLength: 4096) { p.description = d }
        if let a = try b.stringMap("attributes") { p.attributes = a }
        if let tz = try b.string("timezone", nonEmpty: true, maxLength: 64) {
            guard TimeZone(identifier: tz) != nil else { throw APIError.badRequest("'\(tz)' is not a known time zone", field: "timezone") }
            p.timezone = tz
        }
        if let region = try b.string("region", nonEmpty: true), region != p.region {
            throw APIError.badRequest("a project cannot move to another region", field: "region")
        }
        if let branch = try b.string("default_branch", nonEmpty: true), branch != p.defaultBranch {
            guard try await s.store.environment(projectId: p.id, id: branch) != nil else {
                throw APIError.badRequest("no environment named \(branch) exists", field: "default_branch")
            }
            p.defaultBranch = branch
        }
        if let domain = try b.nullableString("default_domain") { p.attributes["default_domain"] = domain.map { .string($0) } ?? nil }
        p.updatedAt = Timestamp.now()
        try await s.store.transaction { [p, activities] tx in
            try await tx.updateProject(p)
            if var sub = try await tx.subscription(id: p.subscriptionId) {
                sub.projectTitle = p.title
                sub.updatedAt = p.updatedAt
                try await tx.updateSubscription(sub)
            }
            for a in activities { try await tx.insertActivity(a) }
        }
        let org = try await s.store.organization(id: p.organizationId)
        return .json(.ok, resultEnvelope(s.render.project(p, access: l, organization: org, sshEndpoint: s.ssh?.endpoint), activities: activities.map { s.render.activity($0, canCancel: false) }))
    }

    static func deleteProject(_ req: APIRequest, _ s: ServerContext, id: String) async throws -> APIResponse {
        let (p, l) = try await s.visibleProject(req, id: id)
        try s.requireProjectAdmin(l)
        try await s.deleteProject(p.id, subscriptionId: p.subscriptionId)
        return .json(.ok, resultEnvelope(nil, activities: []))
    }
}

extension String {
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
