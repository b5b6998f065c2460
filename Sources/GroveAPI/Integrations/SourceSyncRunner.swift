import Foundation
import GroveGit
import GroveModel
import GroveOrchestrator
import GroveStore

/// `integration.<provider>.fetch`: brings the provider's repository into the project. The first run (and a delivered
/// push) fetches branches into the source namespace and queues an `environment.push` for each branch that moved, the
/// same activity a `git push` makes, so builds, deploys and statuses follow the usual path. Pull requests become
/// `pr-<number>` environments (active, with the parent's data when asked); closed ones are deactivated. Branches
/// deleted upstream deactivate their environments when `prune_branches` is on.
struct SourceSyncRunner: ActivityRunner {
    let runtime: IntegrationRuntime
    var resumable: Bool { true }

    func run(_ ctx: ActivityContext) async throws {
        guard let i = try await integration(of: ctx) else { return }
        guard let project = try await ctx.store.project(id: i.projectId) else { return }
        let secrets = try IntegrationSecrets.open(ctx.store, i)
        let p = ctx.activity.parameters
        let url = SourceProvider.cloneURL(i, runtime.providers)
        let pins: [String]
        do { pins = try runtime.outbound.pins(url: url) } catch { throw ActivityFailure("Cannot fetch \(url): \(error)") }
        let credentials: (git: String?, api: [(String, String)])
        do { credentials = try await SourceProvider.credentials(i, secrets, endpoints: runtime.providers, policy: runtime.outbound) } catch {
            throw ActivityFailure("\(error)")
        }
        if p["register_hook"]?.boolValue == true { try await registerHook(ctx, i, headers: credentials.api) }
        let sync = Sync(ctx: ctx, integration: i, project: project, git: GitWriter(repositories: runtime.repositories, projectId: project.id),
                        url: url, authorization: credentials.git, pins: pins)
        guard let event = SourceEvent(parameters: p) else {
            try await sync.everything()
            return
        }
        switch event.kind {
        case .ping: return
        case .push: try await sync.push(event)
        case .pullRequest: try await sync.pullRequest(event)
        }
    }

    /// Registers Grove's hook URL and secret with the provider; a failure is logged with what to do by hand.
    func registerHook(_ ctx: ActivityContext, _ i: Integration, headers: [(String, String)]) async throws {
        let hookURL = runtime.publicURL.value + "/integrations/\(i.id)/hook"
        let request = SourceProvider.hookRequest(i, hookURL: hookURL, secret: try IntegrationSecrets.hookSecret(ctx.store, i), endpoints: runtime.providers)
        do {
            let r = try await OutboundHTTP.send(url: request.url, headers: headers, body: request.body.bytes, policy: runtime.outbound)
            if r.ok {
                try await ctx.log("Registered the webhook \(hookURL) with \(i.type).")
            } else {
                try await ctx.log("W: \(i.type) refused to register the webhook (HTTP \(r.status): \(r.text.prefix(200))); the token needs the right to manage the repository's webhooks. Until then, changes arrive only when this integration is updated.")
            }
        } catch {
            try await ctx.log("W: Could not register the webhook with \(i.type): \(error)")
        }
    }

    struct Sync {
        let ctx: ActivityContext
        let integration: Integration
        let project: Project
        let git: GitWriter
        let url: String
        let authorization: String?
        /// Where the fetch connects: the addresses checked at the start of this activity.
        let pins: [String]
        var i: Integration { integration }

        func fetch(_ refs: [String: String]) async throws -> [String: String] {
            do { try await git.fetchSource(url: url, refs: refs, authorization: authorization, pins: pins) } catch {
                throw ActivityFailure("\(error)")
            }
            return try await git.sourceBranches()
        }

        /// Every branch: the first synchronisation.
        func everything() async throws {
            try await ctx.step("Fetching the branches of \(url)", percent: 20)
            let remote = try await fetch([:])
            try await ctx.log("Found \(remote.count) branch(es): \(remote.keys.sorted().joined(separator: ", "))")
            for (branch, commit) in remote.sorted(by: { $0.key < $1.key }) {
                guard i.bool("fetch_branches") || branch == project.defaultBranch else { continue }
                try await update(branch, to: commit, pull: nil)
            }
            if i.bool("prune_branches") {
                for env in try await ctx.store.environments(projectId: project.id)
                where remote[env.id] == nil && env.id != project.defaultBranch && !env.id.hasPrefix("pr-") && env.headCommit != nil {
                    try await remove(env.id, branchDeleted: true)
                }
            }
        }

        func push(_ e: SourceEvent) async throws {
            guard let branch = e.branch else { return }
            guard i.bool("fetch_branches") || branch == project.defaultBranch else {
                try await ctx.log("Branch \(branch) is not fetched (fetch_branches is off).")
                return
            }
            guard e.commit != nil else {
                if i.bool("prune_branches") { try await remove(branch, branchDeleted: true) } else {
                    try await ctx.log("Branch \(branch) was deleted upstream; its environment stays (prune_branches is off).")
                }
                return
            }
            try await ctx.step("Fetching \(branch) from \(url)", percent: 30)
            let remote = try await fetch(["refs/heads/\(branch)": branch])
            guard let commit = remote[branch] else { throw ActivityFailure("\(url) has no branch \(branch).") }
            try await update(branch, to: commit, pull: nil)
        }

        func pullRequest(_ e: SourceEvent) async throws {
            guard let n = e.number, let action = e.action else { return }
            let name = "pr-\(n)"
            if action == .close {
                try await remove(name, branchDeleted: false)
                return
            }
            let build = i.type == "gitlab" ? i.bool("build_merge_requests") : i.bool("build_pull_requests")
            guard build else { try await ctx.log("Pull request #\(n) is not built (building pull requests is off)."); return }
            let buildDrafts = i.type == "gitlab" ? i.bool("build_wip_merge_requests") : i.type == "github" ? i.bool("build_draft_pull_requests") : true
            if e.draft && !buildDrafts { try await ctx.log("Pull request #\(n) is a draft; drafts are not built."); return }
            let ref = i.type == "bitbucket" ? e.head.map { "refs/heads/\($0)" } ?? "" : SourceProvider.pullRef(i, n)
            guard !ref.isEmpty else { throw ActivityFailure("The delivery does not name the pull request's branch.") }
            try await ctx.step("Fetching pull request #\(n) (\(ref)) from \(url)", percent: 30)
            let remote = try await fetch([ref: name])
            guard let commit = remote[name] else { throw ActivityFailure("\(url) has no \(ref).") }
            var parent = project.defaultBranch
            if let base = e.base, try await ctx.store.environment(projectId: project.id, id: base) != nil { parent = base }
            let cloneData = i.type == "gitlab" ? i.bool("merge_requests_clone_parent_data") : i.bool("pull_requests_clone_parent_data")
            try await update(name, to: commit, pull: (parent: parent, cloneData: cloneData, title: "Pull request #\(n)"))
        }

        /// Queues the push of `commit` to `branch`'s environment (created when new; activated for pull requests).
        func update(_ branch: String, to commit: String, pull: (parent: String, cloneData: Bool, title: String)?) async throws {
            if let problem = EnvironmentName.problem(with: branch) {
                try await ctx.log("W: Branch '\(branch)' cannot be an environment: its name \(problem).")
                return
            }
            let head = try await git.head(of: branch)
            let existing = try await ctx.store.environment(projectId: project.id, id: branch)
            if head == commit && (pull == nil || existing?.status == .active) {
                try await ctx.log("\(branch) is already at \(commit.prefix(7)).")
                return
            }
            if existing?.status == .deleting { try await ctx.log("W: Environment \(branch) is being deleted; skipped."); return }
            var env: Environment
            var created = false
            if let existing { env = existing } else {
                let count = try await ctx.store.environments(projectId: project.id).filter { $0.status != .deleting }.count
                if branch != project.defaultBranch && count >= project.environmentsLimit + 1 {
                    try await ctx.log("W: The project's plan allows \(project.environmentsLimit) environments besides production; \(branch) is not created.")
                    return
                }
                let isDefault = branch == project.defaultBranch
                let parentId = isDefault ? nil : (pull?.parent ?? project.defaultBranch)
                env = Environment(projectId: project.id, name: branch, title: pull?.title ?? branch, type: isDefault ? .production : .development,
                                  parent: parentId, status: .inactive, isMain: isDefault, createdAt: Timestamp.now())
                env.cloneParentOnCreate = pull?.cloneData ?? true
                if let parentId, let parent = try await ctx.store.environment(projectId: project.id, id: parentId) { env.httpAccess = parent.httpAccess }
                created = true
            }
            let activate = pull != nil && env.status == .inactive
            var params = JSONObject([("environment", .string(env.id)), ("branch", .string(branch)), ("old_commit", .string(head ?? GitWriter.zero)),
                                     ("new_commit", .string(commit)), ("activate", .bool(activate)),
                                     ("source_integration", .string(i.id)), ("source_commit", .string(commit))])
            if created { params["created"] = true }
            let commits = (try? await git.newCommits(from: head, to: commit)) ?? []
            let payload = JSONObject([
                ("environment", .object(JSONObject([("name", .string(env.id)), ("type", .string(env.type.rawValue)), ("head_commit", JSON(env.headCommit))]))),
                ("project", .object(JSONObject([("id", .string(project.id)), ("title", .string(project.title))]))),
                ("commits", .array(commits.map { .object(JSONObject([("sha", .string($0.sha)), ("message", .string($0.subject))])) })),
                ("commits_count", .int(Int64(commits.count))),
            ])
            let a = Activity(projectId: project.id, environments: [env.id], type: "environment.push", userId: nil,
                             description: "\(html(providerName)) pushed to <environment data-id=\"\(html(env.id))\">\(html(env.title))</environment>",
                             text: "\(providerName) pushed to \(env.title)", parameters: .object(params), payload: .object(payload),
                             seq: SequenceClock.shared.next(), createdAt: Timestamp.now())
            do {
                try await ctx.store.transaction { [env, created] tx in
                    if created { try await tx.insertEnvironment(env) }
                    try await tx.insertActivity(a)
                }
            } catch StoreError.conflict {
                try await ctx.log("W: Environment \(branch) was created concurrently; the next delivery updates it.")
                return
            }
            try await ctx.log("\(branch): \(head.map { String($0.prefix(7)) } ?? "new") -> \(commit.prefix(7)); activity \(a.id) deploys it.")
        }

        /// Deactivates `branch`'s environment (and deletes its branch when the upstream branch is gone).
        func remove(_ branch: String, branchDeleted: Bool) async throws {
            guard let env = try await ctx.store.environment(projectId: project.id, id: branch), branch != project.defaultBranch else {
                try await ctx.log("\(branch) has no environment to deactivate.")
                return
            }
            guard env.status != .inactive || (branchDeleted && env.headCommit != nil) else { return }
            var params = JSONObject([("environment", .string(env.id)), ("source_integration", .string(i.id))])
            if branchDeleted {
                params["branch_deleted"] = true
                params["old_commit"] = .string(try await git.head(of: branch) ?? GitWriter.zero)
            }
            let a = Activity(projectId: project.id, environments: [env.id], type: "environment.deactivate", userId: nil,
                             description: "\(html(providerName)) deactivated <environment data-id=\"\(html(env.id))\">\(html(env.title))</environment>",
                             text: "\(providerName) deactivated \(env.title)", parameters: .object(params), seq: SequenceClock.shared.next(), createdAt: Timestamp.now())
            try await ctx.store.insertActivity(a)
            try await ctx.log("\(branch): \(branchDeleted ? "deleted upstream" : "closed"); activity \(a.id) deactivates its environment.")
        }

        var providerName: String {
            ["github": "GitHub", "gitlab": "GitLab", "bitbucket": "Bitbucket", "bitbucket_server": "Bitbucket Server"][i.type] ?? i.type
        }
    }
}
