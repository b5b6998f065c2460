import Foundation
import GroveModel
import Testing

@Suite("Organizations and members")
struct OrganizationTests {
    @Test("create, look up by name, update, paginate, delete", arguments: Backend.allCases)
    func organizations(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let http = try await s.login()
        let created = try await http.post("/organizations", ["label": "Acme Corp"])
        #expect(created.status == 201)
        #expect(created.json["name"]?.stringValue == "acme-corp")
        let id = try #require(created.json["id"]?.stringValue)
        // Accounts resources link by path-absolute reference, as Platform.sh's accounts API does.
        #expect(created.json["_links"]?["self"]?["href"]?.stringValue == "/organizations/\(id)")
        #expect(try await http.post("/organizations", ["name": "acme-corp", "label": "Again"]).status == 409)
        #expect(try await http.get("/organizations/name%3Dacme-corp").json["id"]?.stringValue == id)
        #expect(try await http.patch("/organizations/\(id)", ["label": "Acme"]).json["label"]?.stringValue == "Acme")
        #expect(try await http.patch("/organizations/\(id)", ["name": "Bad Name"]).status == 400)

        let page1 = try await http.get("/organizations?page[size]=1")
        #expect(page1.json["items"]?.arrayValue?.count == 1)
        #expect(page1.json["count"]?.intValue == 2)
        let next = try #require(page1.json["_links"]?["next"]?["href"]?.stringValue)
        let page2 = try await http.get(next)
        #expect(page2.json["items"]?.arrayValue?.count == 1)
        #expect(page2.json["_links"]?["next"] == nil)
        #expect(page2.json["_links"]?["previous"] != nil)
        #expect(try await http.get("/organizations?filter[name]=acme-corp").json["items"]?.arrayValue?.count == 1)

        let uid = try #require(try await http.get("/users/me").json["id"]?.stringValue)
        #expect(try await http.get("/users/\(uid)/organizations").json["items"]?.arrayValue?.count == 2)
        #expect(try await http.delete("/organizations/\(id)").status == 204)
        #expect(try await http.get("/organizations/\(id)").status == 404)
    }

    @Test("members with permissions; non-members see nothing", arguments: Backend.allCases)
    func members(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let http = try await s.login()
        let org = try #require(try await http.get("/organizations").json["items"]?.arrayValue?.first?["id"]?.stringValue)
        let token = try s.createUser(email: "bob@example.com")
        let bob = try await s.login(token: token)
        let bobId = try #require(try await bob.get("/users/me").json["id"]?.stringValue)
        #expect(try await bob.get("/organizations/\(org)").status == 404)

        #expect(try await http.post("/organizations/\(org)/members", ["user_id": .string(bobId), "permissions": ["nonsense"]]).status == 400)
        let added = try await http.post("/organizations/\(org)/members", ["user_id": .string(bobId), "permissions": ["projects:list"]])
        #expect(added.status == 201)
        #expect(try await http.post("/organizations/\(org)/members", ["user_id": .string(bobId)]).status == 409)
        #expect(try await bob.get("/organizations/\(org)").status == 200)
        #expect(try await bob.post("/organizations/\(org)/subscriptions", ["project_title": "x"]).status == 403)
        let members = try await http.get("/organizations/\(org)/members").json["items"]?.arrayValue ?? []
        #expect(members.count == 2)
        let patched = try await http.patch("/organizations/\(org)/members/\(bobId)", ["permissions": ["projects:create", "projects:list"]])
        #expect(patched.json["permissions"]?.arrayValue?.count == 2)
        #expect(try await bob.post("/organizations/\(org)/subscriptions", ["project_title": "Bob's"]).status == 201)
        #expect(try await http.delete("/organizations/\(org)/members/\(bobId)").status == 204)
        #expect(try await bob.get("/organizations/\(org)").status == 404)
    }
}
