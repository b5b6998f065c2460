import Crypto
import Foundation
import GroveModel
import GroveOrchestrator
import GroveStore

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

