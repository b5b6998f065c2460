import Foundation
import GroveModel
import HTTPTypes
import Hummingbird
import NIOCore

/// `/internal/git-hooks/{pre-receive,proc-receive}`: where a push's hooks (`grove internal:git-hook`) call
/// back. Authenticated by the push session token, which only exists while its receive-pack request runs.
struct PushHookHandler {
    let server: ServerContext
    static let prefix = "/internal/git-hooks/"
    static let tokenHeader = HTTPField.Name("X-Grove-Push-Token")

    func handle(_ request: Request) async throws -> Response {
        guard request.method == .post else { return json(.methodNotAllowed, ["error": "POST only"]) }
        guard let name = Self.tokenHeader, let token = request.headers[name], let session = server.pushSessions.session(token) else {
            return json(.forbidden, ["error": "no such push session"])
        }
        var req = request
        let body = try await req.collectBody(upTo: 16 << 20)
        guard case .object(let o) = try JSON.parse(Array(body.readableBytesView)) else { return json(.badRequest, ["error": "JSON object expected"]) }
        let updates: [PushService.Update] = (o["updates"]?.arrayValue ?? []).compactMap {
            guard let old = $0["old"]?.stringValue, let new = $0["new"]?.stringValue, let ref = $0["ref"]?.stringValue else { return nil }
            return PushService.Update(old: old, new: new, ref: ref)
        }
        let options = PushOptions((o["options"]?.arrayValue ?? []).compactMap(\.stringValue))
        let service = PushService(server: server, session: session)
        switch String(request.uri.path.dropFirst(Self.prefix.count)) {
        case "pre-receive":
            var objectEnv: [String: String] = [:]
            for (k, v) in o["object_environment"]?.objectValue ?? JSONObject() where k.hasPrefix("GIT_") {
                if let s = v.stringValue { objectEnv[k] = s }
            }
            let (ok, messages) = try await service.check(updates, options: options, objectEnvironment: objectEnv)
            return json(.ok, .object(JSONObject([("ok", .bool(ok)), ("messages", JSON(messages))])))
        case "proc-receive":
            // Branch updates are validated here, before anything moves (the objects are stored, unreferenced).
            let (ok, messages) = try await service.check(updates, options: options, objectEnvironment: [:])
            guard ok else {
                let refused = updates.map { PushService.Planned(ref: $0.ref, activity: nil,
                                                                 immediate: .failure(PushService.PushRefused(reason: "refused by Grove; see the messages above"))) }
                return follow(refused, noWait: true, preamble: messages)
            }
            let planned = try await service.plan(updates, options: options)
            await server.orchestrator?.nudge()
            return follow(planned, noWait: options.noWait || session.noWait, preamble: messages)
        default:
            return json(.notFound, ["error": "unknown hook"])
        }
    }

    /// Streams the activities' logs as `{"message"}` lines, then `{"results": [{ref, ok, reason}]}`.
    func follow(_ planned: [PushService.Planned], noWait: Bool, preamble: [String] = []) -> Response {
        let store = server.store
        let body = ResponseBody { writer in
            func send(_ j: JSON) async throws {
                var b = ByteBuffer()
                b.writeString(j.serialized() + "\n")
                try await writer.write(b)
            }
            for m in preamble { try await send(["message": .string(m)]) }
            var results: [JSON] = []
            for p in planned {
                if let immediate = p.immediate {
                    switch immediate {
                    case .success: results.append(["ref": .string(p.ref), "ok": true])
                    case .failure(let e): results.append(["ref": .string(p.ref), "ok": false, "reason": .string(e.reason)])
                    }
                    continue
                }
                guard let a = p.activity else { continue }
                if noWait {
                    try await send(["message": .string("Activity \(a.id) (\(a.type)) queued; not waiting for it (nowait).")])
                    results.append(["ref": .string(p.ref), "ok": true])
                    continue
                }
                var last: Int64 = -1
                let started = ContinuousClock.now
                let deadline = started + .seconds(3600)
                var final: Activity?
                var lastLine = ""
                while ContinuousClock.now < deadline {
                    let version = store.changeVersion
                    let current = try await store.activity(id: a.id)
                    for item in try await store.logItems(activityId: a.id, afterSeq: last) {
                        last = item.seq
                        let text = item.message.hasSuffix("\n") ? String(item.message.dropLast()) : item.message
                        if !text.isEmpty { lastLine = text }
                        try await send(["message": .string(text)])
                    }
                    if let current, current.state.isFinished { final = current; break }
                    if current == nil { break }
                    // Where the store cannot tell of changes: look often in the first second (most pushes finish
                    // within it), rarely later.
                    try await store.nextChange(after: version, fallback: .milliseconds(ContinuousClock.now < started + .seconds(1) ? 5 : 50))
                }
                if let final, final.result == .success {
                    results.append(["ref": .string(p.ref), "ok": true])
                } else {
                    let why = final == nil ? "timed out waiting for activity \(a.id)" : final?.state == .cancelled ? "activity \(a.id) was cancelled"
                        : "\(a.type) failed: \(lastLine)"
                    results.append(["ref": .string(p.ref), "ok": false, "reason": .string(String(why.prefix(200)))])
                }
            }
            try await send(["results": .array(results)])
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: body)
    }

    func json(_ status: HTTPResponse.Status, _ j: JSON) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: j.bytes)))
    }
}
