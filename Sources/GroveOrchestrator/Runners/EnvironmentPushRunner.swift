import GroveConfig
import GroveGit
import GroveModel
import GroveStore

/// `environment.push`: a branch received new commits. The branch moves (compare-and-swap against the commit
/// the push started from) only when this activity succeeds, so the repository never shows code the
/// environment refused. Inactive environments just store the code.
public struct EnvironmentPushRunner: ActivityRunner {
    let repositories: Repositories
    let deployer: Deployer?
    public init(repositories: Repositories, deployer: Deployer? = nil) { self.repositories = repositories; self.deployer = deployer }

    /// The configuration of `commit`, its errors logged.
    static func loadConfig(_ ctx: ActivityContext, repositories: Repositories, commit: String) async throws -> ProjectConfig {
        do {
            let config = try await ConfigCache.shared.config(commit: commit, files: CommitFiles(repositories: repositories, projectId: ctx.activity.projectId, commit: commit))
            for w in config.warnings { try await ctx.log("W: \(w)") }
            return config
        } catch let e as ConfigError {
            for issue in e.issues { try await ctx.log("E: \(issue)") }
            throw ActivityFailure("Invalid configuration: \(e.issues.count) error(s).")
        }
    }
    public var resumable: Bool { true }

    public func run(_ ctx: ActivityContext) async throws {
        let p = ctx.activity.parameters
        guard let envId = p["environment"]?.stringValue, let new = p["new_commit"]?.stringValue else {
            throw ActivityFailure("The activity does not name the environment and commit.")
        }
        try await apply(ctx, environment: envId, old: p["old_commit"]?.stringValue ?? GitWriter.zero, new: new,
                        activate: p["activate"]?.boolValue ?? false)
    }

    /// Deploys `new` to the environment (when active) and moves its branch from `old` to it, compare-and-swap.
    /// Pushes, source operations, route edits and initializations all end here.
    public func apply(_ ctx: ActivityContext, environment envId: String, old: String, new: String, activate: Bool) async throws {
        let projectId = ctx.activity.projectId
        guard var env = try await ctx.store.environment(projectId: projectId, id: envId) else {
            throw ActivityFailure("Environment \(envId) no longer exists.")
        }
        let git = GitWriter(repositories: repositories, projectId: projectId)
        guard try await git.hasCommit(new) else { throw ActivityFailure("Commit \(new) is not in the repository.") }

        try await ctx.step("Validating configuration files", percent: 10)
        let config = try await Self.loadConfig(ctx, repositories: repositories, commit: new)
        // Pushes to one environment queue behind each other; one that started from an outdated head stops here.
        if let head = try await git.head(of: env.id), head != old, head != new {
            throw ActivityFailure("Branch \(env.id) moved to \(head.prefix(7)) while this push waited; fetch and push again.")
        }

        let deploy = env.status == .active || activate
        if activate, env.status == .inactive, env.cloneParentOnCreate, let parent = env.parent, let deployer {
            try await ctx.step("Copying the data of \(parent) to \(env.id).", percent: 20)
            try await deployer.cloneData(projectId: projectId, from: parent, to: env.id) { try await ctx.log($0) }
        }
        if deploy {
            try await ctx.step("Processing activity: \(describe(config))", percent: 30)
            if let deployer {
                try await deployer.deploy(projectId: projectId, environmentId: env.id, commit: new, config: config) { try await ctx.log($0) }
            } else {
                for app in config.applications {
                    let tree = try await git.treeId(commit: new, path: app.root) ?? "?"
                    try await ctx.log("Building application '\(app.name)' (runtime type: \(app.type), tree: \(tree.prefix(7)))")
                }
                try await ctx.log("This worker has no runtime: the new code is recorded only.")
            }

        }
        try await ctx.checkCancelled()
        // Move the branch; a rerun after a restart finds it already moved.
        if try await git.head(of: env.id) != new {
            try await git.moveBranch(env.id, to: new, from: old)
        }
        env.headCommit = new
        if activate && env.status == .inactive { env.status = .active }
        env.updatedAt = Timestamp.now()
        try await ctx.store.updateEnvironment(env)
        try await ctx.progress(90)
        if deploy {
            if !config.services.isEmpty {
                try await ctx.log("Environment configuration")
                for app in config.applications { try await ctx.log("  \(app.name) (type: \(app.type), size: \(app.size), disk: \(app.disk.map(String.init) ?? "none"))") }
                for s in config.services { try await ctx.log("  \(s.name) (type: \(s.type), size: \(s.size), disk: \(s.disk.map(String.init) ?? "none"))") }
            }
            if activate { try await ctx.log("Environment \(env.id) is now active.") }
            try await ctx.log("Environment \(env.id) is at \(new.prefix(7)).")
        } else {
            try await ctx.log("Environment \(env.id) is inactive: the code is stored and nothing is deployed. Activate it to deploy (push with -o environment.status=active).")
        }
    }

    func describe(_ c: ProjectConfig) -> String {
        let apps = c.applications.map(\.name).joined(separator: ", ")
        return c.applications.isEmpty ? "no applications" : "applications \(apps)"
            + (c.services.isEmpty ? "" : "; services \(c.services.map { "\($0.name) (\($0.type))" }.joined(separator: ", "))")
    }
}

/// `environment.deactivate` after its branch was deleted by a push: the branch goes, the environment stays,
/// inactive and without code.
public struct BranchDeletedRunner: ActivityRunner {
    let repositories: Repositories
    let deployer: Deployer?
    public init(repositories: Repositories, deployer: Deployer? = nil) { self.repositories = repositories; self.deployer = deployer }
    public var resumable: Bool { true }

    public func run(_ ctx: ActivityContext) async throws {
        let p = ctx.activity.parameters
        let projectId = ctx.activity.projectId
        guard let envId = p["environment"]?.stringValue else { throw ActivityFailure("The activity names no environment.") }
        guard p["branch_deleted"]?.boolValue == true else {
            // Deactivated through the API: the applications stop, the branch and its code stay.
            try await ctx.step("Deactivating environment \(envId): its applications stop and its service data is deleted.", percent: 40)
            await deployer?.undeploy(projectId: projectId, environmentId: envId, keepData: false)
            guard var env = try await ctx.store.environment(projectId: projectId, id: envId) else { return }
            env.status = .inactive
            env.updatedAt = Timestamp.now()
            try await ctx.store.updateEnvironment(env)
            try await ctx.log("Environment \(envId) is inactive; activate it to deploy it again.")
            return
        }
        let old = p["old_commit"]?.stringValue ?? GitWriter.zero
        let git = GitWriter(repositories: repositories, projectId: projectId)
        try await ctx.step("Branch \(envId) deleted: deactivating environment \(envId) (its service data is deleted).", percent: 40)
        if let head = try await git.head(of: envId) {
            guard head == old || old == GitWriter.zero else {
                throw ActivityFailure("Branch \(envId) was pushed again after its deletion; the environment stays as it is.")
            }
            try await git.deleteBranch(envId, expected: head)
        }
        await deployer?.undeploy(projectId: projectId, environmentId: envId, keepData: false)
        guard var env = try await ctx.store.environment(projectId: projectId, id: envId) else { return }
        env.status = .inactive
        env.headCommit = nil
        env.updatedAt = Timestamp.now()
        try await ctx.store.updateEnvironment(env)
        try await ctx.log("Environment \(envId) is inactive; push the branch again to store new code.")
    }
}
