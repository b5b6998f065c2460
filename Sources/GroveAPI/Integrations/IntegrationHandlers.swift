import Foundation
import GroveModel
import GroveStore

/// `/projects/{projectId}/integrations`: project admins connect source repositories, webhooks, activity scripts,
/// health channels and log sinks. Secrets go in and are sealed; they never come back out.
enum IntegrationHandlers {
    static func register(_ r: inout Routes, _ s: ServerContext) {
        r.add("list-projects-integrations") { req in
            let (p, l) = try req.project()
            try s.requireProjectAdmin(l)
            let all = try await s.store.list(Integration.self, parent: p.id).sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
            return .json(.ok, .array(try all.map { try render(s, $0) }))
        }
        r.add("create-projects-integrations") { req in
            let (p, l) = try req.project()
            try s.requireProjectAdmin(l)
            return try await create(req, s, p)
        }
        r.add("get-projects-integrations") { req in
            let (p, l) = try req.project()
            try s.requireProjectAdmin(l)
            return .json(.ok, try render(s, try await find(s, p, req.param("integrationId"))))
        }
        r.add("update-projects-integrations") { req in
            let (p, l) = try req.project()
            try s.requireProjectAdmin(l)
            return try await update(req, s, p)
        }
        r.add("delete-projects-integrations") { req in
            let (p, l) = try req.project()
            try s.requireProjectAdmin(l)
            return try await delete(req, s, p)
        }
        SourceHookHandler.register(&r, s)
    }

    static func find(_ s: ServerContext, _ p: Project, _ id: String) async throws -> Integration {
        guard let i = try await s.store.get(Integration.self, id: id), i.projectId == p.id else { throw APIError.notFound("Integration \(id)") }
        return i
    }

    static func path(_ i: Integration) -> String { "/projects/\(i.projectId)/integrations/\(i.id)" }

    static func render(_ s: ServerContext, _ i: Integration) throws -> JSON {
        guard let spec = i.spec else { throw APIError(.internalServerError, "Integration \(i.id) has an unknown type \(i.type).") }
        var l = Links(base: s.publicURL)
        l.add("self", path(i))
        l.add("#edit", path(i), method: "patch")
        l.add("#delete", path(i), method: "delete")
        // Absolute: it is pasted into the provider.
        if spec.role == .source { l.addAbsolute("#hook", s.publicURL + "/integrations/\(i.id)/hook") }
        l.add("#activities", "/projects/\(i.projectId)/activities?integration=\(i.id)")
        var o = JSONObject([("id", .string(i.id)), ("type", .string(i.type)), ("role", .string(spec.role.rawValue)),
                            ("created_at", .string(i.createdAt)), ("updated_at", .string(i.updatedAt))])
        for (k, v) in spec.rendered(i.settings, secrets: try secrets(s, i)) { o[k] = v }
        o["_links"] = l.json
        return .object(o)
    }

    /// The integration's secret fields, opened.
    static func secrets(_ s: ServerContext, _ i: Integration) throws -> JSONObject {
        try IntegrationSecrets.open(s.store, i)
    }

    /// The body, with fields the type does not have refused (and NUL characters anywhere).
    static func input(_ req: APIRequest, _ spec: IntegrationSpec) throws -> JSONObject {
        let o = try req.jsonObject(allowEmpty: false)
        _ = try BodyReader(o, allowed: ["type"] + spec.writableFields)
        return o
    }

    static func spec(for type: String) throws -> IntegrationSpec {
        if let reason = IntegrationSpec.refused[type] { throw APIError.badRequest("\(type) integrations are not available on Grove: \(reason)", field: "type") }
        guard let spec = IntegrationSpec.named(type) else {
            throw APIError.badRequest("'\(type)' is not an integration type; Grove has \(IntegrationSpec.all.map(\.type).joined(separator: ", "))", field: "type")
        }
        return spec
    }

    /// URLs and hosts an integration will send to must be allowed targets (checked again at each send).
    static func checkTargets(_ s: ServerContext, _ spec: IntegrationSpec, _ settings: JSONObject) throws {
        for key in ["url", "base_url"] {
            guard let url = settings[key]?.stringValue, !url.isEmpty else { continue }
            do { _ = try s.outbound.check(url: url) } catch { throw APIError.badRequest("\(error)", field: key) }
        }
        if spec.type == "syslog", let host = settings["host"]?.stringValue {
            guard !host.isEmpty, host.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") }) else {
                throw APIError.badRequest("must be a host name or address", field: "host")
            }
            do { try s.outbound.check(host: host) } catch { throw APIError.badRequest("\(error)", field: "host") }
            if let port = settings["port"]?.intValue, !(1...65535).contains(port) { throw APIError.badRequest("must be from 1 to 65535", field: "port") }
        }
        if spec.role == .source {
            // Paths of the provider's API and clone URL are built from these: names only, no traversal.
            func name(_ field: String, path: Bool) throws {
                let v = settings[field]?.stringValue ?? ""
                let pattern = path ? #"^[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)+$"# : #"^[A-Za-z0-9_.\-~]+$"#
                guard v.range(of: pattern, options: .regularExpression) != nil, !v.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) else {
                    throw APIError.badRequest(path ? "must name the repository as owner/name" : "must be a single name", field: field)
                }
            }
            switch spec.type {
            case "gitlab": try name("project", path: true)
            case "bitbucket_server": try name("project", path: false); try name("repository", path: false)
            default: try name("repository", path: true)
            }
        }
        if spec.type == "health.email" {
            for r in settings["recipients"]?.arrayValue?.compactMap(\.stringValue) ?? [] where r != "#admins" && !Mailer.isAddress(r) {
                throw APIError.badRequest("'\(r)' is not an email address (or #admins)", field: "recipients")
            }
            if let f = settings["from_address"]?.stringValue, !Mailer.isAddress(f) { throw APIError.badRequest("is not an email address", field: "from_address") }
        }
    }

    static func create(_ req: APIRequest, _ s: ServerContext, _ p: Project) async throws -> APIResponse {
        let user = try req.requireUser()
        let raw = try req.jsonObject(allowEmpty: false)
        guard let type = raw["type"]?.stringValue else { throw APIError.badRequest("is required", field: "type") }
        let spec = try spec(for: type)
        let body = try input(req, spec)
        let applied: (settings: JSONObject, secrets: JSONObject)
        do { applied = try spec.apply(body, to: nil) } catch let e as IntegrationInputError { throw APIError.badRequest(e.message, field: e.field) }
        let existing = try await s.store.list(Integration.self, parent: p.id)
        if spec.role == .source, let other = existing.first(where: { $0.spec?.role == .source }) {
            throw APIError.conflict("The project already has a source integration (\(other.type), \(other.id)); delete it before adding another.")
        }
        try checkTargets(s, spec, applied.settings)
        guard existing.count < 50 else { throw APIError.badRequest("A project can have at most 50 integrations.") }
        let i = Integration(projectId: p.id, type: type, settings: applied.settings,
                            sealedSecrets: try IntegrationSecrets.seal(s.store, applied.secrets),
                            sealedHookSecret: spec.role == .source ? try s.store.sealSecret(Identifier.secret(bytes: 32)) : "",
                            createdAt: Timestamp.now())
        var activities = [s.makeActivity(type: "integration.create", project: p, environment: nil, user: user, action: "added the \(type) integration to",
                                         parameters: JSONObject([("integration", .string(i.id))]),
                                         log: ["Added the \(type) integration \(i.id)."] + summary(spec, i))]
        if spec.role == .source {
            activities.append(s.makeActivity(type: "integration.\(type).fetch", project: p, environment: nil, user: user,
                                             action: "fetched the branches of \(i.string("repository") ?? i.string("project") ?? "") into",
                                             parameters: JSONObject([("integration", .string(i.id)), ("event", "initial"), ("register_hook", true)])))
        }
        try await s.store.transaction { [i, activities] tx in
            try await tx.insert(i)
            for a in activities { try await tx.insertActivity(a) }
        }
        await s.orchestrator?.nudge()
        return .json(.created, resultEnvelope(try render(s, i), activities: activities.map { s.render.activity($0, canCancel: true) }, code: 201))
    }

    static func summary(_ spec: IntegrationSpec, _ i: Integration) -> [String] {
        switch spec.role {
        case .source: return ["Repository: \(i.string("repository") ?? i.string("project") ?? "")"]
        case .webhook, .logs: return i.string("url").map { ["Target: \($0)"] } ?? i.string("host").map { ["Target: \($0)"] } ?? []
        case .script: return ["Script of \(i.string("script")?.utf8.count ?? 0) bytes"]
        case .health: return []
        }
    }

    static func update(_ req: APIRequest, _ s: ServerContext, _ p: Project) async throws -> APIResponse {
        let user = try req.requireUser()
        var i = try await find(s, p, req.param("integrationId"))
        guard let spec = i.spec else { throw APIError(.internalServerError, "Integration \(i.id) has an unknown type.") }
        let body = try input(req, spec)
        if let t = body["type"], t.stringValue != i.type { throw APIError.badRequest("an integration's type cannot change; delete it and add another", field: "type") }
        let applied: (settings: JSONObject, secrets: JSONObject)
        do { applied = try spec.apply(body, to: (i.settings, try secrets(s, i))) } catch let e as IntegrationInputError {
            throw APIError.badRequest(e.message, field: e.field)
        }
        try checkTargets(s, spec, applied.settings)
        i.settings = applied.settings
        i.sealedSecrets = try IntegrationSecrets.seal(s.store, applied.secrets)
        i.updatedAt = Timestamp.now()
        let changed = body.keys.filter { $0 != "type" }.sorted()
        let a = s.makeActivity(type: "integration.update", project: p, environment: nil, user: user, action: "updated the \(i.type) integration of",
                               parameters: JSONObject([("integration", .string(i.id))]),
                               log: ["Updated the \(i.type) integration \(i.id): \(changed.isEmpty ? "nothing" : changed.joined(separator: ", ")) changed."])
        try await s.store.transaction { [i] tx in
            try await tx.put(i)
            try await tx.insertActivity(a)
        }
        await s.orchestrator?.nudge()
        return .json(.ok, resultEnvelope(try render(s, i), activities: [s.render.activity(a, canCancel: true)]))
    }

    static func delete(_ req: APIRequest, _ s: ServerContext, _ p: Project) async throws -> APIResponse {
        let user = try req.requireUser()
        let i = try await find(s, p, req.param("integrationId"))
        let a = s.makeActivity(type: "integration.delete", project: p, environment: nil, user: user, action: "removed the \(i.type) integration from",
                               parameters: JSONObject([("integration", .string(i.id))]),
                               log: ["Removed the \(i.type) integration \(i.id); its environments stay as they are."])
        try await s.store.transaction { tx in
            try await tx.delete(Integration.self, id: i.id)
            // Its forwarding cursors and the delivery ids it remembered go with it.
            for kind in [LogCursor.kind, HookDelivery.kind] {
                for d in try await tx.documents(kind: kind, parent: i.id, ref: nil) { try await tx.deleteDocument(kind: kind, id: d.id) }
            }
            try await tx.insertActivity(a)
        }
        await s.orchestrator?.nudge()
        return .json(.ok, resultEnvelope(nil, activities: [s.render.activity(a, canCancel: true)]))
    }
}

/// An integration's secret fields as one sealed JSON object.
enum IntegrationSecrets {
    static func seal(_ store: any Store, _ secrets: JSONObject) throws -> String {
        secrets.isEmpty ? "" : try store.sealSecret(JSON.object(secrets).serialized())
    }

    static func open(_ store: any Store, _ i: Integration) throws -> JSONObject {
        guard !i.sealedSecrets.isEmpty else { return JSONObject() }
        return try JSON.parse(try store.openSecret(i.sealedSecrets)).objectValue ?? JSONObject()
    }

    static func hookSecret(_ store: any Store, _ i: Integration) throws -> String {
        try store.openSecret(i.sealedHookSecret)
    }
}
