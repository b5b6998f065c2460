import Foundation
import GroveConfig
import GroveGit
import GroveModel

/// Route create/update/delete: each is a commit to `.platform/routes.yaml` on the environment's branch, made and
/// deployed by an `environment.route.*` activity. The edit is checked here first, so bad input is a 400.
enum RouteWriteHandlers {
    static let fields = ["type", "to", "upstream", "primary", "id", "production_url", "original_url", "attributes", "tls", "cache", "ssi", "redirects", "sticky"]

    static func register(_ r: inout Routes, _ s: ServerContext) {
        r.add("create-projects-environments-routes") { req in
            let (p, e, user) = try await load(req, s)
            let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: fields)
            guard let key = try b.string("production_url", nonEmpty: true) ?? b.string("original_url", nonEmpty: true), key.contains("://") else {
                throw APIError.badRequest("is required: the route's URL template, e.g. https://{default}/blog", field: "production_url")
            }
            let route = try routeBody(b, existing: nil)
            return try await submit(s, p, e, user, verb: "create", key: key, route: route)
        }
        r.add("update-projects-environments-routes") { req in
            let (p, e, user) = try await load(req, s)
            let (key, existing) = try await find(s, p, e, req.param("routeId"))
            let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: fields)
            if let newKey = try b.string("production_url") ?? b.string("original_url"), newKey != key {
                throw APIError.badRequest("a route's URL cannot change; delete it and create another", field: "production_url")
            }
            return try await submit(s, p, e, user, verb: "update", key: key, route: try routeBody(b, existing: existing))
        }
        r.add("delete-projects-environments-routes") { req in
            let (p, e, user) = try await load(req, s)
            let (key, _) = try await find(s, p, e, req.param("routeId"))
            return try await submit(s, p, e, user, verb: "delete", key: key, route: nil)
        }
    }

    static func load(_ req: APIRequest, _ s: ServerContext) async throws -> (Project, Environment, User) {
        let user = try req.requireUser()
        let (p, l) = try req.project()
        let e = try req.environment()
        // Route edits are commits: who may push to the environment may edit its routes.
        try s.requireRole(.contributor, l, on: e)
        try await s.requireOwnRepository(p, for: "Editing routes")
        return (p, e, user)
    }

    /// The route as routes.yaml writes it: the body's fields over the existing route's.
    static func routeBody(_ b: BodyReader, existing: JSONObject?) throws -> JSON {
        var o = existing ?? JSONObject()
        if let t = try b.string("type") {
            guard ["upstream", "redirect", "proxy"].contains(t) else { throw APIError.badRequest("must be upstream, redirect or proxy", field: "type") }
            o["type"] = .string(t)
        }
        guard let type = o["type"]?.stringValue else { throw APIError.badRequest("is required (upstream, redirect or proxy)", field: "type") }
        if let to = try b.string("to") {
            if type == "upstream" { o["upstream"] = .string(to) } else { o["to"] = .string(to) }
        }
        if let up = try b.string("upstream") { o["upstream"] = .string(up) }
        if type == "upstream" {
            o["to"] = nil
            guard let up = o["upstream"]?.stringValue, !up.isEmpty else { throw APIError.badRequest("is required: the application, e.g. app:http", field: "to") }
            if !up.contains(":") { o["upstream"] = .string(up + ":http") }
        } else {
            o["upstream"] = nil
            guard o["to"]?.stringValue?.isEmpty == false else { throw APIError.badRequest("is required for \(type) routes", field: "to") }
        }
        if let primary = try b.bool("primary") { o["primary"] = .bool(primary) }
        if let id = try b.nullableString("id") { o["id"] = id.map { .string($0) } ?? nil }
        if let a = try b.stringMap("attributes") { o["attributes"] = .object(a) }
        for k in ["tls", "cache", "redirects"] { if let v = try b.objectValue(k) { o[k] = .object(v) } }
        if let ssi = try b.objectValue("ssi") { o["ssi"] = .object(ssi) }
        return .object(o)
    }

    /// The routes.yaml key a route id names: the key itself, a route's `id:`, or a served URL.
    static func find(_ s: ServerContext, _ p: Project, _ e: Environment, _ routeId: String) async throws -> (String, JSONObject) {
        let routes = try await currentRoutes(s, p, e)
        if let r = routes.first(where: { $0.0 == routeId }) { return (r.0, r.1) }
        if let r = routes.first(where: { $0.1["id"]?.stringValue == routeId }) { return (r.0, r.1) }
        let served = try await DeploymentHandlers.routes(p, e, s)
        if let original = served.first(where: { $0["url"]?.stringValue == routeId })?["original_url"]?.stringValue,
           let r = routes.first(where: { $0.0 == original }) {
            return (r.0, r.1)
        }
        throw APIError.notFound("Route \(routeId) in \(RoutesFileEditor.path)")
    }

    static func currentRoutes(_ s: ServerContext, _ p: Project, _ e: Environment) async throws -> [(String, JSONObject)] {
        guard let head = try await GitWriter(repositories: s.repositories, projectId: p.id).head(of: e.id) else { return [] }
        let files = CommitFiles(repositories: s.repositories, projectId: p.id, commit: head)
        guard let bytes = try await files.read(RoutesFileEditor.path) else { return [] }
        return RoutesFileEditor.routes(String(decoding: bytes, as: UTF8.self)).map { ($0.0, $0.1.objectValue ?? JSONObject()) }
    }

    static func submit(_ s: ServerContext, _ p: Project, _ e: Environment, _ user: User, verb: String, key: String, route: JSON?) async throws -> APIResponse {
        guard let head = try await GitWriter(repositories: s.repositories, projectId: p.id).head(of: e.id) else {
            throw APIError.badRequest("Environment \(e.id) has no code yet: push a repository first.")
        }
        guard e.status != .deleting else { throw APIError.badRequest("Environment \(e.id) is being deleted.") }
        // Check the edit against the branch head now; the activity applies it to the head it finds.
        let files = CommitFiles(repositories: s.repositories, projectId: p.id, commit: head)
        let paths = try await files.allPaths()
        if paths.contains(where: { $0.hasPrefix(".upsun/") && $0.hasSuffix(".yaml") }) {
            throw APIError.badRequest("This project is configured in .upsun/: edit its routes there and push.")
        }
        let existing = try await files.read(RoutesFileEditor.path).map { String(decoding: $0, as: UTF8.self) }
        let content: String
        do {
            content = try RoutesFileEditor.edit(existing, key: key, route: route, mustExist: verb != "create", mustNotExist: verb == "create")
        } catch let err as RoutesFileEditor.EditError {
            throw verb == "create" ? APIError.conflict(err.description) : APIError.badRequest(err.description)
        }
        do {
            _ = try await ProjectConfig.load(from: OverlayFiles(files, overrides: [RoutesFileEditor.path: content]))
        } catch let err as ConfigError {
            throw APIError.badRequest("The routes would be invalid: " + err.issues.map(\.description).joined(separator: "; "))
        }
        var params = JSONObject([("route_key", .string(key)), ("verb", .string(verb)), ("environment", .string(e.id))])
        params["route"] = route ?? .null
        let words = ["create": "added", "update": "updated", "delete": "deleted"]
        let a = s.makeActivity(type: "environment.route.\(verb)", project: p, environment: e, user: user,
                               action: "\(words[verb] ?? verb) route \(key) on", parameters: params)
        try await s.store.insertActivity(a)
        return .json(verb == "create" ? .created : .ok,
                     resultEnvelope(route.map { r in
                         var o = r.objectValue ?? JSONObject()
                         o["original_url"] = .string(key)
                         return .object(o)
                     }, activities: [s.render.activity(a, canCancel: true)], code: verb == "create" ? 201 : 200))
    }
}
