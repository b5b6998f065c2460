import Foundation
import GroveConfig
import GroveGit
import GroveModel
import GroveStore

/// `environment.merge`: the child's code into its parent (fast-forward, or a merge commit), deployed on the
/// parent like a push; the parent's data is untouched. A conflict fails the activity and changes nothing.
public struct MergeRunner: ActivityRunner {
    let repositories: Repositories
    let deployer: Deployer?
    public init(repositories: Repositories, deployer: Deployer?) { self.repositories = repositories; self.deployer = deployer }
    public var resumable: Bool { false }

    public func run(_ ctx: ActivityContext) async throws {
        let p = ctx.activity.parameters
        let projectId = ctx.activity.projectId
        guard let child = p["environment"]?.stringValue, let parent = p["parent"]?.stringValue else { throw ActivityFailure("The merge activity is incomplete.") }
        let git = GitWriter(repositories: repositories, projectId: projectId)
        guard let theirs = try await git.head(of: child) else { throw ActivityFailure("\(child) has no code to merge.") }
        guard let ours = try await git.head(of: parent) else { throw ActivityFailure("The parent \(parent) has no code.") }
        if try await git.isAncestor(theirs, of: ours) {
            try await ctx.log("\(parent) already contains every commit of \(child): nothing to merge.")
            return
        }
        let author = try await ctx.commitAuthor()
        let hold = "refs/grove/pending/\(ctx.activity.id)"
        let new: String
        if try await git.isAncestor(ours, of: theirs) {
            try await ctx.step("Fast-forwarding \(parent) to \(child) (\(theirs.prefix(7)))", percent: 20)
            new = theirs
        } else {
            try await ctx.step("Merging \(child) into \(parent)", percent: 20)
            switch try await git.merge(ours: ours, theirs: theirs, message: "Merge branch '\(child)' into \(parent)", author: author, holdRef: hold) {
            case .conflicts(let files):
                throw ActivityFailure("Merge conflict between \(child) and \(parent) in: \(files.joined(separator: ", ")). Merge \(parent) into \(child) with git, resolve, push, and merge again.")
            case .merged(let commit):
                try await ctx.log("  Merge commit \(commit.prefix(7))")
                new = commit
            }
        }
        try await git.releasing(hold) {
            try await EnvironmentPushRunner(repositories: repositories, deployer: deployer).apply(ctx, environment: parent, old: ours, new: new, activate: false)
        }
    }
}

/// `environment.synchronize`: the parent's code into the child (fast-forward, or a rebase of the child's own
/// commits when asked) and/or the parent's data (fresh clones of its volumes and mounts), then the child
/// redeploys.
public struct SynchronizeRunner: ActivityRunner {
    let repositories: Repositories
    let deployer: Deployer?
    public init(repositories: Repositories, deployer: Deployer?) { self.repositories = repositories; self.deployer = deployer }
    public var resumable: Bool { false }

    public func run(_ ctx: ActivityContext) async throws {
        let p = ctx.activity.parameters
        let projectId = ctx.activity.projectId
        guard let child = p["environment"]?.stringValue, let parent = p["parent"]?.stringValue else { throw ActivityFailure("The synchronize activity is incomplete.") }
        let syncCode = p["synchronize_code"]?.boolValue ?? false, syncData = p["synchronize_data"]?.boolValue ?? false
        let rebase = p["rebase"]?.boolValue ?? false
        let git = GitWriter(repositories: repositories, projectId: projectId)
        let childHead = try await git.head(of: child)
        var newHead = childHead
        let hold = "refs/grove/pending/\(ctx.activity.id)"
        if syncCode, let parentHead = try await git.head(of: parent) {
            let containsParent = try await childHead.asyncFlatMap { try await git.isAncestor(parentHead, of: $0) } ?? false
            let behindParent = try await childHead.asyncFlatMap { try await git.isAncestor($0, of: parentHead) } ?? true
            if containsParent {
                try await ctx.log("\(child) already contains \(parent)'s code.")
            } else if behindParent {
                try await ctx.step("Fast-forwarding \(child) to \(parent) (\(parentHead.prefix(7)))", percent: 10)
                newHead = parentHead
            } else if rebase, let c = childHead {
                try await ctx.step("Rebasing \(child)'s commits onto \(parent)", percent: 10)
                guard let deployer else { throw ActivityFailure("This worker has no runtime.") }
                let scratch = (deployer.dataDir as NSString).appendingPathComponent("tmp/rebase-\(ctx.activity.id)")
                switch try await git.rebase(branch: child, onto: parent, scratch: scratch, author: try await ctx.commitAuthor(), holdRef: hold) {
                case .conflicts(let files): throw ActivityFailure("Rebasing \(child) onto \(parent) conflicts in: \(files.joined(separator: ", ")); nothing changed.")
                case .merged(let commit):
                    try await ctx.log("  \(child) rebased: \(c.prefix(7)) -> \(commit.prefix(7))")
                    newHead = commit
                }
            } else {
                throw ActivityFailure("\(child) has commits \(parent) does not have: synchronize with rebase, or merge it first.")
            }
        }
        try await git.releasing(hold) {
            if syncData, let deployer {
                try await ctx.step("Replacing \(child)'s data with a copy of \(parent)'s", percent: 30)
                try await deployer.cloneData(projectId: projectId, from: parent, to: child) { try await ctx.log($0) }
            }
            if let newHead, newHead != childHead {
                try await EnvironmentPushRunner(repositories: repositories, deployer: deployer).apply(ctx, environment: child, old: childHead ?? GitWriter.zero,
                                                                                                   new: newHead, activate: false)
            } else if let head = childHead, let deployer {
                try await ctx.step("Redeploying \(child)", percent: 60)
                let config = try await EnvironmentPushRunner.loadConfig(ctx, repositories: repositories, commit: head)
                try await deployer.deploy(projectId: projectId, environmentId: child, commit: head, config: config, deployHooks: false) { try await ctx.log($0) }
            }
        }
        try await ctx.log("\(child) is synchronized with \(parent).")
    }
}
