import Crypto
import Foundation
import GroveDriver
import GroveGit
import GroveModel
import GroveOrchestrator
import GroveStore
import Logging

/// What the worker's integration runners share: where requests may go, how activities are rendered for receivers,
/// and the public URL providers and receivers see.
struct IntegrationRuntime: Sendable {
    let repositories: Repositories
    let outbound: OutboundPolicy
    let publicURL: PublicURL
    let mailer: Mailer
    let logger: Logger
    /// Seconds between webhook attempts (the first is immediate).
    var retryDelays: [Double] = [1, 5, 25]
    var health = HealthEndpoints()
    var providers = SourceProvider.Endpoints()
    /// Where activity scripts run (the worker's application runtime) and where their files are prepared.
    var apps: (any AppRuntime)?
    var scriptDirectory = "/tmp"

    var render: Renderer { publicURL.renderer }

    /// The runners of every integration activity type.
    func runners() -> [String: any ActivityRunner] {
        var r: [String: any ActivityRunner] = [:]
        for t in IntegrationSpec.all where t.role == .source {
            r["integration.\(t.type).fetch"] = SourceSyncRunner(runtime: self)
            r["integration.\(t.type).status"] = CommitStatusRunner(runtime: self)
        }
        r["integration.webhook"] = WebhookRunner(runtime: self)
        r["integration.script"] = ScriptRunner(runtime: self)
        for t in IntegrationSpec.all where t.role == .health { r["integration.\(t.type)"] = HealthNotificationRunner(runtime: self) }
        return r
    }

    /// Queues the deliveries an activity's change calls for: webhooks and scripts whose filters match, and the commit
    /// status of a push that came from a source integration. Called by the orchestrator as activities start and end.
    func observe(_ a: Activity, store: any Store) async {
        guard !a.type.hasPrefix("integration.") else { return }
        do {
            let integrations = try await store.list(Integration.self, parent: a.projectId)
            guard !integrations.isEmpty else { return }
            for i in integrations where i.spec?.role == .webhook || i.spec?.role == .script {
                guard IntegrationActivityFilter(i).matches(a) else { continue }
                try await store.insertActivity(delivery(type: "integration.\(i.type)", i, a, action: "sent \(a.type) (\(a.state.rawValue)) to the \(i.type) integration of",
                                                        parameters: [("activity", .string(a.id)), ("state", .string(a.state.rawValue))]))
            }
            if a.type == "environment.push", let source = a.parameters["source_integration"]?.stringValue,
               let commit = a.parameters["source_commit"]?.stringValue, let i = integrations.first(where: { $0.id == source }) {
                let state = a.state == .inProgress ? "pending" : a.state == .pending ? nil : (a.result == .success ? "success" : "failure")
                if let state {
                    try await store.insertActivity(delivery(type: "integration.\(i.type).status", i, a, action: "reported \(state) to \(i.type) for",
                                                            parameters: [("activity", .string(a.id)), ("commit", .string(commit)),
                                                                         ("status", .string(state)), ("environment", .string(a.environments.first ?? ""))]))
                }
            }
        } catch {
            logger.error("integration notifications for activity \(a.id) failed: \(error)")
        }
    }

    func delivery(type: String, _ i: Integration, _ a: Activity, action: String, parameters: [(String, JSON)]) -> Activity {
        var params = JSONObject([("integration", .string(i.id))])
        for (k, v) in parameters { params[k] = v }
        return Activity(projectId: a.projectId, environments: [], type: type, userId: nil,
                        description: "Grove \(html(action)) the project", text: "Grove \(action) the project",
                        parameters: .object(params), seq: SequenceClock.shared.next(), createdAt: Timestamp.now())
    }
}

/// Reads the integration an integration activity names; nil (logged) when it was removed since.
func integration(of ctx: ActivityContext) async throws -> Integration? {
    guard let id = ctx.activity.parameters["integration"]?.stringValue, let i = try await ctx.store.get(Integration.self, id: id) else {
        try await ctx.log("The integration was removed; nothing to do.")
        return nil
    }
    return i
}

/// `integration.webhook`: POSTs the activity, as the API renders it, to the integration's URL; signed with the shared
/// key as a detached JWS (RFC 7797, `X-JWS-Signature`) when one is set; retried with backoff; each attempt logged.
struct WebhookRunner: ActivityRunner {
    let runtime: IntegrationRuntime
    var resumable: Bool { true }

    func run(_ ctx: ActivityContext) async throws {
        guard let i = try await integration(of: ctx) else { return }
        guard let sourceId = ctx.activity.parameters["activity"]?.stringValue, let source = try await ctx.store.activity(id: sourceId) else {
            try await ctx.log("The activity to send no longer exists.")
            return
        }
        let body = runtime.render.activity(source, canCancel: false).bytes
        var headers: [(String, String)] = [("Content-Type", "application/json"), ("User-Agent", "Grove-Webhook"),
                                           ("X-Grove-Activity", source.id), ("X-Grove-Delivery", ctx.activity.id)]
        if let key = try IntegrationSecrets.open(ctx.store, i)["shared_key"]?.stringValue {
            headers.append(("X-JWS-Signature", Self.detachedJWS(body, key: key)))
        }
        try await deliver(ctx, runtime: runtime, url: i.string("url") ?? "", headers: headers, body: body, what: "\(source.type) (\(source.state.rawValue))")
    }

    /// `base64url(header)..base64url(HMAC-SHA256(key, base64url(header) + "." + payload))` with an unencoded payload.
    static func detachedJWS(_ payload: [UInt8], key: String) -> String {
        let header = base64url(Array(#"{"alg":"HS256","b64":false,"crit":["b64"]}"#.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Array(header.utf8) + [UInt8(ascii: ".")] + payload, using: SymmetricKey(data: Data(key.utf8)))
        return header + ".." + base64url(Array(mac))
    }

    static func base64url(_ b: [UInt8]) -> String {
        Data(b).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}

/// Sends one request with retries, logging each attempt; fails the activity when every attempt failed.
func deliver(_ ctx: ActivityContext, runtime: IntegrationRuntime, url: String, headers: [(String, String)], body: [UInt8], what: String) async throws {
    let delays = [0] + runtime.retryDelays
    for (n, delay) in delays.enumerated() {
        if delay > 0 {
            try await ctx.log("Retrying in \(Int(delay)) s.")
            try await Task.sleep(for: .milliseconds(Int(delay * 1000)))
        }
        try await ctx.checkCancelled()
        let started = ContinuousClock.now
        do {
            let r = try await OutboundHTTP.send(url: url, headers: headers, body: body, policy: runtime.outbound)
            let ms = Int((ContinuousClock.now - started) / .milliseconds(1))
            if r.ok {
                try await ctx.log("Sent \(what) to \(url): HTTP \(r.status) in \(ms) ms (attempt \(n + 1)).")
                return
            }
            try await ctx.log("Attempt \(n + 1): \(url) answered HTTP \(r.status): \(r.text.prefix(200))")
            // A refusal of the request itself will not change by retrying.
            if (400..<500).contains(r.status) && r.status != 408 && r.status != 429 { break }
        } catch let e as OutboundHTTP.Failure {
            try await ctx.log("Attempt \(n + 1): \(e.description)")
            if e.description.contains("--allow-private-targets") || e.description.contains("not an http") { break }
        }
    }
    throw ActivityFailure("\(url) did not accept \(what).")
}

/// `integration.<provider>.status`: sets the commit status of a push that came from the provider.
struct CommitStatusRunner: ActivityRunner {
    let runtime: IntegrationRuntime
    var resumable: Bool { true }

    func run(_ ctx: ActivityContext) async throws {
        guard let i = try await integration(of: ctx) else { return }
        let p = ctx.activity.parameters
        guard let commit = p["commit"]?.stringValue, let state = p["status"]?.stringValue else { return }
        let env = p["environment"]?.stringValue ?? ""
        let target = runtime.publicURL.value + "/console/projects/\(i.projectId)/environments/\(env)"
        let description = state == "pending" ? "Grove is deploying \(env)" : state == "success" ? "Deployed to \(env)" : "The deployment of \(env) failed"
        guard let request = SourceProvider.statusRequest(i, commit: commit, state: state, targetURL: target, description: description,
                                                         endpoints: runtime.providers) else { return }
        let credentials: (git: String?, api: [(String, String)])
        do {
            credentials = try await SourceProvider.credentials(i, try IntegrationSecrets.open(ctx.store, i), endpoints: runtime.providers, policy: runtime.outbound)
        } catch { throw ActivityFailure("\(error)") }
        try await deliver(ctx, runtime: runtime, url: request.url, headers: credentials.api, body: request.body.bytes, what: "the \(state) status of \(commit.prefix(7))")
    }
}
