/// An environment's deployment as the store keeps it: what should run (desired) and what runs (observed).
/// The worker that deploys writes it; API processes answer from it; a worker starting reconciles the runtime to it.
public struct DeploymentRecord: Sendable, Equatable {
    public var projectId: String
    public var environmentId: String
    /// Increases with every deployment of the environment: instances of different generations never collide.
    public var generation: Int
    public var commit: String
    /// When this deployment went live.
    public var deployedAt: String
    /// The orchestrator's document of what should run (instances with their variables, routes, services, crons),
    /// JSON. It holds sensitive variables: the store seals it at rest.
    public var desired: String
    /// What runs, per instance: state, address, last error (JSON array).
    public var observed: String
    public var updatedAt: String
    /// Each application that runs and the role its `access.ssh` asks of SSH users (not secret: it shapes links).
    public var sshAccess: [String: String]

    public init(projectId: String, environmentId: String, generation: Int, commit: String, deployedAt: String, desired: String,
                observed: String, updatedAt: String, sshAccess: [String: String] = [:]) {
        self.projectId = projectId; self.environmentId = environmentId; self.generation = generation; self.commit = commit
        self.deployedAt = deployedAt; self.desired = desired; self.observed = observed; self.updatedAt = updatedAt; self.sshAccess = sshAccess
    }
}

/// What lists of environments need of a deployment without decoding it: when it went live and its SSH targets.
public struct DeploymentSummary: Sendable, Equatable {
    public var deployedAt: String
    public var sshAccess: [String: String]
    public init(deployedAt: String, sshAccess: [String: String]) { self.deployedAt = deployedAt; self.sshAccess = sshAccess }
}
