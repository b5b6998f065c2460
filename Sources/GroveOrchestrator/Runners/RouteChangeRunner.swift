import Foundation
import GroveConfig
import GroveGit
import GroveModel
import GroveStore

/// `environment.route.create|update|delete`: commits the edited `.platform/routes.yaml` to the environment's
/// branch and deploys it like a push (the branch moves only if the deploy succeeds).
public struct RouteChangeRunner: ActivityRunner {
    let repositories: Repositories
    let deployer: Deployer?
    public init(repositories: Repositories, deployer: Deployer?) { self.repositories = repositories; self.deployer = deployer }
    public var resumable: Bool { false }

    public func run(_ ctx: ActivityContext) async throws {
        let p = ctx.activity.parameters
        let projectId = ctx.activity.projectId
        guard let envId = ctx.activity.environments.first, let key = p["route_key"]?.stringValue, let verb = p["verb"]?.stringValue else {
            throw ActivityFailure("The route activity is incomplete.")
        }
        let route: JSON? = (p["route"]?.isNull ?? true) ? nil : p["route"]
        let git = GitWriter(repositories: repositories, projectId: projectId)
        guard let head = try await git.head(of: envId) else { throw ActivityFailure("Environment \(envId) has no code.") }
        let files = CommitFiles(repositories: repositories, projectId: projectId, commit: head)
        let existing = try await files.read(RoutesFileEditor.path).map { String(decoding: $0, as: UTF8.self) }
        let content: String
        do {
            content = try RoutesFileEditor.edit(existing, key: key, route: route, mustExist: verb != "create", mustNotExist: verb == "create")
        } catch let e as RoutesFileEditor.EditError { throw ActivityFailure(e.description) }
        let author = try await ctx.commitAuthor()
        let words = ["create": "Add", "update": "Update", "delete": "Remove"]
        let hold = "refs/grove/pending/\(ctx.activity.id)"
        try await ctx.step("Committing \(RoutesFileEditor.path)", percent: 10)
        let commit = try await git.commitFile(parent: head, path: RoutesFileEditor.path, content: content,
                                              message: "\(words[verb] ?? "Update") route \(key)", author: author, holdRef: hold)
        try await ctx.log("  New commit \(commit.prefix(7)): \(words[verb] ?? "Update") route \(key)")
        try await git.releasing(hold) {
            try await EnvironmentPushRunner(repositories: repositories, deployer: deployer).apply(ctx, environment: envId, old: head, new: commit, activate: false)
        }
    }
}
