import GroveModel
import GroveStore

/// `environment.delete`: removes an inactive environment and its variables. Its activities stay in the project log.
public struct EnvironmentDeleteRunner: ActivityRunner {
    public init() {}
    public var resumable: Bool { true }

    public func run(_ ctx: ActivityContext) async throws {
        let projectId = ctx.activity.projectId
        guard let envId = ctx.activity.environments.first else { throw ActivityFailure("The activity names no environment.") }
        guard try await ctx.store.environment(projectId: projectId, id: envId) != nil else {
            try await ctx.log("Environment \(envId) is already gone.")
            return
        }
        try await ctx.step("Deleting environment \(envId).", percent: 50)
        try await ctx.store.deleteEnvironment(projectId: projectId, id: envId)
        try await ctx.log("Environment \(envId) deleted.")
    }
}
