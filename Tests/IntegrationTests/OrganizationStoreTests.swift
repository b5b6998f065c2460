import Foundation
import GroveModel
import GroveStore
import Testing

/// `/me`, `/organizations` and every project list start from the caller's organizations: read by owner and
/// membership, never by scanning every tenant's.
@Suite("Organizations of a user")
struct OrganizationStoreTests {
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
}
