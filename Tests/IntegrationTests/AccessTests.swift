import Foundation
import GroveModel
import Testing

@Suite("Roles")
struct AccessTests {
    @Test("project and environment-type roles decide what is visible and allowed", arguments: Backend.allCases)
    func roles(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let admin = try await s.login()
        let pid = try #require(try await s.createProject(admin)["id"]?.stringValue)
        let b = try await admin.post("/projects/\(pid)/environments/main/branch", ["name": "dev"])
        _ = try await waitForActivity(admin, try #require(b.json["_embedded"]?["activities"]?.arrayValue?.first))

        let token = try s.createUser(email: "carol@example.com")
        let carol = try await s.login(token: token)
        #expect(try await carol.get("/projects/\(pid)").status == 404)
        // Another tenant cannot tear the project down or touch its certificates; no teardown is queued.
        #expect(try await carol.delete("/projects/\(pid)").status == 404)
        #expect(try await carol.delete("/projects/\(pid)/certificates/anything").status == 404)
        let queued = (try await admin.get("/projects/\(pid)/activities").json.arrayValue ?? []).map { $0["type"]?.stringValue }
        #expect(!queued.contains("project.delete") && !queued.contains("project.certificate.refresh"), "\(queued)")

        let (st, g) = try s.admin(["admin:grant", "-p", pid, "--email", "carol@example.com", "--permission", "viewer",
                                    "--permission", "production:viewer", "--permission", "development:contributor"])
        #expect(st == 0, "\(g)")
        let p = try await carol.get("/projects/\(pid)")
        #expect(p.status == 200)
        #expect(p.json["_links"]?["#edit"] == nil)
        #expect(try await carol.patch("/projects/\(pid)", ["title": "mine"]).status == 403)
        #expect(try await carol.delete("/projects/\(pid)").status == 403, "a viewer cannot delete the project")
        #expect(try await admin.get("/projects/\(pid)").status == 200)
        let main = try await carol.get("/projects/\(pid)/environments/main").json
        #expect(main["_links"]?["#branch"] == nil)
        #expect(main["_links"]?["#edit"] == nil)
        #expect(try await carol.post("/projects/\(pid)/environments/main/branch", ["name": "x"]).status == 403)
        #expect(try await carol.patch("/projects/\(pid)/environments/main", ["title": "x"]).status == 403)
        let dev = try await carol.get("/projects/\(pid)/environments/dev").json
        #expect(dev["_links"]?["#branch"] != nil)
        #expect(try await carol.post("/projects/\(pid)/environments/dev/variables", ["name": "A", "value": "b"]).status == 403)
        #expect(try await carol.post("/projects/\(pid)/variables", ["name": "A", "value": "b"]).status == 403)
        let child = try await carol.post("/projects/\(pid)/environments/dev/branch", ["name": "dev2"])
        #expect(child.status == 201)

        // Without a staging role, staging environments do not exist for carol.
        let st2 = try await admin.post("/projects/\(pid)/environments/main/branch", ["name": "stage", "type": "staging"])
        _ = try await waitForActivity(admin, try #require(st2.json["_embedded"]?["activities"]?.arrayValue?.first))
        #expect(try await carol.get("/projects/\(pid)/environments/stage").status == 404)
        let names = Set(try await carol.get("/projects/\(pid)/environments").json.arrayValue?.compactMap { $0["id"]?.stringValue } ?? [])
        #expect(names == ["main", "dev", "dev2"])
        let types = try await carol.get("/projects/\(pid)/activities").json.arrayValue ?? []
        #expect(!types.contains { $0["environments"]?.arrayValue?.first?.stringValue == "stage" })

        // A grant made by another process (straight on the store) shows up in answers served before it.
        let (st3, g3) = try s.admin(["admin:grant", "-p", pid, "--email", "carol@example.com", "--permission", "viewer",
                                      "--permission", "production:viewer", "--permission", "development:contributor", "--permission", "staging:viewer"])
        #expect(st3 == 0, "\(g3)")
        try await waitFor {
            let ids = try await carol.get("/projects/\(pid)/environments").json.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            return ids.contains("stage")
        }
        #expect(try await carol.get("/projects/\(pid)/environments/stage").status == 200)
    }
}
