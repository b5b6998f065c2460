import GroveGit
import GroveModel
import GroveStore

/// `project.create`: provisions a project requested through a subscription or the organization's projects.
/// The records exist already; this moves the subscription to active and brings up the default environment.
public struct ProjectCreateRunner: ActivityRunner {
    let repositories: Repositories
    public init(repositories: Repositories) { self.repositories = repositories }
    public var resumable: Bool { true }

    public func run(_ ctx: ActivityContext) async throws {
        let projectId = ctx.activity.projectId
        guard let project = try await ctx.store.project(id: projectId) else { throw ActivityFailure("Project \(projectId) no longer exists.") }
        try await setSubscription(ctx, project.subscriptionId, .provisioning)
        do {
            try await ctx.step("Provisioning project \(project.id) (\(project.title)) in region \(project.region).", percent: 30)
            try await repositories.create(project.id, defaultBranch: project.defaultBranch)
            try await ctx.log("Created the git repository \(project.id).git (default branch \(project.defaultBranch)).")
            guard var env = try await ctx.store.environment(projectId: projectId, id: project.defaultBranch) else {
                throw ActivityFailure("The default environment \(project.defaultBranch) is missing.")
            }
            try await ctx.step("Creating the default environment \(env.id) (production).", percent: 60)
            env.status = .active
            env.updatedAt = Timestamp.now()
            try await ctx.store.updateEnvironment(env)
            try await setSubscription(ctx, project.subscriptionId, .active)
            try await ctx.log("Project \(project.id) is ready. Push code to its default branch, \(project.defaultBranch), to deploy it.")
        } catch {
            if !(error is CancellationError) { try? await setSubscription(ctx, project.subscriptionId, .provisioningFailure) }
            throw error
        }
    }

    private func setSubscription(_ ctx: ActivityContext, _ id: String, _ status: SubscriptionStatus) async throws {
        guard var s = try await ctx.store.subscription(id: id) else { return }
        s.status = status
        s.updatedAt = Timestamp.now()
        try await ctx.store.updateSubscription(s)
    }
}
