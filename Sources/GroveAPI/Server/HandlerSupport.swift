import Foundation
import GroveModel
import GroveOrchestrator
import GroveStore

/// Lookups and checks every resource handler needs.
extension ServerContext {
    var access: AccessResolver { AccessResolver(store: store) }

    /// The project and the caller's access to it; 404 when the caller may not see it.
    func visibleProject(_ req: APIRequest, id: String? = nil) async throws -> (Project, ProjectAccessLevel) {
        let user = try req.requireUser()
        let pid = id ?? req.param("projectId")
        // The token was checked when the request came in: no revocation to look up again ("" names no token).
        let found = try await store.routeAccess(userId: user.id, tokenId: "", projectId: pid, environmentId: nil).project
        return try await visibleProject(req, id: pid, found: found)
    }

    /// The same from the project and access records already read (`Store.routeAccess`).
    func visibleProject(_ req: APIRequest, id pid: String, found: (Project, AccessRecords)?) async throws -> (Project, ProjectAccessLevel) {
        let user = try req.requireUser()
        guard let (p, records) = found else { throw APIError.notFound("Project \(pid)") }
        let (level, mfaEnforced) = try await access.resolve(user: user, project: p, records: records)
        guard level.permits(.view) else { throw APIError.notFound("Project \(pid)") }
        if mfaEnforced { try await requireMFA(req, organizationId: p.organizationId) }
        return (p, level)
    }

    /// Members of an organization that enforces two-factor authentication reach its resources only with a token
    /// obtained with a second factor.
    func requireMFAIfEnforced(_ req: APIRequest, organizationId: String) async throws {
        guard try await store.get(MFAEnforcement.self, id: organizationId)?.enforced == true else { return }
        try await requireMFA(req, organizationId: organizationId)
    }

    func requireMFA(_ req: APIRequest, organizationId: String) async throws {
        guard !req.amr.contains("mfa") else { return }
        let name = try await store.organization(id: organizationId)?.label ?? organizationId
        throw APIError.forbidden("The organization \(name) requires two-factor authentication: enroll with `grove auth:mfa`, then log in again with a code.")
    }

    /// A source integration that fetches the provider's branches makes the project's repository a mirror of it:
    /// code changes made on Grove's side (branch, merge, code synchronisation, source operations, route edits) are
    /// refused, as Platform.sh does; they belong in the provider's repository.
    func requireOwnRepository(_ p: Project, for what: String) async throws {
        guard let source = try await store.list(Integration.self, parent: p.id).first(where: { $0.spec?.role == .source && $0.bool("fetch_branches") }) else { return }
        let repo = source.string("repository") ?? source.string("project") ?? ""
        throw APIError.badRequest("\(what) is not available on \(p.id): its repository mirrors the \(source.type) integration's (\(repo)). "
                                  + "Make the change in that repository; Grove follows it.")
    }

    func requireProjectAdmin(_ level: ProjectAccessLevel) throws {
        guard level.permits(.administer) else { throw APIError.forbidden("This action requires the admin role on the project.") }
    }

    /// The environment when the caller holds a role on its type; 404 otherwise.
    func visibleEnvironment(_ project: Project, _ level: ProjectAccessLevel, id: String) async throws -> Environment {
        try visibleEnvironment(try await store.environment(projectId: project.id, id: id), level, id: id)
    }

    /// The same from the environment already read (nil when the project has no such environment).
    func visibleEnvironment(_ found: Environment?, _ level: ProjectAccessLevel, id: String) throws -> Environment {
        guard let e = found, level.permits(.environment(.viewer, e.type)) else { throw APIError.notFound("Environment \(id)") }
        return e
    }

    func requireRole(_ role: EnvironmentRole, _ level: ProjectAccessLevel, on e: Environment) throws {
        guard level.permits(.environment(role, e.type)) else {
            throw APIError.forbidden("This action requires the \(role.rawValue) role on \(e.type.rawValue) environments.")
        }
    }

    /// A new pending activity with Platform.sh-style HTML and plain descriptions.
    func makeActivity(type: String, project: Project, environment: Environment?, user: User?, action: String,
                      parameters: JSONObject = JSONObject(), log: [String] = []) -> Activity {
        let who = user.map { "<user data-id=\"\($0.id)\">\(html($0.displayName))</user>" } ?? "Grove"
        let whoText = user?.displayName ?? "Grove"
        var description = "\(who) \(html(action))"
        var text = "\(whoText) \(action)"
        if let environment {
            description += " <environment data-id=\"\(html(environment.id))\">\(html(environment.title))</environment>"
            text += " \(environment.title)"
        }
        var params = parameters
        if let user { params["user"] = .string(user.id) }
        if !log.isEmpty { params["log"] = JSON(log) }
        var payload = JSONObject()
        if let user {
            payload["user"] = .object(JSONObject([("id", .string(user.id)), ("display_name", .string(user.displayName)),
                                                  ("created_at", .string(user.createdAt)), ("updated_at", .string(user.updatedAt))]))
        }
        if let environment {
            payload["environment"] = .object(JSONObject([("name", .string(environment.id)), ("type", .string(environment.type.rawValue)),
                                                         ("head_commit", JSON(environment.headCommit))]))
        }
        payload["project"] = .object(JSONObject([("id", .string(project.id)), ("title", .string(project.title)),
                                                 ("region", .string(project.region)), ("timezone", .string(project.timezone))]))
        return Activity(projectId: project.id, environments: environment.map { [$0.id] } ?? [], type: type, userId: user?.id,
                        description: description, text: text, parameters: .object(params), payload: .object(payload),
                        seq: SequenceClock.shared.next(), createdAt: Timestamp.now())
    }

    func canSeeActivity(_ a: Activity, level: ProjectAccessLevel, environments: [String: Environment]) -> Bool {
        if level.permits(.administer) || a.environments.isEmpty { return true }
        return a.environments.contains { id in
            if let e = environments[id] { return level.permits(.environment(.viewer, e.type)) }
            if let t = a.payload["environment"]?["type"]?.stringValue, let type = EnvironmentType(rawValue: t) { return level.permits(.environment(.viewer, type)) }
            return false
        }
    }
}

func html(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
