import GroveModel

/// What a project's environment list renders from: the environments (by creation), the deployment of those that run
/// something, and the ids of those an unfinished activity is working on.
public struct EnvironmentListing: Sendable {
    public var environments: [Environment] = []
    public var deployments: [String: DeploymentSummary] = [:]
    public var busy: Set<String> = []
    public init() {}
}
