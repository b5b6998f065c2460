import Foundation
import GroveModel
import GroveOrchestrator
import GroveStore

/// Where Slack's and PagerDuty's APIs are (`grove serve --slack-api-url`, `--pagerduty-events-url`).
struct HealthEndpoints: Sendable {
    var slackAPI = "https://slack.com/api"
    var pagerDutyEvents = "https://events.pagerduty.com/v2/enqueue"
}

extension IntegrationRuntime {
    /// Queues one `integration.health.<channel>` activity per health integration of the event's project.
    func health(_ e: HealthEvent, store: any Store) async {
        do {
            for i in try await store.list(Integration.self, parent: e.projectId) where i.spec?.role == .health {
                let a = delivery(type: "integration.\(i.type)", i, action: "sent a health notification (\(e.kind.rawValue) on \(e.environmentId)) to the \(i.type) integration of",
                                 parameters: [("event", e.json), ("environment", .string(e.environmentId))])
                try await store.insertActivity(a)
            }
        } catch {
            logger.error("health notifications for \(e.projectId)/\(e.environmentId) failed: \(error)")
        }
    }
}

/// `integration.health.email|webhook|slack|pagerduty`: tells people that an environment is unwell.
struct HealthNotificationRunner: ActivityRunner {
    let runtime: IntegrationRuntime
    var resumable: Bool { true }

    func run(_ ctx: ActivityContext) async throws {
        guard let i = try await integration(of: ctx) else { return }
        let event = ctx.activity.parameters["event"] ?? .null
        let secrets = try IntegrationSecrets.open(ctx.store, i)
        let env = event["environment"]?.stringValue ?? "", project = event["project"]?.stringValue ?? ""
        let message = event["message"]?.stringValue ?? "Health notification"
        let summary = "[\(project)/\(env)] \(message)"
        switch i.type {
        case "health.email":
            var recipients: [String] = []
            for r in i.strings("recipients") {
                if r == "#admins" { recipients += try await admins(ctx.store, projectId: i.projectId) } else { recipients.append(r) }
            }
            guard !recipients.isEmpty else { try await ctx.log("No recipients."); return }
            let body = "\(message)\n\nProject: \(project)\nEnvironment: \(env)\nEvent: \(event["type"]?.stringValue ?? "")\nAt: \(event["created_at"]?.stringValue ?? "")\n\n"
                + "Console: \(runtime.publicURL.value)/console/projects/\(project)/environments/\(env)\n"
            var failures = 0
            for r in Set(recipients).sorted() {
                do {
                    try await runtime.mailer.deliver(to: r, subject: "Grove health: \(event["type"]?.stringValue ?? "") on \(env)", body: body,
                                                     from: i.string("from_address"))
                    try await ctx.log("Mailed \(r).")
                } catch {
                    failures += 1
                    try await ctx.log("Could not mail \(r): \(error)")
                }
            }
            if failures > 0 { throw ActivityFailure("\(failures) of \(Set(recipients).count) message(s) could not be sent.") }
        case "health.webhook":
            let body = event.bytes
            var headers: [(String, String)] = [("Content-Type", "application/json"), ("User-Agent", "Grove-Health")]
            if let key = secrets["shared_key"]?.stringValue { headers.append(("X-JWS-Signature", WebhookRunner.detachedJWS(body, key: key))) }
            try await deliver(ctx, runtime: runtime, url: i.string("url") ?? "", headers: headers, body: body, what: "the health notification")
        case "health.slack":
            let body: JSON = ["channel": .string(i.string("channel") ?? ""), "text": .string(":rotating_light: " + summary)]
            try await deliver(ctx, runtime: runtime, url: runtime.health.slackAPI + "/chat.postMessage",
                              headers: [("Content-Type", "application/json; charset=utf-8"), ("Authorization", "Bearer " + (secrets["token"]?.stringValue ?? ""))],
                              body: body.bytes, what: "the Slack message")
        case "health.pagerduty":
            let body: JSON = ["routing_key": .string(i.string("routing_key") ?? ""), "event_action": "trigger",
                              "dedup_key": .string("\(project)/\(env)/\(event["subject"]?.stringValue ?? "")/\(event["type"]?.stringValue ?? "")"),
                              "payload": ["summary": .string(summary), "source": .string("\(project)/\(env)"),
                                          "severity": .string(event["severity"]?.stringValue ?? "error"),
                                          "component": event["subject"] ?? .null, "custom_details": event]]
            try await deliver(ctx, runtime: runtime, url: runtime.health.pagerDutyEvents, headers: [("Content-Type", "application/json")],
                              body: body.bytes, what: "the PagerDuty event")
        default:
            throw ActivityFailure("\(i.type) is not a health channel.")
        }
    }

    /// The project's administrators' addresses: its owner and users granted `admin`.
    func admins(_ store: any Store, projectId: String) async throws -> [String] {
        var ids = Set<String>()
        if let p = try await store.project(id: projectId) { ids.insert(p.ownerId) }
        for g in try await store.grants(projectId: projectId) where g.permissions.contains("admin") { ids.insert(g.userId) }
        var out: [String] = []
        for id in ids.sorted() { if let u = try await store.user(id: id) { out.append(u.email) } }
        return out
    }
}
