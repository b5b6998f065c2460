import Foundation
import GroveGit
import GroveModel
import GroveStore
import NIOCore

/// Environments: list, get, update, delete, branch and the lifecycle actions (each an activity).
enum EnvironmentHandlers {
    static func register(_ r: inout Routes, _ s: ServerContext) {
        r.add("list-projects-environments") { req in
            let (p, l) = try req.project()
            let listing = try await s.store.environmentListing(projectId: p.id)
            let envs = listing.environments.filter { l.permits(.environment(.viewer, $0.type)) }
            let busy = listing.busy, deployed = listing.deployments
            let ssh = s.ssh?.endpoint
            var body = ByteBuffer()
            body.reserveCapacity(envs.count * 4096 + 2)
            body.writeInteger(UInt8(ascii: "["))
            for (i, e) in envs.enumerated() {
                if i > 0 { body.writeInteger(UInt8(ascii: ",")) }
                body.writeBytes(s.renderedEnvironment(e, project: p, access: l, busy: busy.contains(e.id), deployment: deployed[e.id], sshEndpoint: ssh))
            }
            body.writeInteger(UInt8(ascii: "]"))
            return .raw(.ok, contentType: "application/json", body)
        }
        r.add("get-environment") { req in
            let (p, l) = try req.project()
            let e = try req.environment()
            let state = try await s.store.environmentState(projectId: p.id, environmentId: e.id)
            return .json(.ok, s.render.environment(e, project: p, access: l, busy: state.busy, deployment: state.deployment, sshEndpoint: s.ssh?.endpoint))
        }
        r.add("get-environment-settings") { req in
            let (p, _) = try req.project()
            let e = try req.environment()
            var links = Links(base: s.publicURL)
            links.add("self", "/projects/\(p.id)/environments/\(e.id.pathSegment)/settings")
            return .json(.ok, .object(JSONObject([("enable_manual_deployments", false), ("_links", links.json)])))
        }
        r.add("update-environment") { req in try await update(req, s) }
        r.add("delete-environment") { req in try await delete(req, s) }
        r.add("branch-environment") { req in try await branch(req, s) }
        for action in EnvironmentAction.allCases where action != .edit && action != .delete && action != .branch {
            r.add("\(action.rawValue)-environment") { req in
                let (p, l) = try req.project()
                let e = try req.environment()
                try s.requireRole(action.requiredRole, l, on: e)
                let busy = try await s.store.hasUnfinishedActivity(projectId: p.id, environmentId: e.id)
                guard EnvironmentRules.stateAllows(action, environment: e, isDefault: e.id == p.defaultBranch, hasRunningActivity: busy) else {
                    throw APIError.badRequest("Operation not available: \(action.rawValue) is not possible while \(e.id) is \(e.status.rawValue).")
                }
                let verb: String
                switch action {
                case .merge, .synchronize: return try await mergeOrSynchronize(action, req, s, p, l, e)
                case .backup: return try await BackupHandlers.create(req, s, p, e)
                case .initialize: return try await InitializeHandler.create(req, s, p, l, e)
                case .edit, .delete, .branch: throw APIError.notFound("The path \(req.path)")  // registered above, not here
                case .activate: verb = "activated"
                case .deactivate: verb = "deactivated"
                case .redeploy: verb = "redeployed"
                case .maintenanceRedeploy: verb = "ran a maintenance redeploy of"
                case .pause: verb = "paused"
                case .resume: verb = "resumed"
                }
                let activity = s.makeActivity(type: "environment.\(action.rawValue)", project: p, environment: e, user: try req.requireUser(),
                                              action: verb, parameters: JSONObject([("environment", .string(e.id))]))
                try await s.store.insertActivity(activity)
                return .json(.ok, resultEnvelope(s.render.environment(e, project: p, access: l, busy: true), activities: [s.render.activity(activity, canCancel: true)]))
            }
        }
    }

    /// Merge (child into parent; queued on the parent, which redeploys) and synchronize (parent into child).
    /// Conflicts and unmerged commits are refused here, before any activity, when they can already be seen.
    static func mergeOrSynchronize(_ action: EnvironmentAction, _ req: APIRequest, _ s: ServerContext, _ p: Project, _ l: ProjectAccessLevel,
                                   _ e: Environment) async throws -> APIResponse {
        guard let parentId = e.parent, let parent = try await s.store.environment(projectId: p.id, id: parentId) else {
            throw APIError.badRequest("\(e.id) has no parent to \(action.rawValue) with.")
        }
        guard parent.status == .active else { throw APIError.badRequest("The parent \(parent.id) is \(parent.status.rawValue); activate it first.") }
        let git = GitWriter(repositories: s.repositories, projectId: p.id)
        let childHead = try await git.head(of: e.id), parentHead = try await git.head(of: parent.id)
        var params = JSONObject([("environment", .string(e.id)), ("parent", .string(parent.id))])
        let user = try req.requireUser()
        let activity: Activity
        if action == .merge {
            try s.requireRole(.contributor, l, on: parent)
            try await s.requireOwnRepository(p, for: "Merging")
            _ = try BodyReader(try req.jsonObject(), allowed: ["resources"])
            guard let childHead else { throw APIError.badRequest("\(e.id) has no code to merge.") }
            if let parentHead, !(try await git.isAncestor(childHead, of: parentHead)), !(try await git.isAncestor(parentHead, of: childHead)) {
                let probe = "refs/grove/probe/\(Identifier.short())"
                let result = try await git.merge(ours: parentHead, theirs: childHead, message: "probe", author: .init(name: "Grove", email: "grove@localhost"), holdRef: probe)
                await git.deleteRef(probe)
                if case .conflicts(let files) = result {
                    throw APIError.conflict("Merging \(e.id) into \(parent.id) conflicts in: \(files.joined(separator: ", ")). Merge \(parent.id) into \(e.id), resolve, push, and try again.")
                }
            }
            activity = s.makeActivity(type: "environment.merge", project: p, environment: parent, user: user, action: "merged \(e.id) into", parameters: params)
        } else {
            let b = try BodyReader(try req.jsonObject(), allowed: ["synchronize_code", "rebase", "synchronize_data", "synchronize_resources"])
            let code = try b.bool("synchronize_code") ?? false, data = try b.bool("synchronize_data") ?? false, rebase = try b.bool("rebase") ?? false
            _ = try b.bool("synchronize_resources")
            guard code || data else { throw APIError.badRequest("Nothing to synchronize: set synchronize_code and/or synchronize_data.") }
            if code { try await s.requireOwnRepository(p, for: "Synchronizing code") }
            if code, !rebase, let childHead, let parentHead, !(try await git.isAncestor(parentHead, of: childHead)),
               !(try await git.isAncestor(childHead, of: parentHead)) {
                throw APIError.badRequest("\(e.id) has commits \(parent.id) does not have: synchronize with rebase, or merge it first.", field: "rebase")
            }
            params["synchronize_code"] = .bool(code)
            params["synchronize_data"] = .bool(data)
            params["rebase"] = .bool(rebase)
            activity = s.makeActivity(type: "environment.synchronize", project: p, environment: e, user: user,
                                      action: "synchronized \(code && data ? "code and data" : code ? "code" : "data") of", parameters: params)
        }
        var a = activity
        a.environments = action == .merge ? [parent.id, e.id] : [e.id, parent.id]
        try await s.store.insertActivity(a)
        return .json(.ok, resultEnvelope(s.render.environment(e, project: p, access: l, busy: true), activities: [s.render.activity(a, canCancel: true)]))
    }

    static func update(_ req: APIRequest, _ s: ServerContext) async throws -> APIResponse {
        let user = try req.requireUser()
        let (p, l) = try req.project()
        let before = try req.environment()
        try s.requireRole(.admin, l, on: before)
        var e = before
        let b = try BodyReader(try req.jsonObject(allowEmpty: false),
                               allowed: ["name", "title", "attributes", "type", "parent", "clone_parent_on_create", "http_access", "enable_smtp", "restrict_robots"])
        if let name = try b.string("name"), name != e.name { throw APIError.badRequest("an environment cannot be renamed", field: "name") }
        if let t = try b.string("title", nonEmpty: true, maxLength: 255) { e.title = t }
        if let a = try b.stringMap("attributes") { e.attributes = a }
        if let type = try b.enumValue("type", EnvironmentType.self), type != e.type {
            if e.id == p.defaultBranch { throw APIError.badRequest("the default environment is always of type production", field: "type") }
            if type == .production { throw APIError.badRequest("only the default environment can be of type production", field: "type") }
            try s.requireRole(.admin, l, on: Environment(projectId: p.id, name: e.id, title: "", type: type, parent: nil, status: .inactive, isMain: false, createdAt: ""))
            e.type = type
        }
        if let parent = try b.nullableString("parent") {
            if let parent {
                if e.id == p.defaultBranch { throw APIError.badRequest("the default environment has no parent", field: "parent") }
                guard parent != e.id else { throw APIError.badRequest("an environment cannot be its own parent", field: "parent") }
                guard try await s.store.environment(projectId: p.id, id: parent) != nil else {
                    throw APIError.badRequest("no environment named \(parent) exists", field: "parent")
                }
                var cursor: String? = parent
                var hops = 0
                while let c = cursor, hops < 1000 {
                    if c == e.id { throw APIError.badRequest("\(parent) is a descendant of \(e.id)", field: "parent") }
                    cursor = try await s.store.environment(projectId: p.id, id: c)?.parent
                    hops += 1
                }
                e.parent = parent
            } else {
                if e.id != p.defaultBranch { throw APIError.badRequest("only the default environment has no parent", field: "parent") }
            }
        }
        if let c = try b.bool("clone_parent_on_create") { e.cloneParentOnCreate = c }
        if let smtp = try b.bool("enable_smtp") { e.enableSmtp = smtp }
        if let robots = try b.bool("restrict_robots") { e.restrictRobots = robots }
        if let h = try b.objectValue("http_access") { e.httpAccess = try readHTTPAccess(h, current: e.httpAccess) }
        e.updatedAt = Timestamp.now()
        var activities: [Activity] = []
        func note(_ type: String, _ action: String, _ line: String) {
            activities.append(s.makeActivity(type: type, project: p, environment: e, user: user, action: action,
                                             log: [line, "The change takes effect on the next deployment of \(e.id)."]))
        }
        if e.httpAccess != before.httpAccess { note("environment.update.http_access", "updated HTTP access of", "HTTP access settings of \(e.id) updated.") }
        if e.enableSmtp != before.enableSmtp { note("environment.update.smtp", "\(e.enableSmtp ? "enabled" : "disabled") outgoing email on", "SMTP \(e.enableSmtp ? "enabled" : "disabled") on \(e.id).") }
        if e.restrictRobots != before.restrictRobots {
            note("environment.update.restrict_robots", "\(e.restrictRobots ? "restricted" : "allowed") robots on", "Robots \(e.restrictRobots ? "restricted" : "allowed") on \(e.id).")
        }
        try await s.store.transaction { [e, activities] tx in
            try await tx.updateEnvironment(e)
            for a in activities { try await tx.insertActivity(a) }
        }
        // Rendered as a GET renders it: the activities just queued make it busy, a running deployment gives SSH links.
        let state = try await s.store.environmentState(projectId: p.id, environmentId: e.id)
        return .json(.ok, resultEnvelope(s.render.environment(e, project: p, access: l, busy: state.busy, deployment: state.deployment,
                                                              sshEndpoint: s.ssh?.endpoint),
                                         activities: activities.map { s.render.activity($0, canCancel: true) }))
    }

    static func readHTTPAccess(_ o: JSONObject, current: HTTPAccess) throws -> HTTPAccess {
        let b = try BodyReader(o, allowed: ["is_enabled", "addresses", "basic_auth"])
        var h = current
        if let en = try b.bool("is_enabled") { h.isEnabled = en }
        if let addrs = o["addresses"] {
            guard case .array(let list) = addrs else { throw APIError.badRequest("must be an array", field: "http_access.addresses") }
            h.addresses = try list.map { item in
                guard case .object(let a) = item, let perm = a["permission"]?.stringValue, let addr = a["address"]?.stringValue else {
                    throw APIError.badRequest("each entry needs permission and address strings", field: "http_access.addresses")
                }
                guard perm == "allow" || perm == "deny" else { throw APIError.badRequest("permission must be allow or deny", field: "http_access.addresses") }
                guard CIDR.isValid(addr) else { throw APIError.badRequest("'\(addr)' is not an IP address or CIDR range", field: "http_access.addresses") }
                return HTTPAccess.Address(permission: perm, address: addr)
            }
        }
        if let auth = try b.objectValue("basic_auth") {
            var out: [String: String] = [:]
            for (user, pw) in auth {
                guard let pw = pw.stringValue else { throw APIError.badRequest("passwords must be strings", field: "http_access.basic_auth") }
                // An empty password keeps the stored one, since GET never reveals passwords.
                out[user] = pw.isEmpty ? (current.basicAuth[user] ?? "") : pw
            }
            h.basicAuth = out
        }
        return h
    }

    static func delete(_ req: APIRequest, _ s: ServerContext) async throws -> APIResponse {
        let user = try req.requireUser()
        let (p, l) = try req.project()
        var e = try req.environment()
        try s.requireRole(.admin, l, on: e)
        if e.id == p.defaultBranch { throw APIError.badRequest("The default environment \(e.id) cannot be deleted.") }
        if e.status == .deleting { throw APIError.conflict("Environment \(e.id) is already being deleted.") }
        guard e.status == .inactive else {
            throw APIError.badRequest("Environment \(e.id) is \(e.status.rawValue); deactivate it before deleting it.")
        }
        let children = try await s.store.environments(projectId: p.id).filter { $0.parent == e.id }
        e.status = .deleting
        e.updatedAt = Timestamp.now()
        let activity = s.makeActivity(type: "environment.delete", project: p, environment: e, user: user, action: "deleted")
        try await s.store.transaction { [e] tx in
            // Children move up to the deleted environment's parent, as on Platform.sh.
            for var c in children {
                c.parent = e.parent
                c.updatedAt = e.updatedAt
                try await tx.updateEnvironment(c)
            }
            try await tx.updateEnvironment(e)
            try await tx.insertActivity(activity)
        }
        return .json(.ok, resultEnvelope(s.render.environment(e, project: p, access: l, busy: true), activities: [s.render.activity(activity, canCancel: true)]))
    }

    static func branch(_ req: APIRequest, _ s: ServerContext) async throws -> APIResponse {
        let user = try req.requireUser()
        let (p, l) = try req.project()
        let parent = try req.environment()
        try s.requireRole(.contributor, l, on: parent)
        try await s.requireOwnRepository(p, for: "Branching")
        let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: ["name", "title", "clone_parent", "type", "resources"])
        guard let name = try b.string("name", required: true, nonEmpty: true, maxLength: 255) else { throw APIError.badRequest("is required", field: "name") }
        if let problem = EnvironmentName.problem(with: name) { throw APIError.badRequest("'\(name)' is not a valid branch name: it \(problem)", field: "name") }
        let title = try b.string("title", nonEmpty: true, maxLength: 255) ?? name
        let clone = try b.bool("clone_parent") ?? true
        let type = try b.enumValue("type", EnvironmentType.self) ?? .development
        _ = try b.objectValue("resources")
        if type == .production { throw APIError.badRequest("only the default environment can be of type production", field: "type") }
        guard parent.status == .active else {
            throw APIError.badRequest("Environment \(parent.id) is \(parent.status.rawValue); only an active environment can be branched.")
        }
        var child = Environment(projectId: p.id, name: name, title: title, type: type, parent: parent.id, status: .inactive, isMain: false, createdAt: Timestamp.now())
        try s.requireRole(.contributor, l, on: child)
        child.cloneParentOnCreate = clone
        child.httpAccess = parent.httpAccess
        let count = try await s.store.environments(projectId: p.id).filter { $0.status != .deleting }.count
        if count >= p.environmentsLimit + 1 {
            throw APIError.badRequest("The project's plan allows \(p.environmentsLimit) environments besides production; raise the subscription's environments to add more.")
        }
        let activity = s.makeActivity(type: "environment.branch", project: p, environment: child, user: user, action: "branched from \(parent.id):",
                                      parameters: JSONObject([("environment", .string(name)), ("parent", .string(parent.id)), ("clone_parent", .bool(clone))]))
        do {
            try await s.store.transaction { [child] tx in
                try await tx.insertEnvironment(child)
                try await tx.insertActivity(activity)
            }
        } catch StoreError.conflict {
            throw APIError.conflict("An environment named \(name) already exists.")
        }
        return .json(.created, resultEnvelope(s.render.environment(child, project: p, access: l, busy: true),
                                              activities: [s.render.activity(activity, canCancel: true)], code: 201))
    }
}

/// IPv4/IPv6 addresses with an optional prefix length.
enum CIDR {
    static func isValid(_ s: String) -> Bool {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return false }
        let addr = String(parts[0])
        var v4 = in_addr(), v6 = in6_addr()
        let maxBits: Int
        if inet_pton(AF_INET, addr, &v4) == 1 { maxBits = 32 } else if inet_pton(AF_INET6, addr, &v6) == 1 { maxBits = 128 } else { return false }
        if parts.count == 2 { guard let n = Int(parts[1]), n >= 0, n <= maxBits else { return false } }
        return true
    }
}
