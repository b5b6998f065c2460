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
                try await store.insertActivity(delivery(type: "integration.\(i.type)", i, action: "sent \(a.type) (\(a.state.rawValue)) to the \(i.type) integration of",
                                                        parameters: [("activity", .string(a.id)), ("state", .string(a.state.rawValue))]))
            }
            if a.type == "environment.push", let source = a.parameters["source_integration"]?.stringValue,
               let commit = a.parameters["source_commit"]?.stringValue, let i = integrations.first(where: { $0.id == source }) {
                let state = a.state == .inProgress ? "pending" : a.state == .pending ? nil : (a.result == .success ? "success" : "failure")
                if let state {
                    try await store.insertActivity(delivery(type: "integration.\(i.type).status", i, action: "reported \(state) to \(i.type) for",
                                                            parameters: [("activity", .string(a.id)), ("commit", .string(commit)),
                                                                         ("status", .string(state)), ("environment", .string(a.environments.first ?? ""))]))
                }
            }
        } catch {
            logger.error("integration notifications for activity \(a.id) failed: \(error)")
        }
    }

    /// A project-level activity of integration `i` (its lane of its own), by Grove.
    func delivery(type: String, _ i: Integration, action: String, parameters: [(String, JSON)]) -> Activity {
        var params = JSONObject([("integration", .string(i.id))])
        for (k, v) in parameters { params[k] = v }
        return Activity(projectId: i.projectId, environments: [], type: type, userId: nil,
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

