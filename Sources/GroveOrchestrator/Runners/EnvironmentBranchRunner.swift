import GroveGit
import GroveModel
import GroveStore

/// `environment.branch`: brings up a child environment created from its parent.
/// The child record was written (inactive) when the request was accepted.
public struct EnvironmentBranchRunner: ActivityRunner {
    let repositories: Repositories
    let deployer: Deployer?
    public init(repositories: Repositories, deployer: Deployer? = nil) { self.repositories = repositories; self.deployer = deployer }
    public var resumable: Bool { true }

    public func run(_ ctx: ActivityContext) async throws {
        let p = ctx.activity.parameters
        guard let childId = p["environment"]?.stringValue, let parentId = p["parent"]?.stringValue else {
            throw ActivityFailure("The activity does not name the environment to create.")
        }
        let projectId = ctx.activity.projectId
        guard var child = try await ctx.store.environment(projectId: projectId, id: childId) else {
            throw ActivityFailure("Environment \(childId) no longer exists.")
        }
        guard let parent = try await ctx.store.environment(projectId: projectId, id: parentId) else {
            throw ActivityFailure("The parent environment \(parentId) no longer exists.")
        }
        try await ctx.step("Creating environment \(childId) from \(parentId) (type \(child.type.rawValue)).", percent: 25)
        // The child's branch starts at the parent's head; a rerun finds it there already.
        let git = GitWriter(repositories: repositories, projectId: projectId)
        if let head = try await git.head(of: parent.id), try await git.head(of: childId) == nil {
            try await git.moveBranch(childId, to: head, from: GitWriter.zero)
            try await ctx.log("Created branch \(childId) at \(head.prefix(7)).")
        }
        child.headCommit = try await git.head(of: childId) ?? parent.headCommit
        let cloneData = p["clone_parent"]?.boolValue ?? true
        if cloneData, let deployer {
            try await ctx.step("Copying the data of \(parentId) to \(childId).", percent: 40)
            try await deployer.cloneData(projectId: projectId, from: parentId, to: childId) { try await ctx.log($0) }
        } else {
            try await ctx.step("Starting without the parent's data (clone_parent: false).", percent: 40)
        }
        // The child serves its parent's code from the start (the same builds are reused).
        if let head = child.headCommit, let deployer {
            let config = try await EnvironmentPushRunner.loadConfig(ctx, repositories: repositories, commit: head)
            try await deployer.deploy(projectId: projectId, environmentId: childId, commit: head, config: config) { try await ctx.log($0) }
        }
        child.status = .active
        child.updatedAt = Timestamp.now()
        try await ctx.store.updateEnvironment(child)
        try await ctx.log("Environment \(childId) is active.")
    }
}
