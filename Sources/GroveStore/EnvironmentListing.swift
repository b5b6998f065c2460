import GroveModel

/// What a project's environment list renders from: the environments (by creation), the deployment of those that run
/// something, and the ids of those an unfinished activity is working on.
public struct EnvironmentListing: Sendable {
    public var environments: [Environment] = []
    public var deployments: [String: DeploymentSummary] = [:]
    public var busy: Set<String> = []
    public init() {}
}

/// What one environment's document renders from besides its record: whether an unfinished activity works on it, and
/// its deployment, if it runs something.
public struct EnvironmentState: Sendable, Equatable {
    public var busy: Bool
    public var deployment: DeploymentSummary?
    public init(busy: Bool, deployment: DeploymentSummary?) { self.busy = busy; self.deployment = deployment }
}
