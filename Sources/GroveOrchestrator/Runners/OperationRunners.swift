import Foundation
import GroveConfig
import GroveGit
import GroveModel
import GroveStore

/// `environment.source-operation`: checks out the branch, runs the operation of every application that defines
/// it (one after another), and pushes the commits they made like a push would: the environment rebuilds and
/// redeploys, once. An operation that makes no commit changes nothing.
public struct SourceOperationRunner: ActivityRunner {
    let repositories: Repositories
    let deployer: Deployer?
    public init(repositories: Repositories, deployer: Deployer?) { self.repositories = repositories; self.deployer = deployer }
    public var resumable: Bool { false }

    public func run(_ ctx: ActivityContext) async throws {
        let p = ctx.activity.parameters
        let projectId = ctx.activity.projectId
        guard let deployer, let envId = ctx.activity.environments.first, let operation = p["operation"]?.stringValue else {
            throw ActivityFailure("The source operation activity is incomplete.")
        }
        var overrides: [String: [String: String]] = [:]
        for (prefix, group) in p["variables"]?.objectValue ?? JSONObject() {
            for (name, value) in group.objectValue ?? JSONObject() { overrides[prefix, default: [:]][name] = value.stringValue ?? value.serialized() }
        }
        let git = GitWriter(repositories: repositories, projectId: projectId)
        guard let head = try await git.head(of: envId) else { throw ActivityFailure("Environment \(envId) has no code.") }
        let config = try await EnvironmentPushRunner.loadConfig(ctx, repositories: repositories, commit: head)
        let apps = config.applications.filter { $0.sourceOperations[operation] != nil }
        guard !apps.isEmpty else { throw ActivityFailure("No application of \(head.prefix(7)) defines the source operation \(operation).") }

        let author = try await ctx.commitAuthor()
        let dir = (deployer.dataDir as NSString).appendingPathComponent("tmp/source-operations/\(ctx.activity.id)")
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: (dir as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await ctx.step("Checking out \(envId) at \(head.prefix(7))", percent: 10)
        try await git.cloneBranch(envId, into: dir, author: author)
        // The checkout is tenant code's once the operation ran: git reads it back the way the runtime says.
        let uploadPack = try await deployer.prepareCheckout(dir)
        for app in apps {
            guard let command = app.sourceOperations[operation] else { continue }
            try await ctx.step("Running source operation \(operation) of application \(app.name)", percent: 30)
            let status = try await deployer.runSourceOperation(projectId: projectId, environmentId: envId, commit: head, app: app, command: command,
                                                               sourceDir: dir, overrides: overrides) { try await ctx.log("  " + $0) }
            if status == 124 { throw ActivityFailure("The source operation of \(app.name) ran longer than an hour and was stopped.") }
            if status != 0 { throw ActivityFailure("The source operation \(operation) of \(app.name) exited with status \(status); nothing was committed.") }
            try await ctx.checkCancelled()
        }
        let hold = "refs/grove/pending/\(ctx.activity.id)"
        let new = try await git.importHead(from: dir, holdRef: hold, uploadPack: uploadPack)
        try await git.releasing(hold) {
            if new == head {
                try await ctx.log("The source operation made no commits: nothing to deploy.")
            } else {
                for c in try await git.newCommits(from: head, to: new) { try await ctx.log("  New commit \(c.sha.prefix(7)): \(c.subject)") }
                try await EnvironmentPushRunner(repositories: repositories, deployer: deployer).apply(ctx, environment: envId, old: head, new: new, activate: false)
            }
        }
    }
}

/// `environment.operation`: a runtime operation, run once beside the environment's running application.
public struct RuntimeOperationRunner: ActivityRunner {
    let deployer: Deployer?
    public init(deployer: Deployer?) { self.deployer = deployer }
    public var resumable: Bool { false }

    public func run(_ ctx: ActivityContext) async throws {
        let p = ctx.activity.parameters
        guard let deployer, let envId = ctx.activity.environments.first, let service = p["service"]?.stringValue,
              let operation = p["operation"]?.stringValue else { throw ActivityFailure("The operation activity is incomplete.") }
        let app = service.components(separatedBy: "--").first ?? service
        guard let config = try await deployer.records.deployedApp(projectId: ctx.activity.projectId, environmentId: envId, app: app),
              let op = config.operations[operation] else {
            throw ActivityFailure("\(service) on \(envId) has no runtime operation \(operation) (is the environment running?).")
        }
        let parameters = (p["parameters"]?.arrayValue ?? []).compactMap(\.stringValue)
        try await ctx.step("Running operation \(operation) on \(service): \(op.start)", percent: 20)
        let status = try await deployer.runOperation(projectId: ctx.activity.projectId, environmentId: envId, app: app, command: op.start,
                                                     parameters: parameters) { try await ctx.log("  " + $0) }
        if status == 124 { throw ActivityFailure("The operation ran longer than an hour and was stopped.") }
        if status != 0 { throw ActivityFailure("The operation \(operation) exited with status \(status).") }
        try await ctx.log("Operation \(operation) finished.")
    }
}

extension Optional {
    func asyncFlatMap<U>(_ f: (Wrapped) async throws -> U?) async rethrows -> U? {
        switch self {
        case .some(let w): return try await f(w)
        case .none: return nil
        }
    }
}

extension ActivityContext {
    /// Who commits the platform makes on the caller's behalf are written as: the activity's user, or Grove.
    func commitAuthor() async throws -> GitWriter.Author {
        let user = try await activity.userId.asyncFlatMap { try await store.user(id: $0) }
        return GitWriter.Author(name: user?.displayName ?? "Grove", email: user?.email ?? "grove@localhost")
    }
}
