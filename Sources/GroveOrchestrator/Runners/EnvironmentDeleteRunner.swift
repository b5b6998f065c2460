import GroveGit
import GroveModel
import GroveStore

/// `environment.delete`: removes an inactive environment and its variables. Its activities stay in the project log.
public struct EnvironmentDeleteRunner: ActivityRunner {
    let repositories: Repositories
    let deployer: Deployer?
    public init(repositories: Repositories, deployer: Deployer? = nil) { self.repositories = repositories; self.deployer = deployer }
    public var resumable: Bool { true }

    public func run(_ ctx: ActivityContext) async throws {
        let projectId = ctx.activity.projectId
        guard let envId = ctx.activity.environments.first else { throw ActivityFailure("The activity names no environment.") }
        guard try await ctx.store.environment(projectId: projectId, id: envId) != nil else {
            try await ctx.log("Environment \(envId) is already gone.")
            return
        }
        try await ctx.step("Deleting environment \(envId).", percent: 50)
        await deployer?.undeploy(projectId: projectId, environmentId: envId, keepData: false)
        // The branch goes with its environment, so a later push of that name starts afresh.
        let git = GitWriter(repositories: repositories, projectId: projectId)
        if let head = try await git.head(of: envId) {
            try await git.deleteBranch(envId, expected: head)
            try await ctx.log("Deleted branch \(envId) (was \(head.prefix(7))).")
        }
        try await ctx.store.deleteEnvironment(projectId: projectId, id: envId)
        try await ctx.log("Environment \(envId) deleted.")
    }
}
