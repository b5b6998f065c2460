import Foundation
import GroveModel
import GroveStore

/// Project-level and environment-level variables.
enum VariableHandlers {
    static let projectFields = ["name", "attributes", "value", "is_json", "is_sensitive", "visible_build", "visible_runtime", "application_scope"]
    static let environmentFields = projectFields + ["is_enabled", "is_inheritable"]

    static func register(_ r: inout Routes, _ s: ServerContext) {
        r.add("list-projects-variables") { req in
            let (p, l) = try req.project()
            return .json(.ok, .array(try await s.store.variables(projectId: p.id, environmentId: nil).map { s.render.variable($0, inherited: false, canManage: l.permits(.administer)) }))
        }
        r.add("create-projects-variables") { req in
            let (p, l) = try req.project()
            try s.requireProjectAdmin(l)
            return try await create(req, s, project: p, environment: nil, canManage: true)
        }
        r.add("get-projects-variables") { req in
            let (p, l) = try req.project()
            guard let v = try await s.store.variable(projectId: p.id, environmentId: nil, name: req.param("variableId")) else {
                throw APIError.notFound("Variable \(req.param("variableId"))")
            }
            return .json(.ok, s.render.variable(v, inherited: false, canManage: l.permits(.administer)))
        }
        r.add("update-projects-variables") { req in
            let (p, l) = try req.project()
            try s.requireProjectAdmin(l)
            return try await update(req, s, project: p, environment: nil)
        }
        r.add("delete-projects-variables") { req in
            let (p, l) = try req.project()
            try s.requireProjectAdmin(l)
            return try await delete(req, s, project: p, environment: nil)
        }

        r.add("list-projects-environments-variables") { req in
            let (p, l) = try req.project()
            let e = try req.environment()
            let canManage = l.permits(.environment(.admin, e.type))
            return .json(.ok, .array(try await environmentView(p, e, s).map { s.render.variable($0.0, inherited: $0.1, canManage: canManage) }))
        }
        r.add("create-projects-environments-variables") { req in
            let (p, l) = try req.project()
            let e = try req.environment()
            try s.requireRole(.admin, l, on: e)
            return try await create(req, s, project: p, environment: e, canManage: true)
        }
        r.add("get-projects-environments-variables") { req in
            let (p, l) = try req.project()
            let e = try req.environment()
            guard let (v, inherited) = try await environmentView(p, e, s).first(where: { $0.0.name == req.param("variableId") }) else {
                throw APIError.notFound("Variable \(req.param("variableId"))")
            }
            return .json(.ok, s.render.variable(v, inherited: inherited, canManage: l.permits(.environment(.admin, e.type))))
        }
        r.add("update-projects-environments-variables") { req in
            let (p, l) = try req.project()
            let e = try req.environment()
            try s.requireRole(.admin, l, on: e)
            return try await update(req, s, project: p, environment: e)
        }
        r.add("delete-projects-environments-variables") { req in
            let (p, l) = try req.project()
            let e = try req.environment()
            try s.requireRole(.admin, l, on: e)
            return try await delete(req, s, project: p, environment: e)
        }
    }

    /// The environment's own variables plus those it inherits from ancestors (marked inherited), by name.
    static func environmentView(_ p: Project, _ e: Environment, _ s: ServerContext) async throws -> [(Variable, Bool)] {
        let (chain, ids) = try await s.store.variableAncestry(projectId: p.id, environment: e)
        let own = chain.first ?? []
        var out: [(Variable, Bool)] = own.map { ($0, false) }
        let ownNames = Set(own.map(\.name))
        let effective = VariableResolver.effective(project: [], ancestors: chain, environmentIds: ids)
        for ev in effective where !ownNames.contains(ev.variable.name) {
            if case .inherited = ev.source { out.append((ev.variable, true)) }
        }
        return out.sorted { $0.0.name < $1.0.name }
    }

    static func validateName(_ name: String) throws {
        guard name.count <= 255, !name.contains(where: { $0.isWhitespace || $0 == "/" }),
              !BodyReader.hasControlCharacters(name, allowLineBreaks: false) else {
            throw APIError.badRequest("must not contain whitespace, control characters or '/' and be at most 255 characters", field: "name")
        }
    }

    static func validateJSON(_ v: Variable) throws {
        if v.isJson, (try? JSON.parse(v.value)) == nil { throw APIError.badRequest("is not valid JSON although is_json is true", field: "value") }
    }

    static func apply(_ b: BodyReader, to v: inout Variable, environmentLevel: Bool) throws {
        if let val = try b.string("value", maxLength: 1 << 19) { v.value = val }
        if let a = try b.stringMap("attributes") { v.attributes = a }
        if let j = try b.bool("is_json") { v.isJson = j }
        if let sens = try b.bool("is_sensitive") {
            if v.isSensitive && !sens { throw APIError.badRequest("a sensitive variable cannot be made non-sensitive", field: "is_sensitive") }
            v.isSensitive = sens
        }
        if let vb = try b.bool("visible_build") { v.visibleBuild = vb }
        if let vr = try b.bool("visible_runtime") { v.visibleRuntime = vr }
        if let scope = try b.stringArray("application_scope") { v.applicationScope = scope }
        if environmentLevel {
            if let en = try b.bool("is_enabled") { v.isEnabled = en }
            if let inh = try b.bool("is_inheritable") { v.isInheritable = inh }
        }
        try validateJSON(v)
    }

    static func activityType(_ e: Environment?, _ verb: String) -> String { (e == nil ? "project" : "environment") + ".variable." + verb }

    static func create(_ req: APIRequest, _ s: ServerContext, project p: Project, environment e: Environment?, canManage: Bool) async throws -> APIResponse {
        let user = try req.requireUser()
        let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: e == nil ? projectFields : environmentFields)
        guard let name = try b.string("name", required: true, nonEmpty: true) else { throw APIError.badRequest("is required", field: "name") }
        try validateName(name)
        guard try b.string("value", required: true, maxLength: 1 << 19) != nil else { throw APIError.badRequest("is required", field: "value") }
        var v = Variable(projectId: p.id, environmentId: e?.id, name: name, value: "", createdAt: Timestamp.now())
        try apply(b, to: &v, environmentLevel: e != nil)
        let a = s.makeActivity(type: activityType(e, "create"), project: p, environment: e, user: user, action: "added variable \(name)" + (e == nil ? "" : " to"),
                               parameters: JSONObject([("variable", .string(name))]),
                               log: ["Variable \(name) created.", "It takes effect on the next deployment" + (e.map { " of \($0.id)." } ?? " of each environment.")])
        do {
            try await s.store.transaction { [v] tx in
                try await tx.insertVariable(v)
                try await tx.insertActivity(a)
            }
        } catch StoreError.conflict {
            throw APIError.conflict("The variable \(name) already exists.")
        }
        return .json(.created, resultEnvelope(s.render.variable(v, inherited: false, canManage: canManage), activities: [s.render.activity(a, canCancel: true)], code: 201))
    }

    static func update(_ req: APIRequest, _ s: ServerContext, project p: Project, environment e: Environment?) async throws -> APIResponse {
        let user = try req.requireUser()
        let name = req.param("variableId")
        guard var v = try await s.store.variable(projectId: p.id, environmentId: e?.id, name: name) else {
            if let e, try await environmentView(p, e, s).contains(where: { $0.0.name == name }) {
                throw APIError.badRequest("\(name) is inherited from a parent environment; create it on \(e.id) to override it.")
            }
            throw APIError.notFound("Variable \(name)")
        }
        let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: e == nil ? projectFields : environmentFields)
        if let newName = try b.string("name"), newName != name { throw APIError.badRequest("a variable cannot be renamed", field: "name") }
        try apply(b, to: &v, environmentLevel: e != nil)
        v.updatedAt = Timestamp.now()
        let a = s.makeActivity(type: activityType(e, "update"), project: p, environment: e, user: user, action: "updated variable \(name)" + (e == nil ? "" : " on"),
                               parameters: JSONObject([("variable", .string(name))]),
                               log: ["Variable \(name) updated.", "It takes effect on the next deployment" + (e.map { " of \($0.id)." } ?? " of each environment.")])
        try await s.store.transaction { [v] tx in
            try await tx.updateVariable(v)
            try await tx.insertActivity(a)
        }
        return .json(.ok, resultEnvelope(s.render.variable(v, inherited: false, canManage: true), activities: [s.render.activity(a, canCancel: true)]))
    }

    static func delete(_ req: APIRequest, _ s: ServerContext, project p: Project, environment e: Environment?) async throws -> APIResponse {
        let user = try req.requireUser()
        let name = req.param("variableId")
        guard try await s.store.variable(projectId: p.id, environmentId: e?.id, name: name) != nil else { throw APIError.notFound("Variable \(name)") }
        let a = s.makeActivity(type: activityType(e, "delete"), project: p, environment: e, user: user, action: "deleted variable \(name)" + (e == nil ? "" : " from"),
                               parameters: JSONObject([("variable", .string(name))]), log: ["Variable \(name) deleted."])
        try await s.store.transaction { tx in
            try await tx.deleteVariable(projectId: p.id, environmentId: e?.id, name: name)
            try await tx.insertActivity(a)
        }
        return .json(.ok, resultEnvelope(nil, activities: [s.render.activity(a, canCancel: true)]))
    }
}

extension Optional {
    func asyncMap<U>(_ f: (Wrapped) async throws -> U) async rethrows -> U? {
        switch self {
        case .some(let w): return try await f(w)
        case .none: return nil
        }
    }
}
