import Foundation
import GroveModel

/// Record → API JSON, with the links the caller may follow.
struct Renderer {
    let base: String
    /// Host of the public URL, used in generated hostnames.
    let host: String

    /// Projects, subscriptions and organizations carry it (`grove serve --vendor`).
    let vendor: String

    init(base: String, vendor: String = "grove") {
        self.base = base
        self.vendor = vendor
        host = URL(string: base)?.host ?? "localhost"
    }

    func user(_ u: User, mfa: Bool = false) -> JSON {
        var l = Links(base: base)
        l.add("self", "/users/\(u.id)")
        return .object(JSONObject([
            ("id", .string(u.id)), ("username", .string(u.username)), ("email", .string(u.email)),
            ("first_name", .string(u.firstName)), ("last_name", .string(u.lastName)), ("display_name", .string(u.displayName)),
            ("picture", ""), ("company", ""), ("website", ""), ("country", .string(User.unknownCountry)),
            ("email_verified", .bool(u.emailVerified)), ("phone_number_verified", false), ("mfa_enabled", .bool(mfa)),
            ("sso_enabled", false), ("deactivated", .bool(u.deactivated)), ("namespace", .string(u.username)),
            ("consented_at", .string(u.createdAt)), ("consent_method", "opt-in"),
            ("created_at", .string(u.createdAt)), ("updated_at", .string(u.updatedAt)), ("_links", l.json),
        ]))
    }

    func userReference(_ u: User) -> JSON {
        .object(JSONObject([("id", .string(u.id)), ("email", .string(u.email)), ("username", .string(u.username)),
                            ("first_name", .string(u.firstName)), ("last_name", .string(u.lastName))]))
    }

    func apiToken(_ t: APIToken, secret: String? = nil) -> JSON {
        var l = Links(base: base)
        l.add("self", "/users/\(t.userId)/api-tokens/\(t.id)")
        var o = JSONObject([
            ("id", .string(t.id)), ("name", .string(t.name)), ("mfa_on_creation", false),
            ("created_at", .string(t.createdAt)), ("updated_at", .string(t.updatedAt)), ("last_used_at", JSON(t.lastUsedAt)),
        ])
        if let secret { o["token"] = .string(secret) }
        o["_links"] = l.json
        return .object(o)
    }

    func organization(_ o: Organization, member: OrganizationMember?) -> JSON {
        var l = Links(base: base)
        let p = "/organizations/\(o.id)"
        l.add("self", p)
        l.add("members", p + "/members")
        l.add("projects", p + "/projects")
        l.add("subscriptions", p + "/subscriptions")
        if let member, member.has(.admin) {
            l.add("#edit", p, method: "patch")
            l.add("#create-member", p + "/members", method: "post")
        }
        if member?.owner == true { l.add("#delete", p, method: "delete") }
        if let member, member.has(.projectsCreate) { l.add("#create-subscription", p + "/subscriptions", method: "post") }
        return .object(JSONObject([
            ("id", .string(o.id)), ("type", "fixed"), ("owner_id", .string(o.ownerId)), ("namespace", .string(o.name)),
            ("name", .string(o.name)), ("label", .string(o.label)), ("country", .string(o.country)),
            ("vendor", .string(vendor)), ("status", "active"), ("capabilities", ["teams", "mfa_enforcement"]),
            ("created_at", .string(o.createdAt)), ("updated_at", .string(o.updatedAt)), ("_links", l.json),
        ]))
    }

    func organizationReference(_ o: Organization) -> JSON {
        .object(JSONObject([("id", .string(o.id)), ("name", .string(o.name)), ("label", .string(o.label)), ("owner_id", .string(o.ownerId))]))
    }

    func member(_ m: OrganizationMember, canManage: Bool) -> JSON {
        var l = Links(base: base)
        let p = "/organizations/\(m.organizationId)/members/\(m.userId)"
        l.add("self", p)
        if canManage && !m.owner {
            l.add("#edit", p, method: "patch")
            l.add("#delete", p, method: "delete")
        }
        l.add("ref:users:0", "/ref/users?in=\(m.userId)")
        return .object(JSONObject([
            ("id", .string(m.id)), ("organization_id", .string(m.organizationId)), ("user_id", .string(m.userId)),
            ("permissions", JSON(m.permissions.map(\.rawValue))), ("level", .string(m.has(.admin) ? "admin" : "viewer")),
            ("owner", .bool(m.owner)), ("created_at", .string(m.createdAt)), ("updated_at", .string(m.updatedAt)), ("_links", l.json),
        ]))
    }

    func subscription(_ s: Subscription, canManage: Bool) -> JSON {
        var l = Links(base: base)
        let p = "/organizations/\(s.organizationId)/subscriptions/\(s.id)"
        l.add("self", p)
        if canManage {
            l.add("#edit", p, method: "patch")
            l.add("#delete", p, method: "delete")
        }
        if let pid = s.projectId { l.add("project", "/projects/\(pid)") }
        return .object(JSONObject([
            ("id", .string(s.id)), ("status", .string(s.status.rawValue)), ("created_at", .string(s.createdAt)),
            ("updated_at", .string(s.updatedAt)), ("owner", .string(s.ownerId)),
            ("owner_info", .object(JSONObject([("type", "user")]))), ("vendor", .string(vendor)), ("plan", .string(s.plan)),
            ("environments", .int(Int64(s.environments))), ("storage", .int(Int64(s.storage))),
            ("user_licenses", .int(Int64(s.userLicenses))), ("organization_id", .string(s.organizationId)),
            ("project_id", JSON(s.projectId)), ("project_endpoint", JSON(s.projectId.map { base + "/api/projects/\($0)" })),
            ("project_title", .string(s.projectTitle)), ("project_region", .string(s.projectRegion)),
            ("project_region_label", .string(s.projectRegion)),
            ("project_ui", JSON(s.projectId.map { base + "/console/projects/\($0)" })), ("project_options", .object(JSONObject())),
            ("_links", l.json),
        ]))
    }

    /// The git remote over SSH when an SSH server runs (`sshEndpoint` is its `host:port`): Platform.sh's scp form
    /// `<project>@<host>:<project>.git` on port 22, an `ssh://` URL on any other port.
    static func sshGitURL(projectId: String, endpoint: String) -> String {
        guard let colon = endpoint.lastIndex(of: ":") else { return "\(projectId)@\(endpoint):\(projectId).git" }
        let host = endpoint[..<colon], port = endpoint[endpoint.index(after: colon)...]
        if port == "22" { return "\(projectId)@\(host):\(projectId).git" }
        return "ssh://\(projectId)@\(endpoint)/\(projectId).git"
    }

    func project(_ p: Project, access: ProjectAccessLevel, organization: Organization?, sshEndpoint: String? = nil) -> JSON {
        var l = Links(base: base)
        let path = "/projects/\(p.id)"
        l.add("self", path)
        l.add("environments", path + "/environments")
        l.add("activities", path + "/activities")
        l.add("capabilities", path + "/capabilities")
        l.add("settings", path + "/settings")
        l.add("variables", path + "/variables")
        l.add("integrations", path + "/integrations")
        l.add("environment-types", path + "/environment-types")
        l.add("#ui", path)
        if access.permits(.administer) {
            l.add("#edit", path, method: "patch")
            l.add("#delete", path, method: "delete")
            l.add("#manage-variables", path + "/variables")
            l.add("#clear-build-cache", path + "/clear_build_cache", method: "post")
            l.add("#settings", path + "/settings", method: "patch")
        }
        return .object(JSONObject([
            ("id", .string(p.id)), ("created_at", .string(p.createdAt)), ("updated_at", .string(p.updatedAt)),
            ("attributes", .object(p.attributes)), ("title", .string(p.title)), ("description", .string(p.description)),
            ("owner", .string(p.ownerId)), ("namespace", JSON(organization?.name)), ("organization", .string(p.organizationId)),
            ("default_branch", .string(p.defaultBranch)),
            ("status", .object(JSONObject([("code", "provisioned"), ("message", "ok")]))),
            ("timezone", .string(p.timezone)), ("region", .string(p.region)),
            // `url` is what Platform.sh clients clone and push (SSH when Grove runs an SSH server); `http_url` is the
            // smart-HTTP remote Grove's CLI uses with token credentials.
            ("repository", .object(JSONObject([
                ("url", .string(sshEndpoint.map { Self.sshGitURL(projectId: p.id, endpoint: $0) } ?? "\(base)/\(p.id).git")),
                ("client_ssh_key", .null), ("http_url", .string("\(base)/\(p.id).git")),
            ]))),
            ("default_domain", p.attributes["default_domain"] ?? .null),
            ("subscription", .object(JSONObject([
                ("license_uri", .string(base + "/organizations/\(p.organizationId)/subscriptions/\(p.subscriptionId)")),
                ("plan", .string(p.plan)), ("environments", .int(Int64(p.environmentsLimit))), ("storage", .int(Int64(p.storage))),
                ("included_users", .int(Int64(p.userLicenses))), ("subscription_management_uri", .string(base + "/organizations/\(p.organizationId)")),
                ("restricted", false), ("suspended", false), ("user_licenses", .int(Int64(p.userLicenses))),
            ]))),
            ("vendor", .string(vendor)), ("uri", .string(base + path)), ("subscription_id", .string(p.subscriptionId)),
            ("region_label", .string(p.region)), ("git_host", .string(host)),
            // Grove schedules no platform maintenance.
            ("maintenance", .null),
            ("_links", l.json),
        ]))
    }

    /// A project as the organization sees it (`/organizations/{id}/projects`): the subscription's view, status a word.
    func organizationProject(_ p: Project, canManage: Bool = true) -> JSON {
        var l = Links(base: base)
        let path = "/organizations/\(p.organizationId)/projects/\(p.id)"
        l.add("self", path)
        l.add("api", "/projects/\(p.id)")
        l.add("subscription", "/organizations/\(p.organizationId)/subscriptions/\(p.subscriptionId)")
        if canManage {
            l.add("#edit", path, method: "patch")
            l.add("#delete", path, method: "delete")
        }
        return .object(JSONObject([
            ("id", .string(p.id)), ("organization_id", .string(p.organizationId)), ("subscription_id", .string(p.subscriptionId)),
            ("vendor", .string(vendor)), ("region", .string(p.region)), ("title", .string(p.title)), ("type", "grid"), ("plan", .string(p.plan)),
            ("timezone", .string(p.timezone)), ("default_branch", .string(p.defaultBranch)), ("status", "active"),
            ("trial_plan", false), ("project_ui", .string(base + "/console/projects/\(p.id)")), 
            ("created_at", .string(p.createdAt)), ("updated_at", .string(p.updatedAt)),
            ("_links", l.json),
        ]))
    }

    func projectReference(_ p: Project) -> JSON {
        .object(JSONObject([
            ("id", .string(p.id)), ("region", .string(p.region)), ("title", .string(p.title)), ("status", "active"),
            ("organization_id", .string(p.organizationId)), ("subscription_id", .string(p.subscriptionId)), ("vendor", .string(vendor)),
            ("type", "grid"), ("plan", .string(p.plan)),
            ("created_at", .string(p.createdAt)), ("updated_at", .string(p.updatedAt)),
        ]))
    }

    /// `deployment` is what runs (nil when nothing does); `sshEndpoint` the SSH server's `host:port`, for `ssh` and
    /// `pf:ssh:<app>` links to the applications the caller may open sessions into.
    func environment(_ e: Environment, project: Project, access: ProjectAccessLevel, busy: Bool, deployment: DeploymentSummary? = nil,
                     sshEndpoint: String? = nil) -> JSON {
        let deployedAt = deployment?.deployedAt
        var l = Links(base: base)
        let path = "/projects/\(e.projectId)/environments/\(e.id.pathSegment)"
        let isDefault = e.id == project.defaultBranch
        l.add("self", path)
        l.add("project", "/projects/\(e.projectId)")
        l.add("#activities", path + "/activities")
        l.add("#variables", path + "/variables")
        l.add("#settings", path + "/settings")
        l.add("#routes", path + "/routes")
        l.add("#deployments", path + "/deployments")
        if access.permits(.environment(.admin, e.type)) {
            l.add("#manage-variables", path + "/variables")
            l.add("#domains", path + "/domains")
        }
        if access.permits(.environment(.contributor, e.type)) {
            l.add("#source-operations", path + "/source-operations")
            if e.status == .active { l.add("#source-operation", path + "/source-operation", method: "post") }
        }
        if let parent = e.parent { l.add("parent", "/projects/\(e.projectId)/environments/\(parent.pathSegment)") }
        if let deployment, let sshEndpoint, e.status == .active {
            var first = true
            for (app, role) in deployment.sshAccess.sorted(by: { $0.key < $1.key })
            where access.permits(.environment(EnvironmentRole(rawValue: role) ?? .contributor, e.type)) {
                let url = "ssh://\(e.projectId)-\(e.machineName)--\(app)@\(sshEndpoint)"
                l.addAbsolute("pf:ssh:\(app)", url)
                if first { l.addAbsolute("ssh", url); first = false }
            }
        }
        for action in EnvironmentAction.allCases
        where EnvironmentRules.allowed(action, environment: e, isDefault: isDefault, hasRunningActivity: busy, access: access) {
            switch action {
            case .edit: l.add("#edit", path, method: "patch")
            case .delete: l.add("#delete", path, method: "delete")
            default: l.add("#" + action.rawValue, path + "/" + action.rawValue, method: "post")
            }
        }
        return .object(JSONObject([
            ("id", .string(e.id)), ("created_at", .string(e.createdAt)), ("updated_at", .string(e.updatedAt)),
            ("name", .string(e.name)), ("machine_name", .string(e.machineName)), ("title", .string(e.title)),
            ("attributes", .object(e.attributes)), ("type", .string(e.type.rawValue)), ("parent", JSON(e.parent)),
            ("default_domain", .null), ("has_domains", false), ("clone_parent_on_create", .bool(e.cloneParentOnCreate)),
            ("deployment_target", .string(e.deploymentTarget)), ("is_pr", false), ("has_remote", false),
            ("status", .string(e.status.rawValue)), ("http_access", httpAccess(e.httpAccess)),
            ("enable_smtp", .bool(e.enableSmtp)), ("restrict_robots", .bool(e.restrictRobots)),
            ("edge_hostname", .string("\(e.machineName)-\(e.projectId).\(host)")),
            // A failed deploy never replaces the running one, so what runs is the last successful deployment.
            ("deployment_state", .object(JSONObject([
                ("last_state_update_successful", .bool(deployedAt != nil)), ("last_deployment_successful", .bool(deployedAt != nil)),
                ("last_deployment_failure_reason", .null), ("last_deployment_commands", .array([])),
                ("last_deployment_at", JSON(deployedAt)), ("last_autoscale_up_at", .null), ("last_autoscale_down_at", .null),
                ("last_maintenance_at", .null),
                ("crons", .object(JSONObject([("enabled", true), ("status", .string(e.status == .paused ? "paused" : "running"))]))),
            ]))),
            ("sizing", .null), ("max_instance_count", .null), ("has_staged_activities", false),
            ("can_rolling_deploy", false), ("supports_rolling_deployments", false), ("supports_restrict_robots", true),
            ("resources_overrides", .object(JSONObject())),
            ("last_active_at", JSON(e.lastActiveAt)), ("last_backup_at", JSON(e.lastBackupAt)),
            ("project", .string(e.projectId)), ("is_main", .bool(e.isMain)), ("is_dirty", .bool(busy)),
            ("has_code", .bool(e.hasCode)), ("head_commit", JSON(e.headCommit)),
            ("merge_info", .object(JSONObject([("commits_ahead", .null), ("commits_behind", .null), ("parent_ref", .null)]))),
            ("has_deployment", .bool(deployedAt != nil)), ("_links", l.json),
        ]))
    }

    func httpAccess(_ h: HTTPAccess) -> JSON {
        // Basic-auth passwords are secrets: only user names are shown.
        var auth = JSONObject()
        for user in h.basicAuth.keys.sorted() { auth[user] = "" }
        return .object(JSONObject([
            ("is_enabled", .bool(h.isEnabled)),
            ("addresses", .array(h.addresses.map { .object(JSONObject([("permission", .string($0.permission)), ("address", .string($0.address))])) })),
            ("basic_auth", .object(auth)),
        ]))
    }

    func environmentType(_ t: EnvironmentType, projectId: String) -> JSON {
        var l = Links(base: base)
        l.add("self", "/projects/\(projectId)/environment-types/\(t.rawValue)")
        return .object(JSONObject([("id", .string(t.rawValue)), ("attributes", .object(JSONObject())), ("_links", l.json)]))
    }

    func variable(_ v: Variable, inherited: Bool, canManage: Bool) -> JSON {
        var l = Links(base: base)
        let scope = v.environmentId.map { "/projects/\(v.projectId)/environments/\($0.pathSegment)" } ?? "/projects/\(v.projectId)"
        let path = scope + "/variables/\(v.name.pathSegment)"
        l.add("self", path)
        if canManage && !inherited {
            l.add("#edit", path, method: "patch")
            l.add("#delete", path, method: "delete")
        }
        var o = JSONObject([
            ("id", .string(v.name)), ("name", .string(v.name)), ("attributes", .object(v.attributes)),
            ("is_json", .bool(v.isJson)), ("is_sensitive", .bool(v.isSensitive)),
            ("visible_build", .bool(v.visibleBuild)), ("visible_runtime", .bool(v.visibleRuntime)),
            ("application_scope", JSON(v.applicationScope)),
            ("created_at", .string(v.createdAt)), ("updated_at", .string(v.updatedAt)),
        ])
        if !v.isSensitive { o["value"] = .string(v.value) }
        if v.environmentId != nil {
            o["project"] = .string(v.projectId)
            o["environment"] = .string(v.environmentId ?? "")
            o["inherited"] = .bool(inherited)
            o["is_enabled"] = .bool(v.isEnabled)
            o["is_inheritable"] = .bool(v.isInheritable)
        }
        o["_links"] = l.json
        return .object(o)
    }

    func activity(_ a: Activity, canCancel: Bool, log: String? = nil) -> JSON {
        var l = Links(base: base)
        let path = "/projects/\(a.projectId)/activities/\(a.id)"
        l.add("self", path)
        l.add("log", path + "/log")
        if canCancel && a.state.isCancellable { l.add("#cancel", path + "/cancel", method: "post") }
        var o = JSONObject([
            ("id", .string(a.id)), ("created_at", .string(a.createdAt)), ("updated_at", .string(a.updatedAt)),
            ("type", .string(a.type)), ("parameters", a.parameters.removingKeys(["log"])), ("project", .string(a.projectId)),
            ("environments", JSON(a.environments)),
            ("state", .string(a.state.rawValue)), ("result", JSON(a.result?.rawValue)),
            ("started_at", JSON(a.startedAt)), ("completed_at", JSON(a.completedAt)), ("cancelled_at", JSON(a.cancelledAt)),
            ("completion_percent", .int(Int64(a.completionPercent))),
            ("description", .string(a.description)), ("text", .string(a.text)), ("payload", a.payload),
            ("timings", .object(JSONObject())), ("commands", .array([])), ("failure_reason", JSON(a.failureReason)),
            ("expires_at", .null),
        ])
        if let integration = a.parameters["integration"]?.stringValue { o["integration"] = .string(integration) }
        // Deprecated in the document but required: the text when the caller has it, else empty (the `log` link streams it).
        o["log"] = .string(log ?? "")
        o["_links"] = l.json
        return .object(o)
    }
}

extension JSON {
    func removingKeys(_ keys: Set<String>) -> JSON {
        guard case .object(var o) = self else { return self }
        for k in keys { o[k] = nil }
        return .object(o)
    }
}
