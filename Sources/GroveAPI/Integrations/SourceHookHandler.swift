import Foundation
import GroveModel
import GroveStore
import HTTPTypes

/// A provider delivery seen once: a second delivery with the same id is a replay and is refused.
struct HookDelivery: DocumentRecord, Equatable {
    static let kind = "hook-delivery"
    var id: String
    var integrationId: String
    var createdAt: String
    var documentId: String { id }
    var documentParent: String { integrationId }
    var documentRef: String { "" }
}

/// `POST /integrations/{integrationId}/hook`: where GitHub, GitLab and Bitbucket send pushes and pull requests.
/// No bearer token: the delivery proves itself with the integration's hook secret (HMAC signature or token header),
/// and its delivery id may be used once. A genuine event becomes an `integration.<type>.fetch` activity.
enum SourceHookHandler {
    static func register(_ r: inout Routes, _ s: ServerContext) {
        r.add("receive-integration-hook") { req in
            let id = req.param("integrationId")
            guard let i = try await s.store.get(Integration.self, id: id), i.spec?.role == .source,
                  let project = try await s.store.project(id: i.projectId) else { throw APIError.notFound("Integration \(id)") }
            let headers = { (name: String) -> String? in HTTPField.Name(name).flatMap { req.headers[$0] } }
            let deliveryId: String
            do {
                deliveryId = try SourceProvider.verify(i.type, secret: try IntegrationSecrets.hookSecret(s.store, i), headers: headers, body: req.body)
            } catch let refusal as HookRefusal {
                s.logger.warning("refused a \(i.type) delivery", metadata: ["integration": "\(i.id)", "project": "\(i.projectId)", "reason": "\(refusal)"])
                throw APIError.unauthorized("The delivery is not signed with this integration's hook secret.")
            }
            do {
                try await s.store.insert(HookDelivery(id: "\(i.id):\(deliveryId)", integrationId: i.id, createdAt: Timestamp.now()))
            } catch StoreError.conflict {
                s.logger.warning("refused a replayed \(i.type) delivery", metadata: ["integration": "\(i.id)", "delivery": "\(deliveryId)"])
                throw APIError.unauthorized("This delivery (\(deliveryId)) was already received.")
            }
            // Delivery ids are remembered for a week (providers redeliver for a few days); a replay after that only makes
            // Grove fetch the provider's current branches again, never an old commit.
            if Int.random(in: 0..<50) == 0 { await forgetOldDeliveries(s, i) }
            let event: SourceEvent?
            do { event = try SourceProvider.parse(i.type, headers: headers, body: req.body) } catch {
                throw APIError.badRequest("\(error)")
            }
            guard let event, event.kind != .ping else {
                return .json(.ok, .object(JSONObject([("status", "ignored"), ("code", 200),
                                                      ("message", .string(event == nil ? "Nothing to do for this event." : "Pong."))])))
            }
            var params = event.parameters
            params["integration"] = .string(i.id)
            let what = event.kind == .push ? "a push to \(event.branch ?? "?")" : "pull request #\(event.number ?? 0) (\(event.action?.rawValue ?? ""))"
            let a = s.makeActivity(type: "integration.\(i.type).fetch", project: project, environment: nil, user: nil,
                                   action: "received \(what) from \(i.type) for", parameters: params)
            try await s.store.insertActivity(a)
            await s.orchestrator?.nudge()
            return .json(.accepted, .object(JSONObject([("status", "accepted"), ("code", 202), ("message", .string(a.id))])))
        }
    }

    static func forgetOldDeliveries(_ s: ServerContext, _ i: Integration) async {
        let cutoff = Timestamp.format(Date().addingTimeInterval(-7 * 86400))
        for d in (try? await s.store.list(HookDelivery.self, parent: i.id)) ?? [] where d.createdAt < cutoff {
            try? await s.store.delete(HookDelivery.self, id: d.id)
        }
    }
}
