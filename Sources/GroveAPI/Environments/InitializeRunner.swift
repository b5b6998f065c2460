import GroveGit
import GroveModel
import GroveOrchestrator
import GroveStore

/// `environment.initialize`: fetches the template (and the configuration repository) over http(s), lays the
/// request's files over them into one parentless commit, and deploys it to the default environment as a push would,
/// activating it. The inputs' refs are removed when the activity ends, however it ends.
struct EnvironmentInitializeRunner: ActivityRunner {
    let repositories: Repositories
    let outbound: OutboundPolicy
    let deployer: Deployer?
    var resumable: Bool { true }

    func run(_ ctx: ActivityContext) async throws {
        let a = ctx.activity
        let git = GitWriter(repositories: repositories, projectId: a.projectId)
        let refs = InitializeRefs(activityId: a.id)
        do {
            try await initialize(ctx, git, refs)
        } catch {
            for ref in refs.all { await git.deleteRef(ref) }
            throw error
        }
        for ref in refs.all { await git.deleteRef(ref) }
    }

    func initialize(_ ctx: ActivityContext, _ git: GitWriter, _ refs: InitializeRefs) async throws {
        let p = ctx.activity.parameters
        guard let envId = p["environment"]?.stringValue, let url = p["repository"]?.stringValue else {
            throw ActivityFailure("The activity names no environment or repository.")
        }
        let template = TemplateSource(url: url, ref: p["ref"]?.stringValue)
        let config = p["config"]?.stringValue.map { TemplateSource(url: $0, ref: p["config_ref"]?.stringValue) }
        let held = try await git.commit(at: refs.commit)
        if let head = try await git.head(of: envId), head != held {
            throw ActivityFailure("\(envId) already has code (\(head.prefix(7))); initialize only seeds a project nothing was pushed to.")
        }
        let commit: String
        if let held {
            commit = held  // a worker restarted after the commit was made: deploy it
        } else {
            var layers = [try await fetch(ctx, git, template, into: refs.template, what: "the template")]
            if let config { layers.append(try await fetch(ctx, git, config, into: refs.config, what: "the configuration")) }
            if let files = p["files_commit"]?.stringValue {
                guard try await git.hasCommit(files) else { throw ActivityFailure("The files sent with the request are gone from the repository.") }
                layers.append(files)
                try await ctx.log("Adding \(p["files"]?.arrayValue?.count ?? 0) file(s) sent with the request.")
            }
            try await ctx.checkCancelled()
            let profile = p["profile"]?.stringValue ?? ""
            let message = "Initialize \(profile.isEmpty ? "project" : profile)\n\nFrom \(url)\(template.ref.map { "@" + $0 } ?? "")"
            let author = try await ctx.store.user(id: ctx.activity.userId ?? "").map { GitWriter.Author(name: $0.displayName, email: $0.email) }
                ?? GitWriter.Author(name: "Grove", email: "grove@localhost")
            do {
                commit = try await git.flatten(layers, message: message, author: author, holdRef: refs.commit)
            } catch { throw ActivityFailure("Cannot combine the repositories: \(error)") }
            try await ctx.log("Initial commit \(commit.prefix(7)) made from \(layers.count) layer(s).")
        }
        try await EnvironmentPushRunner(repositories: repositories, deployer: deployer)
            .apply(ctx, environment: envId, old: GitWriter.zero, new: commit, activate: true)
    }

    /// Fetches one source from the addresses its name resolves to now, checked (not those the request saw), and
    /// returns its commit.
    func fetch(_ ctx: ActivityContext, _ git: GitWriter, _ source: TemplateSource, into ref: String, what: String) async throws -> String {
        try await ctx.step("Fetching \(what) from \(source.url)\(source.ref.map { " (\($0))" } ?? "")", percent: 10)
        let pins: [String]
        do { pins = try outbound.pins(url: source.url) } catch { throw ActivityFailure("Cannot fetch \(source.url): \(error)") }
        do { try await git.fetchRemote(url: source.url, refspecs: ["+\(source.remoteRef):\(ref)"], pins: pins) } catch { throw ActivityFailure("\(error)") }
        guard let commit = try await git.commit(at: ref) else { throw ActivityFailure("\(source.url) has no \(source.ref ?? "default branch").") }
        try await ctx.log("Fetched \(what) at \(commit.prefix(7)).")
        return commit
    }
}
