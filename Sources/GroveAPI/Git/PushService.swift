import Foundation
import GroveConfig
import GroveGit
import GroveModel
import GroveOrchestrator
import GroveStore

/// What a push means to the platform, called by the repository's hooks through `PushHookHandler`:
/// `check` runs before any ref moves (names, roles, states, configuration of every pushed commit);
/// `apply` turns each branch update into an environment activity and reports per branch whether it succeeded.
struct PushService {
    let server: ServerContext
    let session: PushSessions.Session

    struct Update: Sendable {
        let old: String
        let new: String
        let ref: String
        var isDeletion: Bool { new == GitWriter.zero }
        var isCreation: Bool { old == GitWriter.zero }
        var branch: String? { ref.hasPrefix("refs/heads/") ? String(ref.dropFirst(11)) : nil }
    }

    // MARK: pre-receive

    /// Messages for the pusher and whether the push may proceed. Nothing is changed here.
    func check(_ updates: [Update], options: PushOptions, objectEnvironment: [String: String]) async throws -> (ok: Bool, messages: [String]) {
        var messages: [String] = []
        var ok = true
        func refuse(_ m: String) { messages.append("E: " + m); ok = false }
        for p in options.problems { refuse("Push option " + p) }
        for o in options.ignored { messages.append("W: Ignoring unknown push option \(o)") }
        guard let project = try await server.store.project(id: session.projectId) else {
            return (false, ["E: Project \(session.projectId) no longer exists."])
        }
        if let source = try await server.store.list(Integration.self, parent: project.id).first(where: { $0.spec?.role == .source }) {
            let repo = source.string("repository") ?? source.string("project") ?? ""
            return (false, ["E: The code of \(project.id) comes from its \(source.type) integration (\(repo)): push to that repository instead."])
        }
        let access = session.access
        var validated = Set<String>()
        for u in updates {
            guard let branch = u.branch else {
                if u.ref.hasPrefix("refs/tags/") {
                    if !EnvironmentType.allCases.contains(where: { access.permits(.environment(.contributor, $0)) }) { refuse("You cannot push tags to \(project.id).") }
                    continue
                }
                refuse("\(u.ref): only branches (refs/heads/*) and tags can be pushed.")
                continue
            }
            if let problem = EnvironmentName.problem(with: branch) {
                refuse("Branch '\(branch)' cannot be an environment: its name \(problem).")
                continue
            }
            let env = try await server.store.environment(projectId: project.id, id: branch)
            if let env, env.status == .deleting { refuse("Environment \(branch) is being deleted; wait for that to finish, then push again."); continue }
            if u.isDeletion {
                if branch == project.defaultBranch { refuse("The default branch \(branch) cannot be deleted: it is the production environment."); continue }
                if let env, !access.permits(.environment(.contributor, env.type)) {
                    refuse("You need the contributor role on \(env.type.rawValue) environments to delete \(branch).")
                }
                continue
            }
            let type = env?.type ?? (branch == project.defaultBranch ? .production : options.type ?? .development)
            if env == nil {
                if type == .production && branch != project.defaultBranch {
                    refuse("Only the default branch (\(project.defaultBranch)) is a production environment; push \(branch) as development or staging.")
                    continue
                }
                let parentId = options.parent ?? project.defaultBranch
                if let parent = try await server.store.environment(projectId: project.id, id: parentId) {
                    if options.activate && parent.status != .active {
                        refuse("The parent environment \(parentId) is \(parent.status.rawValue); an environment can only be activated from an active parent.")
                    }
                } else if branch != project.defaultBranch {
                    refuse("The parent environment \(parentId) does not exist.")
                }
                let count = try await server.store.environments(projectId: project.id).filter { $0.status != .deleting }.count
                if branch != project.defaultBranch && count >= project.environmentsLimit + 1 {
                    refuse("The project's plan allows \(project.environmentsLimit) environments besides production; \(branch) would exceed it.")
                }
            }
            guard access.permits(.environment(.contributor, type)) else {
                refuse("You cannot push to \(branch): pushing to \(type.rawValue) environments needs the contributor role on them.")
                continue
            }
            guard !validated.contains(u.new) else { continue }
            validated.insert(u.new)
            let files = CommitFiles(repositories: server.repositories, projectId: project.id, commit: u.new, objectEnvironment: objectEnvironment)
            do {
                let config = try await ConfigCache.shared.config(commit: u.new, files: files)
                for w in config.warnings { messages.append("W: \(w)") }
            } catch let e as ConfigError {
                refuse("Invalid configuration in \(u.new.prefix(7)) (\(branch)); nothing was changed:")
                for issue in e.issues { messages.append("E:   \(issue)") }
            }
        }
        if ok { messages.insert("Validated configuration of \(validated.count) commit(s).", at: 0) }
        return (ok, messages)
    }

    // MARK: proc-receive

    struct Planned: Sendable {
        let ref: String
        let activity: Activity?
        /// Set when the update needs no activity; `nil` error means it is done.
        let immediate: Result<Void, PushRefused>?
    }

    struct PushRefused: Error, Sendable { let reason: String }

    /// Records environments and activities for each branch update.
    func plan(_ updates: [Update], options: PushOptions) async throws -> [Planned] {
        guard let project = try await server.store.project(id: session.projectId) else {
            return updates.map { Planned(ref: $0.ref, activity: nil, immediate: .failure(PushRefused(reason: "project no longer exists"))) }
        }
        let git = GitWriter(repositories: server.repositories, projectId: project.id)
        var out: [Planned] = []
        for u in updates {
            guard let branch = u.branch else { continue }
            let existing = try await server.store.environment(projectId: project.id, id: branch)
            if u.isDeletion {
                guard let env = existing else {
                    do { try await git.deleteBranch(branch, expected: u.old); out.append(Planned(ref: u.ref, activity: nil, immediate: .success(()))) } catch {
                        out.append(Planned(ref: u.ref, activity: nil, immediate: .failure(PushRefused(reason: "\(error)"))))
                    }
                    continue
                }
                let a = server.makeActivity(type: "environment.deactivate", project: project, environment: env, user: session.user, action: "deleted the branch of",
                                            parameters: JSONObject([("environment", .string(env.id)), ("old_commit", .string(u.old)), ("branch_deleted", true)]))
                try await server.store.insertActivity(a)
                out.append(Planned(ref: u.ref, activity: a, immediate: nil))
                continue
            }
            var env: Environment
            var created = false
            if let existing {
                env = existing
            } else {
                let parentId = branch == project.defaultBranch ? nil : (options.parent ?? project.defaultBranch)
                let parent = try await parentId.asyncMap { try await server.store.environment(projectId: project.id, id: $0) } ?? nil
                env = Environment(projectId: project.id, name: branch, title: options.title ?? branch,
                                  type: branch == project.defaultBranch ? .production : options.type ?? .development,
                                  parent: parentId, status: .inactive, isMain: branch == project.defaultBranch, createdAt: Timestamp.now())
                env.cloneParentOnCreate = options.cloneParent ?? true
                if let parent { env.httpAccess = parent.httpAccess }
                created = true
            }
            let commits = (try? await git.newCommits(from: u.old, to: u.new)) ?? []
            let activate = options.activate && env.status == .inactive
            var params = JSONObject([("environment", .string(env.id)), ("branch", .string(branch)), ("old_commit", .string(u.old)),
                                     ("new_commit", .string(u.new)), ("activate", .bool(activate))])
            if created { params["created"] = true }
            var a = server.makeActivity(type: "environment.push", project: project, environment: env, user: session.user, action: "pushed to",
                                        parameters: params)
            if case .object(var payload) = a.payload {
                payload["commits"] = .array(commits.map { .object(JSONObject([("sha", .string($0.sha)), ("message", .string($0.subject))])) })
                payload["commits_count"] = .int(Int64(commits.count))
                a.payload = .object(payload)
            }
            let activity = a
            do {
                try await server.store.transaction { [env, created] tx in
                    if created { try await tx.insertEnvironment(env) }
                    try await tx.insertActivity(activity)
                }
            } catch StoreError.conflict {
                out.append(Planned(ref: u.ref, activity: nil, immediate: .failure(PushRefused(reason: "environment \(branch) was created concurrently; push again"))))
                continue
            }
            out.append(Planned(ref: u.ref, activity: activity, immediate: nil))
        }
        return out
    }
}
