import Foundation
import GroveGit
import GroveModel
import GroveStore
import Hummingbird
import NIOCore

/// Activity lists, details, cancellation and the live NDJSON log.
enum ActivityHandlers {
    static func register(_ r: inout Routes, _ s: ServerContext) {
        // Operation ids of the project scope, and of the environment scope (`-environments`).
        for scope in ["projects", "projects-environments"] {
            r.add("list-\(scope)-activities") { req in try await list(req, s) }
            r.add("get-\(scope)-activities") { req in
                let (_, l, a, environments) = try await load(req, s)
                let log = try await s.store.logItems(activityId: a.id).map(\.message).joined()
                return .json(.ok, s.render.activity(a, canCancel: canCancel(a, l, environments), log: log))
            }
            r.add("action-\(scope)-activities-cancel") { req in try await cancel(req, s) }
            r.add("get-\(scope)-activities-log") { req in try await log(req, s) }
        }
    }

    /// The project's environments by id, for the role checks on activities; admins pass every check without them.
    static func envs(_ p: Project, _ l: ProjectAccessLevel, _ s: ServerContext) async throws -> [String: Environment] {
        guard !l.permits(.administer) else { return [:] }
        return Dictionary(uniqueKeysWithValues: try await s.store.environments(projectId: p.id).map { ($0.id, $0) })
    }

    static func canCancel(_ a: Activity, _ l: ProjectAccessLevel, _ envs: [String: Environment]) -> Bool {
        if l.permits(.administer) { return true }
        guard let id = a.environments.first, let e = envs[id] else { return false }
        return l.permits(.environment(.contributor, e.type))
    }

    /// The activity, checked visible to the caller, with the project's environments (needed for role checks).
    static func load(_ req: APIRequest, _ s: ServerContext) async throws -> (Project, ProjectAccessLevel, Activity, [String: Environment]) {
        let (p, l) = try req.project()
        let id = req.param("activityId")
        guard let a = try await s.store.activity(id: id), a.projectId == p.id else { throw APIError.notFound("Activity \(id)") }
        if let envId = req.params["environmentId"], !a.environments.contains(envId) { throw APIError.notFound("Activity \(id)") }
        let environments = try await envs(p, l, s)
        guard s.canSeeActivity(a, level: l, environments: environments) else { throw APIError.notFound("Activity \(id)") }
        return (p, l, a, environments)
    }

    static func list(_ req: APIRequest, _ s: ServerContext) async throws -> APIResponse {
        let (p, l) = try req.project()
        var filter = ActivityFilter()
        if req.params["environmentId"] != nil { filter.environmentId = try req.environment().id }
        filter.types = req.queryValues("type")
        for st in req.queryValues("state") {
            guard let state = ActivityState(rawValue: st) else {
                throw APIError.badRequest("'\(st)' is not one of \(ActivityState.allCases.map(\.rawValue).joined(separator: ", "))", field: "state")
            }
            filter.states.append(state)
        }
        if let r = req.queryValue("result") {
            guard let result = ActivityResult(rawValue: r) else { throw APIError.badRequest("must be success or failure", field: "result") }
            filter.result = result
        }
        if let st = req.queryValue("starts_at") {
            guard let normalized = Timestamp.normalize(st) else { throw APIError.badRequest("must be an ISO-8601 date-time", field: "starts_at") }
            filter.startsAt = normalized
        }
        filter.integrationId = req.queryValue("integration")
        if let c = req.queryValue("count") {
            guard let n = Int(c), n >= 1, n <= 1000 else { throw APIError.badRequest("must be an integer from 1 to 1000", field: "count") }
            filter.limit = n
        }
        let environments = try await envs(p, l, s)
        let visible = try await s.store.activities(projectId: p.id, filter: filter).filter { s.canSeeActivity($0, level: l, environments: environments) }
        return .json(.ok, .array(visible.map { s.render.activity($0, canCancel: canCancel($0, l, environments)) }))
    }

    static func cancel(_ req: APIRequest, _ s: ServerContext) async throws -> APIResponse {
        let (_, l, a, environments) = try await load(req, s)
        guard canCancel(a, l, environments) else { throw APIError.forbidden("Cancelling this activity requires the contributor role on its environment.") }
        guard a.state.isCancellable else {
            throw APIError.badRequest("Activity \(a.id) is \(a.state.rawValue) and can no longer be cancelled.", field: nil)
        }
        var cancelled = a
        cancelled.cancel(at: Timestamp.now())
        if a.state == .pending, try await s.store.cancelPendingActivity(cancelled) {
            try await s.store.appendLog(ActivityLogItem(activityId: a.id, seq: 1, timestamp: Timestamp.now(), message: "Activity cancelled before it started.\n"))
            if a.type == "environment.initialize" {
                // Its runner never runs: the files sent with it go now.
                let git = GitWriter(repositories: s.repositories, projectId: a.projectId)
                for ref in InitializeRefs(activityId: a.id).all { await git.deleteRef(ref) }
            }
            return .json(.ok, s.render.activity(cancelled, canCancel: false))
        }
        try await s.store.requestCancel(activityId: a.id)
        let now = try await s.store.activity(id: a.id) ?? a
        return .json(.ok, s.render.activity(now, canCancel: false))
    }

    /// Streams `{"_id", "data": {"timestamp", "message"}}` lines while the activity runs, then the seal.
    static func log(_ req: APIRequest, _ s: ServerContext) async throws -> APIResponse {
        let (_, _, a, _) = try await load(req, s)
        let startAt = Int(req.queryValue("start_at") ?? "") ?? 0
        let store = s.store
        let body = ResponseBody { writer in
            var last: Int64 = -1
            var skipped = 0
            let deadline = ContinuousClock.now + .seconds(3600)
            while true {
                let version = store.changeVersion
                // Read the state before the items so nothing written just before completion is missed.
                let finished = (try await store.activity(id: a.id))?.state.isFinished ?? true
                let items = try await store.logItems(activityId: a.id, afterSeq: last)
                var buf = ByteBuffer()
                for item in items {
                    last = item.seq
                    if skipped < startAt { skipped += 1; continue }
                    let line = JSON.object(JSONObject([
                        ("_id", .string(item.itemId)),
                        ("data", .object(JSONObject([("timestamp", .string(item.timestamp)), ("message", .string(item.message))]))),
                    ]))
                    buf.writeString(line.serialized() + "\n")
                }
                if buf.readableBytes > 0 { try await writer.write(buf) }
                if finished || ContinuousClock.now > deadline { break }
                try await store.nextChange(after: version, settle: .milliseconds(50), fallback: .milliseconds(150))
            }
            var seal = ByteBuffer()
            seal.writeString(#"{"_id":"seal","seal":true}"# + "\n")
            try await writer.write(seal)
            try await writer.finish(nil)
        }
        return .stream(.ok, contentType: "application/x-ndjson", body)
    }
}
