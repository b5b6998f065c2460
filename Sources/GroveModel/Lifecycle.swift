/// Environment status as the API reports it.
public enum EnvironmentStatus: String, Codable, Sendable, CaseIterable {
    case active, inactive, dirty, paused, deleting
}

public enum ActivityState: String, Codable, Sendable, CaseIterable {
    case pending, scheduled
    case inProgress = "in_progress"
    case complete, cancelled, staged

    public var isFinished: Bool { self == .complete || self == .cancelled }
    public var isCancellable: Bool { self == .pending || self == .inProgress || self == .scheduled }
}

public enum ActivityResult: String, Codable, Sendable, CaseIterable {
    case success, failure
}

/// The actions an environment exposes as HAL links (`#branch`, `#activate`, ...).
public enum EnvironmentAction: String, Sendable, CaseIterable {
    case edit, delete, branch, activate, deactivate, merge, synchronize, backup, redeploy, pause, resume, initialize
    case maintenanceRedeploy = "maintenance-redeploy"

    /// The role needed on the environment's type.
    public var requiredRole: EnvironmentRole {
        switch self {
        case .branch: return .contributor
        default: return .admin
        }
    }
}

/// Which lifecycle actions make sense for an environment in its current state, ignoring who asks.
public enum EnvironmentRules {
    public static func stateAllows(_ action: EnvironmentAction, environment e: Environment, isDefault: Bool, hasRunningActivity: Bool) -> Bool {
        if e.status == .deleting { return false }
        switch action {
        case .edit: return true
        case .delete: return !isDefault && e.status == .inactive
        case .branch: return e.status == .active && !hasRunningActivity
        case .activate: return e.status == .inactive
        case .deactivate: return !isDefault && (e.status == .active || e.status == .paused)
        case .merge: return e.parent != nil && e.status == .active
        case .synchronize: return e.parent != nil && e.status == .active
        case .backup: return e.status == .active || e.status == .paused
        case .redeploy, .maintenanceRedeploy: return e.status == .active
        // The first code of a project: only its default environment, only before anything was pushed.
        case .initialize: return isDefault && e.headCommit == nil && e.status != .paused && !hasRunningActivity
        case .pause: return !isDefault && e.status == .active
        case .resume: return e.status == .paused
        }
    }

    public static func allowed(_ action: EnvironmentAction, environment e: Environment, isDefault: Bool, hasRunningActivity: Bool,
                               access: ProjectAccessLevel) -> Bool {
        access.permits(.environment(action.requiredRole, e.type))
            && stateAllows(action, environment: e, isDefault: isDefault, hasRunningActivity: hasRunningActivity)
    }
}
