import Foundation
import GroveModel

/// `/environments/{id}/deployments` and `/environments/{id}/routes`: what an environment serves right now,
/// read from the running deployment (empty until the first successful deploy).
enum DeploymentHandlers {
    static func register(_ r: inout Routes, _ s: ServerContext) {
        r.add("list-projects-environments-deployments") { req in
            let (p, l, e) = try await load(req, s)
            guard let d = try await current(p, e, l, s) else { return .json(.ok, .array([])) }
            return .json(.ok, .array([d]))
        }
        r.add("get-projects-environments-deployments") { req in
            let (p, l, e) = try await load(req, s)
            guard req.param("deploymentId") == "current", let d = try await current(p, e, l, s) else {
                throw APIError.notFound("Deployment \(req.param("deploymentId")) of environment \(e.id)")
            }
            return .json(.ok, d)
        }
        // Grove's addition: the credentials applications see (Platform.sh shows them over SSH, to contributors).
        r.add("get-environment-relationships") { req in
            let (p, l, e) = try await load(req, s)
            try s.requireRole(.contributor, l, on: e)
            let rels = try await s.deployments.relationships(projectId: p.id, environmentId: e.id)
            return .json(.ok, .object(JSONObject(rels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })))
        }
        r.add("list-projects-environments-routes") { req in
            let (p, _, e) = try await load(req, s)
            return .json(.ok, .array(try await routes(p, e, s)))
        }
        r.add("get-projects-environments-routes") { req in
            let (p, _, e) = try await load(req, s)
            let id = req.param("routeId")
            guard let route = try await routes(p, e, s).first(where: { $0["id"]?.stringValue == id || $0["original_url"]?.stringValue == id }) else {
                throw APIError.notFound("Route \(id)")
            }
            return .json(.ok, route)
        }
    }

    static func load(_ req: APIRequest, _ s: ServerContext) async throws -> (Project, ProjectAccessLevel, Environment) {
        let (p, l) = try req.project()
        let e = try req.environment()
        return (p, l, e)
    }

    /// Route objects keyed by their served URL (`id` is the URL, as the route's key in PLATFORM_ROUTES).
    static func routes(_ p: Project, _ e: Environment, _ s: ServerContext) async throws -> [JSON] {
        guard let view = try await s.deployments.view(projectId: p.id, environmentId: e.id), case .object(let table) = view.routes else { return [] }
        return table.map { url, route in
            var o = DeploymentDocument.route(route).objectValue ?? JSONObject()
            if let id = route["id"], !id.isNull { o["id"] = id } else { o["id"] = .string(url) }
            o["url"] = .string(url)
            o["production_url"] = .string(url)
            let enc = url.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? url
            var links = Links(base: s.publicURL)
            links.add("self", "/projects/\(p.id)/environments/\(e.id.pathSegment)/routes/\(enc)")
            o["_links"] = links.json
            return .object(o)
        }
    }

    static func current(_ p: Project, _ e: Environment, _ l: ProjectAccessLevel, _ s: ServerContext) async throws -> JSON? {
        guard let view = try await s.deployments.view(projectId: p.id, environmentId: e.id) else { return nil }
        let vars = try await s.store.variables(projectId: p.id, environmentId: e.id)
        var links = Links(base: s.publicURL)
        let path = "/projects/\(p.id)/environments/\(e.id.pathSegment)/deployments/current"
        links.add("self", path)
        if l.permits(.environment(.contributor, e.type)) { links.add("#operations", path + "/operations", method: "post") }
        let webapps = view.webapps.objectValue ?? JSONObject()
        return .object(JSONObject([
            ("id", "current"),
            ("created_at", .string(view.createdAt)), ("updated_at", .string(view.createdAt)),
            ("fingerprint", .string(view.commit)),
            ("cluster_name", .string("\(p.id)-\(e.machineName)")),
            ("project_info", .object(JSONObject([("title", .string(p.title)), ("name", .string(p.id)), ("namespace", .null),
                                                 ("organization", .string(p.organizationId)), ("capabilities", ProjectHandlers.capabilities),
                                                 ("settings", .object(ProjectHandlers.effectiveSettings(p)))]))),
            ("environment_info", .object(JSONObject([("name", .string(e.id)), ("status", .string(e.status.rawValue)), ("is_main", .bool(e.isMain)),
                                                     ("is_production", .bool(e.type == .production)), ("constraints", .object(JSONObject())),
                                                     ("reference", .string("refs/heads/\(e.id)")), ("machine_name", .string(e.machineName)),
                                                     ("environment_type", .string(e.type.rawValue)), ("links", .object(JSONObject()))]))),
            ("deployment_target", .string(e.deploymentTarget)),
            ("vpn", .null),
            ("http_access", .object(JSONObject([("is_enabled", .bool(e.httpAccess.isEnabled)), ("addresses", .array([])), ("basic_auth", .object(JSONObject()))]))),
            ("enable_smtp", .bool(e.enableSmtp)), ("restrict_robots", .bool(e.restrictRobots)),
            // Names and visibility only: values (and sensitive ones above all) stay out of this document.
            ("variables", .array(vars.map { .object(JSONObject([("name", .string($0.name)), ("is_sensitive", .bool($0.isSensitive)), ("is_json", .bool($0.isJson)),
                                                                ("visible_build", .bool($0.visibleBuild)), ("visible_runtime", .bool($0.visibleRuntime))])) })),
            ("access", .array([])),
            ("subscription", .object(JSONObject([
                ("license_uri", .string(s.url("/organizations/\(p.organizationId)/subscriptions/\(p.subscriptionId)"))),
                ("plan", .string(p.plan)), ("environments", .int(Int64(p.environmentsLimit))),
                ("storage", .int(Int64(p.storage))), ("included_users", .int(Int64(p.userLicenses))),
                ("subscription_management_uri", .string(s.url("/organizations/\(p.organizationId)/subscriptions/\(p.subscriptionId)"))),
                ("restricted", false), ("suspended", false), ("user_licenses", .int(Int64(p.userLicenses))),
            ]))),
            ("services", .object(JSONObject((view.services.objectValue ?? JSONObject()).map { ($0.key, DeploymentDocument.service($0.value)) }))),
            ("routes", .object(JSONObject((view.routes.objectValue ?? JSONObject()).map { ($0.key, DeploymentDocument.route($0.value)) }))),
            ("webapps", .object(JSONObject(webapps.map { ($0.key, DeploymentDocument.webapp(name: $0.key, $0.value)) }))),
            ("workers", DeploymentDocument.workers(.object(webapps))),
            // Grove sizes instances by flags, not by container profiles.
            ("container_profiles", ""),
            // Grove's addition: each instance as the runtime last reported it (state, address, what went wrong).
            ("grove_instances", .array(try await s.deployments.instances(projectId: p.id, environmentId: e.id))),
            ("_links", links.json),
        ]))
    }
}
