import GroveGit
import GroveModel
import GroveStore

/// `environment.activate|redeploy|pause|resume`: start, restart or stop an environment's applications at
/// its head commit. (Copying the parent's data on activation arrives with managed services.)
public struct EnvironmentLifecycleRunner: ActivityRunner {
    public enum Action: String, Sendable { case activate, redeploy, pause, resume }
    let action: Action
    let repositories: Repositories
    let deployer: Deployer?
    public init(_ action: Action, repositories: Repositories, deployer: Deployer?) {
        self.action = action
        self.repositories = repositories
        self.deployer = deployer
    }
    public var resumable: Bool { true }

    public func run(_ ctx: ActivityContext) async throws {
        let projectId = ctx.activity.projectId
        guard let envId = ctx.activity.environments.first, var env = try await ctx.store.environment(projectId: projectId, id: envId) else {
            throw ActivityFailure("The environment no longer exists.")
        }
        switch action {
        case .pause:
            try await ctx.step("Pausing environment \(envId): its applications stop; code and data are kept.", percent: 40)
            await deployer?.undeploy(projectId: projectId, environmentId: envId)
            env.status = .paused
        case .activate, .redeploy, .resume:
            let verb = action == .activate ? "Activating" : action == .resume ? "Resuming" : "Redeploying"
            try await ctx.step("\(verb) environment \(envId).", percent: 20)
            // Activation starts from a fresh copy of the parent's data, as a new branch does.
            if action == .activate, let parent = env.parent, let deployer {
                try await deployer.cloneData(projectId: projectId, from: parent, to: envId) { try await ctx.log($0) }
            }
            let head = try await GitWriter(repositories: repositories, projectId: projectId).head(of: envId) ?? env.headCommit
            if let head, let deployer {
                let config = try await EnvironmentPushRunner.loadConfig(ctx, repositories: repositories, commit: head)
                try await deployer.deploy(projectId: projectId, environmentId: envId, commit: head, config: config,
                                          deployHooks: action != .redeploy) { try await ctx.log($0) }
                env.headCommit = head
            } else {
                try await ctx.log("Environment \(envId) has no code yet: nothing to deploy.")
            }
            env.status = .active
        }
        env.updatedAt = Timestamp.now()
        try await ctx.store.updateEnvironment(env)
        try await ctx.log("Environment \(envId) is \(env.status.rawValue).")
    }
}
