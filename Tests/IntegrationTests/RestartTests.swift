import Foundation
import GroveModel
import Testing

@Suite("Restarts")
struct RestartSerialTests {
    @Test("a restart in the middle of queued activities loses none of them", arguments: Backend.allCases)
    func restartWithQueue(backend: Backend) async throws {
        let s = try await TestServer.start(backend, stepDelayMs: 1000)
        defer { s.stopNow() }
        var http = try await s.login()
        let pid = try #require(try await s.createProject(http)["id"]?.stringValue)
        var ids: [String] = []
        for i in 0..<4 {
            let r = try await http.post("/projects/\(pid)/environments/main/variables", ["name": .string("R\(i)"), "value": "x"])
            ids.append(try #require(r.json["_embedded"]?["activities"]?.arrayValue?.first?["id"]?.stringValue))
        }
        // Stop once the queue has started: the first activity runs (or ran), the later ones wait behind it.
        try await waitFor { try await http.get("/projects/\(pid)/activities/\(ids[0])").json["state"]?.stringValue != "pending" }
        #expect(try await http.get("/projects/\(pid)/activities/\(ids[3])").json["state"]?.stringValue == "pending")
        await s.stop()
        try await s.launch()
        http = try await s.login()
        var finals: [JSON] = []
        for id in ids {
            var a: JSON = .null
            try await waitFor(timeout: 60) {
                a = try await http.get("/projects/\(pid)/activities/\(id)").json
                return a["state"]?.stringValue == "complete"
            }
            finals.append(a)
        }
        #expect(finals.allSatisfy { $0["result"]?.stringValue == "success" })
        // The activity running at the stop was interrupted and ran again.
        #expect(finals.contains { $0["log"]?.stringValue?.contains("server restarted") == true })
        for (a, b) in zip(finals, finals.dropFirst()) {
            #expect((b["started_at"]?.stringValue ?? "") >= (a["completed_at"]?.stringValue ?? "~"))
        }
        // A second start on the same data creates nothing new.
        #expect(try await http.get("/organizations").json["items"]?.arrayValue?.count == 1)
        #expect(s.output.contains("First start") == false)
    }
}
