import Foundation
import GroveModel
import GroveStore
import Testing

/// Reads of account records that answer for many at once: a user's organizations (by owner and membership, never by
/// scanning every tenant's) and the users of an access list.
@Suite("Account reads")
struct AccountStoreTests {
    @Test("a user's organizations are those it owns or belongs to, oldest first, and follow ownership and membership",
          arguments: Backend.allCases)
    func organizationsOfAUser(backend: Backend) async throws {
        let store = try await backend.openStore("organizations-of-user")
        defer { Task { await store.close() } }
        for (id, name) in [("olga", "olga"), ("dana", "dana"), ("sam", "sam")] {
            try await store.insertUser(User(id: id, username: name, email: "\(name)@example.com", createdAt: Timestamp.now()))
        }
        // Created one after another: the order is by creation.
        let first = Organization(id: "o1", name: "first", label: "First", ownerId: "olga", createdAt: "2026-01-01T00:00:01Z")
        let second = Organization(id: "o2", name: "second", label: "Second", ownerId: "dana", createdAt: "2026-01-01T00:00:02Z")
        var third = Organization(id: "o3", name: "third", label: "Third", ownerId: "sam", createdAt: "2026-01-01T00:00:03Z")
        for o in [third, second, first] { try await store.insertOrganization(o) }
        try await store.insertMember(OrganizationMember(id: "m1", organizationId: "o1", userId: "dana", permissions: [.projectsList], owner: false,
                                                        createdAt: Timestamp.now()))

        #expect(try await store.organizations(userId: "olga").map(\.id) == ["o1"])
        #expect(try await store.organizations(userId: "dana").map(\.id) == ["o1", "o2"])
        #expect(try await store.organizations(userId: "sam").map(\.id) == ["o3"])
        #expect(try await store.organizations(userId: "nobody").isEmpty)

        // Ownership moves with the record; a membership removed takes the organization away.
        third.ownerId = "dana"
        try await store.updateOrganization(third)
        #expect(try await store.organizations(userId: "dana").map(\.id) == ["o1", "o2", "o3"])
        #expect(try await store.organizations(userId: "sam").isEmpty)
        try await store.deleteMember(organizationId: "o1", userId: "dana")
        #expect(try await store.organizations(userId: "dana").map(\.id) == ["o2", "o3"])
    }

    @Test("the users of a list of ids in one read: the ones that exist, hostile ids matching nothing", arguments: Backend.allCases)
    func usersByIds(backend: Backend) async throws {
        let store = try await backend.openStore("users-by-ids")
        defer { Task { await store.close() } }
        for (id, name) in [("u1", "ann"), ("u2", "bob"), ("u3", "cy")] {
            try await store.insertUser(User(id: id, username: name, email: "\(name)@example.com", createdAt: Timestamp.now()))
        }
        #expect(try await store.users(ids: []).isEmpty)
        let found = try await store.users(ids: ["u3", "u1", "missing", "u1"])
        #expect(Set(found.keys) == ["u1", "u3"] && found["u3"]?.email == "cy@example.com")
        // Ids are data, not SQL or JSON: quotes, brackets and wildcards match nothing.
        #expect(try await store.users(ids: ["u1' OR '1'='1", "\"]", "%", "u2\u{0}"]).isEmpty)
        #expect(try await store.users(ids: (0..<500).map { "u\($0)" }).count == 3)
    }
}
