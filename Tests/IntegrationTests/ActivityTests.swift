import Foundation
import GroveModel
import Testing

@Suite("Activities")
struct ActivityTests {
    @Test("lists filter by type, state and environment; logs stream NDJSON and end with the seal", arguments: Backend.allCases)
    func listAndLog(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let http = try await s.login()
        let pid = try #require(try await s.createProject(http)["id"]?.stringValue)
        let b = try await http.post("/projects/\(pid)/environments/main/branch", ["name": "dev"])
        let act = try #require(b.json["_embedded"]?["activities"]?.arrayValue?.first)
        _ = try await waitForActivity(http, act)

        let all = try await http.get("/projects/\(pid)/activities").json.arrayValue ?? []
        #expect(all.count == 2)
        #expect(all.first?["type"]?.stringValue == "environment.branch")  // newest first
        #expect(try await http.get("/projects/\(pid)/activities?type=project.create").json.arrayValue?.count == 1)
        #expect(try await http.get("/projects/\(pid)/activities?state=pending").json.arrayValue?.count == 0)
        #expect(try await http.get("/projects/\(pid)/activities?result=success&count=1").json.arrayValue?.count == 1)
        #expect(try await http.get("/projects/\(pid)/environments/dev/activities").json.arrayValue?.count == 1)
        #expect(try await http.get("/projects/\(pid)/activities?state=bogus").status == 400)
        #expect(try await http.get("/projects/\(pid)/activities?count=0").status == 400)
        let first = try #require(all.last?["created_at"]?.stringValue)
        #expect(try await http.get("/projects/\(pid)/activities?starts_at=\(first.replacingOccurrences(of: "+", with: "%2B"))").json.arrayValue?.count == 1)

        let one = try await http.get(try #require(act["_links"]?["self"]?["href"]?.stringValue)).json
        #expect(one["completion_percent"]?.intValue == 100)
        #expect(one["state"]?.stringValue == "complete")
        #expect(one["started_at"] != .null && one["completed_at"] != .null)
        #expect(one["log"]?.stringValue?.contains("Creating environment dev") == true)
        let log = try await http.get(try #require(one["_links"]?["log"]?["href"]?.stringValue))
        let lines = log.text.split(separator: "\n").compactMap { try? JSON.parse(String($0)) }
        #expect(lines.last?["seal"]?.boolValue == true)
        #expect(lines.dropLast().allSatisfy { $0["_id"]?.stringValue != nil && $0["data"]?["message"]?.stringValue != nil && $0["data"]?["timestamp"] != nil })
        // Finished activities cannot be cancelled, and say so.
        let cancel = try await http.post("/projects/\(pid)/activities/\(one["id"]?.stringValue ?? "")/cancel")
        #expect(cancel.status == 400)
        #expect(cancel.json["message"]?.stringValue?.contains("can no longer be cancelled") == true)
        #expect(try await http.get("/projects/\(pid)/activities/nope").status == 404)
    }

}

@Suite("Activity queue lanes")
struct ActivityQueueSerialTests {
    /// Seconds since the epoch of an API timestamp (`2026-12-01T15:40:05.683123+00:00`).
    static func seconds(_ t: String?) -> Double? {
        guard let t, t.count >= 26, let base = ISO8601DateFormatter().date(from: String(t.prefix(19)) + "Z"),
              let micros = Double(t.dropFirst(20).prefix(6)) else { return nil }
        return base.timeIntervalSince1970 + micros / 1_000_000
    }

    @Test("variable activities queued on an environment never hold a push behind them")
    func recordsDoNotHoldPushes() async throws {
        // Each activity step takes half a second, so the variable activities are certainly still queued when the
        // push arrives; what is checked is order, not speed (bench/activities.sh measures the lanes).
        let s = try await TestServer.start(.sqlite, stepDelayMs: 500)
        defer { s.stopNow() }
        let (http, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        var records: [JSON] = []
        for i in 0..<8 {
            let r = try await http.post("/projects/\(pid)/environments/main/variables", ["name": .string("V\(i)"), "value": "x"])
            records.append(try #require(r.json["_embedded"]?["activities"]?.arrayValue?.first))
        }
        try tree.commit(["index.html": "hi\n"])
        let (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        let pushes = try await http.get("/projects/\(pid)/environments/main/activities?type=environment.push").json.arrayValue ?? []
        let push = try #require(pushes.first)
        var done: [JSON] = []
        for a in records { done.append(try await waitForActivity(http, a)) }
        #expect(done.allSatisfy { $0["result"] == "success" })
        let lastRecordDone = try #require(Self.seconds(done.last?["completed_at"]?.stringValue))
        let pushStarted = try #require(Self.seconds(push["started_at"]?.stringValue))
        #expect(pushStarted < lastRecordDone, "the push started at \(pushStarted), after the queued variables (\(lastRecordDone))")
        // The records themselves still ran one after another, in the order they were asked for.
        let starts = done.compactMap { Self.seconds($0["started_at"]?.stringValue) }
        #expect(starts == starts.sorted() && starts.count == records.count)
    }

    @Test("queued activities run in order per environment; pending ones cancel; the log streams live", arguments: Backend.allCases)
    func queueAndCancel(backend: Backend) async throws {
        let s = try await TestServer.start(backend, stepDelayMs: 1000)
        defer { s.stopNow() }
        let http = try await s.login()
        let pid = try #require(try await s.createProject(http)["id"]?.stringValue)
        let v = "/projects/\(pid)/environments/main/variables"
        var acts: [JSON] = []
        for i in 0..<3 {
            let r = try await http.post(v, ["name": .string("V\(i)"), "value": "x"])
            acts.append(try #require(r.json["_embedded"]?["activities"]?.arrayValue?.first))
        }
        // The third waits behind two others (seconds of work), so it is still pending: cancel it at once.
        let cancelled = try await http.post(try #require(acts[2]["_links"]?["#cancel"]?["href"]?.stringValue))
        #expect(cancelled.status == 200)
        // Follow the first activity's log while it runs: it must end with the seal after the activity completes.
        let logHref = try #require(acts[0]["_links"]?["log"]?["href"]?.stringValue)
        let log = try await http.get(logHref)
        #expect(log.text.contains("Variable V0 created."))
        #expect(log.text.hasSuffix("{\"_id\":\"seal\",\"seal\":true}\n"))
        let c = try await waitForActivity(http, acts[2])
        #expect(c["state"]?.stringValue == "cancelled")
        #expect(c["result"]?.stringValue == "failure")
        let a0 = try await waitForActivity(http, acts[0])
        let a1 = try await waitForActivity(http, acts[1])
        #expect(a0["result"]?.stringValue == "success" && a1["result"]?.stringValue == "success")
        // One at a time on one environment: the second started after the first completed.
        #expect((a1["started_at"]?.stringValue ?? "") >= (a0["completed_at"]?.stringValue ?? "~"))
    }
}
