import Foundation
import GroveModel
import GroveStore

/// Environment backups: create (an activity), list, get, delete, restore into the same, another or a new environment.
enum BackupHandlers {
    static func register(_ r: inout Routes, _ s: ServerContext) {
        r.add("list-projects-environments-backups") { req in
            let (p, l) = try req.project()
            let e = try req.environment()
            return .json(.ok, .array(try await s.store.backups(projectId: p.id, environmentId: e.id).map { render(s, $0, canManage: l.permits(.environment(.admin, e.type))) }))
        }
        r.add("get-projects-environments-backups") { req in
            let (p, l) = try req.project()
            let e = try req.environment()
            return .json(.ok, render(s, try await find(s, p, e, req.param("backupId")), canManage: l.permits(.environment(.admin, e.type))))
        }
        r.add("delete-projects-environments-backups") { req in
            let (p, l) = try req.project()
            let e = try req.environment()
            try s.requireRole(.admin, l, on: e)
            let b = try await find(s, p, e, req.param("backupId"))
            // The record goes now; the data goes with the activity, on the runtime that holds it.
            let a = s.makeActivity(type: "environment.backup.delete", project: p, environment: e, user: try req.requireUser(), action: "deleted backup \(b.id) of",
                                   parameters: JSONObject([("backup_name", .string(b.id))]))
            try await s.store.transaction { tx in
                try await tx.deleteBackup(projectId: p.id, id: b.id)
                try await tx.insertActivity(a)
            }
            return .json(.ok, resultEnvelope(nil, activities: [s.render.activity(a, canCancel: false)]))
        }
        r.add("restore-backup") { req in
            let user = try req.requireUser()
            let (p, l) = try req.project()
            let e = try req.environment()
            let b = try await find(s, p, e, req.param("backupId"))
            let body = try BodyReader(try req.jsonObject(), allowed: ["environment_name", "branch_from", "restore_code", "restore_resources", "resources"])
            let targetName = try body.string("environment_name", nonEmpty: true) ?? e.id
            let restoreCode = try body.bool("restore_code") ?? true
            _ = try body.bool("restore_resources")
            var target = try await s.store.environment(projectId: p.id, id: targetName)
            var created: Environment?
            if target == nil {
                // A new environment branched from `branch_from` (default: the backup's environment).
                let fromName = try body.string("branch_from", nonEmpty: true) ?? e.id
                let from = try await s.visibleEnvironment(p, l, id: fromName)
                try s.requireRole(.contributor, l, on: from)
                if let problem = EnvironmentName.problem(with: targetName) {
                    throw APIError.badRequest("'\(targetName)' is not a valid environment name: it \(problem)", field: "environment_name")
                }
                let child = Environment(projectId: p.id, name: targetName, title: targetName, type: from.type == .production ? .staging : from.type,
                                        parent: from.id, status: .inactive, isMain: false, createdAt: Timestamp.now())
                created = child
                target = child
            } else if body.has("branch_from") {
                throw APIError.badRequest("only applies when environment_name names a new environment", field: "branch_from")
            }
            guard let target else { throw APIError.notFound("Environment \(targetName)") }
            if created == nil { guard l.permits(.environment(.viewer, target.type)) else { throw APIError.notFound("Environment \(targetName)") } }
            try s.requireRole(.admin, l, on: target)
            guard target.status != .deleting else { throw APIError.badRequest("Environment \(target.id) is being deleted.") }
            var a = s.makeActivity(type: "environment.restore", project: p, environment: target, user: user, action: "restored backup \(b.id) into",
                                   parameters: JSONObject([("backup", .string(b.id)), ("environment", .string(target.id)), ("source_environment", .string(e.id)),
                                                           ("restore_code", .bool(restoreCode))]))
            a.environments = [target.id] + (target.id == e.id ? [] : [e.id])
            try await s.store.transaction { [created, a] tx in
                if let created { try await tx.insertEnvironment(created) }
                try await tx.insertActivity(a)
            }
            return .json(.ok, resultEnvelope(nil, activities: [s.render.activity(a, canCancel: true)]))
        }
    }

    /// POST .../backup: a safe (servers held still) or live backup, made by an activity.
    static func create(_ req: APIRequest, _ s: ServerContext, _ p: Project, _ e: Environment) async throws -> APIResponse {
        let body = try BodyReader(try req.jsonObject(), allowed: ["safe"])
        let safe = try body.bool("safe") ?? true
        let id = Identifier.lowercaseAlphanumeric(26)
        let a = s.makeActivity(type: "environment.backup", project: p, environment: e, user: try req.requireUser(), action: "created a \(safe ? "safe" : "live") backup of",
                               parameters: JSONObject([("backup_name", .string(id)), ("safe", .bool(safe)), ("environment", .string(e.id))]))
        try await s.store.insertActivity(a)
        return .json(.accepted, resultEnvelope(nil, activities: [s.render.activity(a, canCancel: true)], code: 202))
    }

    static func find(_ s: ServerContext, _ p: Project, _ e: Environment, _ id: String) async throws -> Backup {
        guard let b = try await s.store.backup(projectId: p.id, id: id), b.environmentId == e.id else { throw APIError.notFound("Backup \(id)") }
        return b
    }

    static func render(_ s: ServerContext, _ b: Backup, canManage: Bool) -> JSON {
        var l = Links(base: s.publicURL)
        let path = "/projects/\(b.projectId)/environments/\(b.environmentId.pathSegment)/backups/\(b.id)"
        l.add("self", path)
        if canManage {
            l.add("#delete", path, method: "delete")
            l.add("#restore", path + "/restore", method: "post")
        }
        return .object(JSONObject([
            ("id", .string(b.id)), ("created_at", .string(b.createdAt)), ("updated_at", .string(b.updatedAt)),
            ("attributes", .object(JSONObject(b.attributes.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) }))),
            ("status", .string(b.status)), ("expires_at", JSON(b.expiresAt)), ("index", .null), ("commit_id", JSON(b.commitId)),
            ("environment", .string(b.environmentId)), ("safe", .bool(b.safe)), ("size_of_volumes", .int(b.sizeOfVolumes)),
            ("size_used", .int(b.sizeUsed)), ("deployment", .null), ("restorable", .bool(b.restorable)), ("automated", .bool(b.automated)),
            ("_links", l.json),
        ]))
    }
}
