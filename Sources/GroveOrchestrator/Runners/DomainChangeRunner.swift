import GroveGit
import GroveModel
import GroveStore

/// `environment.domain.create|update|delete`: the domain is already stored; a running environment is
/// redeployed (same build, no deploy hook) so the router and `PLATFORM_ROUTES` name the new hosts.
public struct DomainChangeRunner: ActivityRunner {
    let repositories: Repositories
    let deployer: Deployer?
    public init(repositories: Repositories, deployer: Deployer?) {
        self.repositories = repositories
        self.deployer = deployer
    }
    public var resumable: Bool { true }

    public func run(_ ctx: ActivityContext) async throws {
        let projectId = ctx.activity.projectId
        try await ctx.step("Domain change recorded.", percent: 20)
        guard let envId = ctx.activity.environments.first, let env = try await ctx.store.environment(projectId: projectId, id: envId),
              env.status == .active, let deployer, try await deployer.records.view(projectId: projectId, environmentId: envId) != nil,
              let head = try await GitWriter(repositories: repositories, projectId: projectId).head(of: envId) ?? env.headCommit else {
            try await ctx.log("The environment is not running: the change takes effect when it is next deployed.")
            return
        }
        try await ctx.step("Redeploying environment \(envId) with its new routes.", percent: 40)
        let config = try await EnvironmentPushRunner.loadConfig(ctx, repositories: repositories, commit: head)
        try await deployer.deploy(projectId: projectId, environmentId: envId, commit: head, config: config, deployHooks: false) { try await ctx.log($0) }
    }
}
