import Foundation
import GroveModel
import GroveStore

/// Custom domains: the project's (production) domains and the preview environments' replacement domains.
/// A change redeploys the environment it concerns, so routes and `PLATFORM_ROUTES` name the new host.
enum DomainHandlers {
    static func register(_ r: inout Routes, _ s: ServerContext) {
        r.add("list-projects-domains") { req in
            let (p, l) = try req.project()
            return .json(.ok, .array(try await s.store.domains(projectId: p.id, environmentId: nil).map { render(s, $0, canManage: l.permits(.administer)) }))
        }
        r.add("create-projects-domains") { req in
            let (p, l) = try req.project()
            try s.requireProjectAdmin(l)
            return try await create(req, s, p, environment: nil)
        }
        r.add("get-projects-domains") { req in
            let (p, l) = try req.project()
            return .json(.ok, render(s, try await find(s, p, environment: nil, req.param("domainId")), canManage: l.permits(.administer)))
        }
        r.add("update-projects-domains") { req in
            let (p, l) = try req.project()
            try s.requireProjectAdmin(l)
            return try await update(req, s, p, environment: nil)
        }
        r.add("delete-projects-domains") { req in
            let (p, l) = try req.project()
            try s.requireProjectAdmin(l)
            return try await delete(req, s, p, environment: nil)
        }

        // An environment's domains; on production these are the project's domains.
        @Sendable func scope(_ req: APIRequest, write: Bool) async throws -> (Project, Environment?, Bool) {
            let (p, l) = try req.project()
            let e = try req.environment()
            if write { try s.requireRole(.admin, l, on: e) }
            return (p, e.type == .production ? nil : e, l.permits(.environment(.admin, e.type)))
        }
        r.add("list-projects-environments-domains") { req in
            let (p, e, manage) = try await scope(req, write: false)
            return .json(.ok, .array(try await s.store.domains(projectId: p.id, environmentId: e?.id).map { render(s, $0, canManage: manage) }))
        }
        r.add("create-projects-environments-domains") { req in
            let (p, e, _) = try await scope(req, write: true)
            return try await create(req, s, p, environment: e)
        }
        r.add("get-projects-environments-domains") { req in
            let (p, e, manage) = try await scope(req, write: false)
            return .json(.ok, render(s, try await find(s, p, environment: e, req.param("domainId")), canManage: manage))
        }
        r.add("update-projects-environments-domains") { req in
            let (p, e, _) = try await scope(req, write: true)
            return try await update(req, s, p, environment: e)
        }
        r.add("delete-projects-environments-domains") { req in
            let (p, e, _) = try await scope(req, write: true)
            return try await delete(req, s, p, environment: e)
        }
    }

    static func render(_ s: ServerContext, _ d: Domain, canManage: Bool) -> JSON {
        var l = Links(base: s.publicURL)
        let path = (d.environmentId.map { "/projects/\(d.projectId)/environments/\($0.pathSegment)" } ?? "/projects/\(d.projectId)") + "/domains/\(d.name)"
        l.add("self", path)
        if canManage {
            l.add("#edit", path, method: "patch")
            l.add("#delete", path, method: "delete")
        }
        var o = JSONObject([
            ("id", .string(d.name)), ("type", .string(d.type)), ("project", .string(d.projectId)), ("name", .string(d.name)),
            ("registered_name", .string(d.registeredName)),
            ("attributes", .object(JSONObject(d.attributes.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) }))),
        ])
        if let r = d.replacementFor { o["replacement_for"] = .string(r) } else { o["is_default"] = .bool(d.isDefault) }
        o["created_at"] = .string(d.createdAt)
        o["updated_at"] = .string(d.updatedAt)
        o["_links"] = l.json
        return .object(o)
    }

    static func find(_ s: ServerContext, _ p: Project, environment e: Environment?, _ name: String) async throws -> Domain {
        guard let d = try await s.store.domain(projectId: p.id, environmentId: e?.id, name: name.lowercased()) else { throw APIError.notFound("Domain \(name)") }
        return d
    }

    /// The environment a domain change redeploys: the preview itself, or production for the project's domains.
    static func target(_ s: ServerContext, _ p: Project, _ e: Environment?) async throws -> Environment? {
        if let e { return e }
        return try await s.store.environment(projectId: p.id, id: p.defaultBranch)
    }

    static func attributes(_ b: BodyReader) throws -> [String: String]? {
        guard let o = try b.stringMap("attributes") else { return nil }
        return Dictionary(uniqueKeysWithValues: o.compactMap { k, v in v.stringValue.map { (k, $0) } })
    }

    static func create(_ req: APIRequest, _ s: ServerContext, _ p: Project, environment e: Environment?) async throws -> APIResponse {
        let user = try req.requireUser()
        let b = try BodyReader(try req.jsonObject(allowEmpty: false),
                               allowed: ["name", "attributes", "is_default", "replacement_for", "ssl"])
        guard let raw = try b.string("name", required: true, nonEmpty: true, maxLength: 253) else { throw APIError.badRequest("is required", field: "name") }
        let name = raw.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        guard Domain.isValidName(name) else {
            throw APIError.badRequest("\(raw) is not a valid domain name (labels of letters, digits and hyphens, at least two)", field: "name")
        }
        if name == s.baseDomain || name.hasSuffix("." + s.baseDomain) {
            let base = s.baseDomain
            throw APIError.badRequest("\(name) is under the platform's own domain \(base); environments get such hosts automatically", field: "name")
        }
        if try await s.store.allDomains(projectId: p.id).contains(where: { $0.name == name }) {
            throw APIError.conflict("The domain \(name) is already attached to this project.")
        }
        var d = Domain(projectId: p.id, environmentId: e?.id, name: name, createdAt: Timestamp.now())
        d.attributes = try attributes(b) ?? [:]
        let production = try await s.store.domains(projectId: p.id, environmentId: nil)
        if let e {
            guard let replaced = try b.string("replacement_for", required: true, nonEmpty: true) else {
                throw APIError.badRequest("is required on \(e.type.rawValue) environments: name the production domain this one replaces", field: "replacement_for")
            }
            guard production.contains(where: { $0.name == replaced.lowercased() }) else {
                throw APIError.badRequest("\(replaced) is not one of the project's production domains", field: "replacement_for")
            }
            if try b.bool("is_default") == true { throw APIError.badRequest("only production domains can be the default", field: "is_default") }
            d.replacementFor = replaced.lowercased()
        } else {
            if b.has("replacement_for") { throw APIError.badRequest("only applies to domains of non-production environments", field: "replacement_for") }
            // The first production domain is the default until another is chosen.
            d.isDefault = try b.bool("is_default") ?? production.isEmpty
        }
        if b.has("ssl") { throw APIError.badRequest("add the certificate through /projects/\(p.id)/certificates instead", field: "ssl") }
        let env = try await target(s, p, e)
        let a = activity(s, p, env, user, verb: "create", action: "added domain \(name) to")
        var project = p
        if d.isDefault { project.attributes["default_domain"] = .string(d.name) }
        try await s.store.transaction { [d, production, project] tx in
            if d.isDefault {
                try await clearDefault(tx, production)
                try await tx.updateProject(project)
            }
            try await tx.insertDomain(d)
            try await tx.insertActivity(a)
        }
        return .json(.created, resultEnvelope(render(s, d, canManage: true), activities: [s.render.activity(a, canCancel: true)], code: 201))
    }

    static func clearDefault(_ tx: any Store, _ production: [Domain]) async throws {
        for var other in production where other.isDefault {
            other.isDefault = false
            other.updatedAt = Timestamp.now()
            try await tx.updateDomain(other)
        }
    }

    static func update(_ req: APIRequest, _ s: ServerContext, _ p: Project, environment e: Environment?) async throws -> APIResponse {
        let user = try req.requireUser()
        var d = try await find(s, p, environment: e, req.param("domainId"))
        let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: ["attributes", "is_default"])
        if let a = try attributes(b) { d.attributes = a }
        let makeDefault = try b.bool("is_default")
        if makeDefault != nil, d.replacementFor != nil { throw APIError.badRequest("only production domains can be the default", field: "is_default") }
        if makeDefault == false, d.isDefault { throw APIError.badRequest("make another domain the default instead", field: "is_default") }
        let becomesDefault = makeDefault == true && !d.isDefault
        if becomesDefault { d.isDefault = true }
        d.updatedAt = Timestamp.now()
        let env = try await target(s, p, e)
        let a = activity(s, p, env, user, verb: "update", action: "updated domain \(d.name) of")
        let production = try await s.store.domains(projectId: p.id, environmentId: nil).filter { $0.name != d.name }
        var project = p
        if becomesDefault { project.attributes["default_domain"] = .string(d.name) }
        try await s.store.transaction { [d, project] tx in
            if becomesDefault {
                try await clearDefault(tx, production)
                try await tx.updateProject(project)
            }
            try await tx.updateDomain(d)
            try await tx.insertActivity(a)
        }
        return .json(.ok, resultEnvelope(render(s, d, canManage: true), activities: [s.render.activity(a, canCancel: true)]))
    }

    static func delete(_ req: APIRequest, _ s: ServerContext, _ p: Project, environment e: Environment?) async throws -> APIResponse {
        let user = try req.requireUser()
        let d = try await find(s, p, environment: e, req.param("domainId"))
        if e == nil {
            let replacements = try await s.store.allDomains(projectId: p.id).filter { $0.replacementFor == d.name }
            if let r = replacements.first {
                throw APIError.badRequest("\(d.name) is replaced by \(r.name) on environment \(r.environmentId ?? ""); delete that domain first.")
            }
        }
        let env = try await target(s, p, e)
        let a = activity(s, p, env, user, verb: "delete", action: "deleted domain \(d.name) from")
        let remaining = try await s.store.domains(projectId: p.id, environmentId: nil).filter { $0.name != d.name }
        // The next production domain becomes the default, as there always is one while any exist.
        var project = p
        var next = remaining.first
        next?.isDefault = true
        project.attributes["default_domain"] = next.map { .string($0.name) } ?? nil
        try await s.store.transaction { [project, next] tx in
            try await tx.deleteDomain(projectId: p.id, environmentId: e?.id, name: d.name)
            if d.isDefault {
                if let next { try await tx.updateDomain(next) }
                try await tx.updateProject(project)
            }
            try await tx.insertActivity(a)
        }
        return .json(.ok, resultEnvelope(nil, activities: [s.render.activity(a, canCancel: true)]))
    }

    static func activity(_ s: ServerContext, _ p: Project, _ env: Environment?, _ user: User, verb: String, action: String) -> Activity {
        s.makeActivity(type: "environment.domain.\(verb)", project: p, environment: env, user: user, action: action,
                       log: ["Domain change recorded.", env.map { "Redeploying \($0.id) so its routes use it." } ?? "It takes effect when production is deployed."])
    }
}
