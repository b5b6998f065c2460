import Synchronization

/// The versions cached API answers are valid for, kept per project so that one tenant's writes (a push, its
/// activities, a variable) do not invalidate every other tenant's answers.
///
/// All versions are drawn from one sequence: a write to a project sets that project's version to the next number, a
/// write to anything else (users, tokens, organizations, memberships: what access to every project depends on) sets
/// the account version to it. An answer about project `p` is valid while `max(account, project[p])` is unchanged, and
/// every write that may change it raises that maximum. Answers not about one project use `all`, which every write
/// moves.
final class AnswerVersions: Sendable {
    private struct State {
        var sequence: UInt64 = 0
        var account: UInt64 = 0
        var projects: [String: UInt64] = [:]
    }

    private let state = Mutex(State())

    /// Moves with every write.
    var all: UInt64 { state.withLock { $0.sequence } }

    /// Moves with every write to project `id` and every write that is not to one project.
    func project(_ id: String) -> UInt64 {
        state.withLock { s in max(s.account, s.projects[id] ?? 0) }
    }

    /// A write to `project`, or to something every project's answers may depend on when nil.
    func bump(project: String?) {
        state.withLock { s in
            s.sequence &+= 1
            if let project { s.projects[project] = s.sequence } else { s.account = s.sequence }
        }
    }

    /// The writes of one transaction: one bump for all of them.
    func bump(_ scopes: WriteScopes.Written) {
        switch scopes {
        case .nothing: return
        case .account: bump(project: nil)
        case .projects(let ids):
            state.withLock { s in
                s.sequence &+= 1
                for id in ids { s.projects[id] = s.sequence }
            }
        }
    }
}

/// Which project the store's current write is about (`SQLStore` sets it around writes of project-scoped rows); nil
/// means anything, which invalidates every cached answer. A task-local, so the database layers read it without
/// every SQL call carrying it.
enum WriteScope {
    @TaskLocal static var project: String?
}

/// What the writes of one transaction were about, gathered until it commits.
final class WriteScopes: Sendable {
    enum Written: Sendable, Equatable {
        case nothing
        case account
        case projects(Set<String>)
    }

    private let state = Mutex(Written.nothing)

    /// Records a write about `project` (nil: anything).
    func record(project: String?) {
        state.withLock { w in
            guard let project else { w = .account; return }
            switch w {
            case .nothing: w = .projects([project])
            case .projects(var ids): ids.insert(project); w = .projects(ids)
            case .account: break
            }
        }
    }

    var written: Written { state.withLock { $0 } }
}
