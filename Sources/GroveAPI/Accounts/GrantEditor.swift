import Foundation
import GroveModel
import GroveStore

/// Every change to a user's project grant goes through here, whichever endpoint asked: the project ACL, the
/// environment-type ACL (and its deprecated per-environment alias), user-access and project-access.
struct GrantEditor {
    let s: ServerContext
    let project: Project

    /// `permissions` as sent: a non-empty list of `admin`, `viewer` or `{type}:{role}`.
    static func permissions(_ value: JSON?, field: String = "permissions") throws -> [String] {
        guard let list = value?.arrayValue, !list.isEmpty else { throw APIError.badRequest("must be a non-empty list of permissions", field: field) }
        // Strings (`admin`, `development:contributor`) or the document's objects (`{"type": "development", "role": "contributor"}`).
        let strings = try list.map { v -> String in
            if let p = v.stringValue { return p }
            if let role = v["role"]?.stringValue {
                guard let type = v["type"]?.stringValue else { return role }
                return type + ":" + role
            }
            throw APIError.badRequest("must hold permission strings or {type, role} objects", field: field)
        }
        if case .failure(let e) = ProjectAccessLevel.parse(permissions: strings) {
            throw APIError.badRequest("'\(e.permission)' is not a permission: use admin, viewer, or {production|staging|development}:{admin|contributor|viewer}", field: field)
        }
        return strings
    }

    /// The user an ACL body names by `user` (id) or `email`.
    func user(in body: JSONObject) async throws -> User {
        if let id = body["user"]?.stringValue ?? body["user_id"]?.stringValue {
            guard let u = try await s.store.user(id: id) else { throw APIError.notFound("User \(id)") }
            return u
        }
        guard let email = body["email"]?.stringValue, !email.isEmpty else { throw APIError.badRequest("is required (or email)", field: "user") }
        guard let u = try await s.store.user(email: email) else {
            throw APIError.notFound("No user has the email \(email); invite them with POST /projects/\(project.id)/invitations")
        }
        return u
    }

    /// The direct grants, with the organization's owner first as an admin (whether or not they hold a grant).
    func entries() async throws -> [ProjectGrant] {
        var grants = try await s.store.grants(projectId: project.id)
        if let org = try await s.store.organization(id: project.organizationId) {
            if let i = grants.firstIndex(where: { $0.userId == org.ownerId }) {
                var g = grants.remove(at: i)
                g.permissions = ["admin"]
                grants.insert(g, at: 0)
            } else {
                grants.insert(ProjectGrant(projectId: project.id, userId: org.ownerId, permissions: ["admin"], grantedAt: project.createdAt), at: 0)
            }
        }
        return grants
    }

    func entry(_ userId: String) async throws -> ProjectGrant? { try await entries().first { $0.userId == userId } }

    /// Sets the user's direct grant (nil removes it). The organization's owner is always a project admin, so a
    /// project never lacks one: a grant that would make the owner less than admin is refused.
    func set(userId: String, permissions: [String]?) async throws {
        guard let org = try await s.store.organization(id: project.organizationId) else { throw APIError.notFound("Organization \(project.organizationId)") }
        if org.ownerId == userId, try permissions.map({ try !ProjectAccessLevel.parse(permissions: $0).get().isAdmin }) ?? true {
            throw APIError.badRequest("\(userId) owns the organization and so is always a project admin: the owner cannot be removed or made less than admin.")
        }
        let now = Timestamp.now()
        if let permissions {
            var g = try await s.store.grant(projectId: project.id, userId: userId) ?? ProjectGrant(projectId: project.id, userId: userId, permissions: [], grantedAt: now)
            g.permissions = permissions
            g.updatedAt = now
            try await s.store.putGrant(g)
        } else {
            try await s.store.deleteGrant(projectId: project.id, userId: userId)
        }
    }
}
