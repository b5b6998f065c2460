/// The three environment types every project has.
public enum EnvironmentType: String, Codable, Sendable, CaseIterable {
    case production, staging, development
}

public enum ProjectRole: String, Codable, Sendable, CaseIterable {
    case admin, viewer
}

/// Roles on one environment type, ordered by what they allow.
public enum EnvironmentRole: String, Codable, Sendable, CaseIterable, Comparable {
    case viewer, contributor, admin

    private var rank: Int {
        switch self {
        case .viewer: return 0
        case .contributor: return 1
        case .admin: return 2
        }
    }
    public static func < (a: EnvironmentRole, b: EnvironmentRole) -> Bool { a.rank < b.rank }
}

/// Organization member permissions as the accounts API names them.
public enum OrganizationPermission: String, Codable, Sendable, CaseIterable {
    case admin
    case billing
    case members
    case plans
    case projectsCreate = "projects:create"
    case projectsList = "projects:list"
}

/// What one user may do in one project, from organization ownership/membership and project grants.
public struct ProjectAccessLevel: Sendable, Equatable {
    public var projectRole: ProjectRole?
    public var environmentTypeRoles: [EnvironmentType: EnvironmentRole]

    public init(projectRole: ProjectRole?, environmentTypeRoles: [EnvironmentType: EnvironmentRole] = [:]) {
        self.projectRole = projectRole
        self.environmentTypeRoles = environmentTypeRoles
    }

    public static let none = ProjectAccessLevel(projectRole: nil)

    public var canSeeProject: Bool { projectRole != nil || !environmentTypeRoles.isEmpty }
    public var isAdmin: Bool { projectRole == .admin }

    /// Project admins are admins of every environment type.
    public func role(on type: EnvironmentType) -> EnvironmentRole? {
        if projectRole == .admin { return .admin }
        return environmentTypeRoles[type]
    }

    public func allows(_ needed: EnvironmentRole, on type: EnvironmentType) -> Bool {
        guard let r = role(on: type) else { return false }
        return r >= needed
    }

    /// Combines grants from several sources, keeping the strongest of each.
    public func merged(with other: ProjectAccessLevel) -> ProjectAccessLevel {
        var out = self
        if other.projectRole == .admin || (out.projectRole == nil && other.projectRole != nil) { out.projectRole = other.projectRole }
        for (t, r) in other.environmentTypeRoles { out.environmentTypeRoles[t] = max(out.environmentTypeRoles[t] ?? r, r) }
        return out
    }

    /// Platform.sh's permission strings: `admin`, `viewer`, `{type}:{role}`.
    public var permissions: [String] {
        var out: [String] = []
        if let projectRole { out.append(projectRole.rawValue) }
        for t in EnvironmentType.allCases { if let r = environmentTypeRoles[t] { out.append("\(t.rawValue):\(r.rawValue)") } }
        return out
    }

    public static func parse(permissions: [String]) -> Result<ProjectAccessLevel, PermissionParseError> {
        var level = ProjectAccessLevel(projectRole: nil)
        for p in permissions {
            if let r = ProjectRole(rawValue: p) {
                level = level.merged(with: ProjectAccessLevel(projectRole: r))
                continue
            }
            let parts = p.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, let t = EnvironmentType(rawValue: parts[0]), let r = EnvironmentRole(rawValue: parts[1]) else {
                return .failure(PermissionParseError(permission: p))
            }
            level = level.merged(with: ProjectAccessLevel(projectRole: nil, environmentTypeRoles: [t: r]))
        }
        if level.projectRole == nil && !level.environmentTypeRoles.isEmpty { level.projectRole = .viewer }
        return .success(level)
    }
}

/// What a request asks to do in a project, for `ProjectAccessLevel.permits`.
public enum ProjectAction: Sendable, Equatable {
    /// See the project (some role on it).
    case view
    /// Project settings, access, integrations, certificates, project variables.
    case administer
    /// Act on environments of a type with at least this role (viewer: see; contributor: push, branch; admin: settings, actions).
    case environment(EnvironmentRole, EnvironmentType)
}

extension ProjectAccessLevel {
    /// The one authorization decision: whether this access allows `action`. Every project endpoint asks it.
    public func permits(_ action: ProjectAction) -> Bool {
        switch action {
        case .view: return canSeeProject
        case .administer: return isAdmin
        case .environment(let needed, let type): return allows(needed, on: type)
        }
    }

    /// The permissions after giving the project role `role` (admin replaces per-type roles, which it implies).
    public func withProjectRole(_ role: ProjectRole) -> [String] {
        role == .admin ? ["admin"] : ["viewer"] + environmentTypeRoles.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue):\($0.value.rawValue)" }
    }

    /// The permissions after setting (or, with nil, removing) the role on one environment type.
    public func withRole(_ role: EnvironmentRole?, on type: EnvironmentType) -> [String] {
        var roles = environmentTypeRoles
        roles[type] = role
        if projectRole == .admin { return ["admin"] }
        return ["viewer"] + roles.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue):\($0.value.rawValue)" }
    }
}

public struct PermissionParseError: Error, Sendable {
    public let permission: String
}
