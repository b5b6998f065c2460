import Foundation
import GroveConfig
import GroveGit
import GroveModel
import GroveStore

/// `environment.backup`: snapshots the environment's services and mounts; the backup exists once this succeeds.
public struct BackupRunner: ActivityRunner {
    let repositories: Repositories
    let deployer: Deployer?
    public init(repositories: Repositories, deployer: Deployer?) { self.repositories = repositories; self.deployer = deployer }
    public var resumable: Bool { false }

    public func run(_ ctx: ActivityContext) async throws {
        let p = ctx.activity.parameters
        let projectId = ctx.activity.projectId
        guard let deployer, let envId = ctx.activity.environments.first, let backupId = p["backup_name"]?.stringValue else {
            throw ActivityFailure("The backup activity is incomplete.")
        }
        let safe = p["safe"]?.boolValue ?? true
        guard let env = try await ctx.store.environment(projectId: projectId, id: envId) else { throw ActivityFailure("Environment \(envId) no longer exists.") }
        try await ctx.step("Creating a \(safe ? "safe" : "live") backup \(backupId) of \(envId)", percent: 20)
        let bytes: UInt64
        do {
            bytes = try await deployer.backup(projectId: projectId, environmentId: envId, backupId: backupId, safe: safe) { try await ctx.log($0) }
        } catch {
            await deployer.deleteBackup(projectId: projectId, backupId: backupId)
            throw error
        }
        let head = try await GitWriter(repositories: repositories, projectId: projectId).head(of: envId) ?? env.headCommit
        var b = Backup(projectId: projectId, environmentId: envId, id: backupId, commitId: head, safe: safe,
                       method: deployer.backupMethod, createdAt: Timestamp.now())
        b.sizeOfVolumes = Int64(bytes)
        b.sizeUsed = Int64(bytes)
        b.automated = p["automated"]?.boolValue ?? false
        let project = try await ctx.store.project(id: projectId)
        let policy = project.flatMap { BackupRetention.policy(settings: $0.settings, type: env.type) }
        if b.automated, let policy, policy.automatedLifetime > 0 {
            b.expiresAt = Timestamp.format(Date().addingTimeInterval(policy.automatedLifetime))
        }
        try await ctx.store.insertBackup(b)
        try await ctx.log("Backup \(backupId) of \(envId) created (\(bytes / 1024) KiB, \(b.method)).")
        if let policy { try await Self.applyRetention(policy, ctx: ctx, deployer: deployer, environmentId: envId) }
    }

    /// Deletes the environment's backups its type's data_retention policy no longer keeps.
    static func applyRetention(_ policy: BackupRetention, ctx: ActivityContext, deployer: Deployer, environmentId: String) async throws {
        let all = try await ctx.store.backups(projectId: ctx.activity.projectId, environmentId: environmentId)
        let entries = all.compactMap { b in Timestamp.parse(b.createdAt).map { BackupRetention.Entry(id: b.id, created: $0, automated: b.automated) } }
        for id in policy.expired(entries).sorted() {
            await deployer.deleteBackup(projectId: ctx.activity.projectId, backupId: id)
            try await ctx.store.deleteBackup(projectId: ctx.activity.projectId, id: id)
            try await ctx.log("Backup \(id) removed by the data retention policy (\(policy.summary)).")
        }
    }
}

/// `environment.restore`: a backup's data (and, unless `restore_code` is false, its code) into its environment,
/// another one, or a new one branched from `branch_from`. The repository is not changed.
public struct RestoreRunner: ActivityRunner {
    let repositories: Repositories
    let deployer: Deployer?
    public init(repositories: Repositories, deployer: Deployer?) { self.repositories = repositories; self.deployer = deployer }
    public var resumable: Bool { false }

    public func run(_ ctx: ActivityContext) async throws {
        let p = ctx.activity.parameters
        let projectId = ctx.activity.projectId
        guard let deployer, let target = ctx.activity.environments.first, let backupId = p["backup"]?.stringValue,
              let backup = try await ctx.store.backup(projectId: projectId, id: backupId) else {
            throw ActivityFailure("The restore activity is incomplete or its backup is gone.")
        }
        let restoreCode = p["restore_code"]?.boolValue ?? true
        let git = GitWriter(repositories: repositories, projectId: projectId)
        guard var env = try await ctx.store.environment(projectId: projectId, id: target) else { throw ActivityFailure("Environment \(target) no longer exists.") }
        if try await git.head(of: target) == nil, let from = env.parent, let head = try await git.head(of: from) {
            try await git.moveBranch(target, to: head, from: GitWriter.zero)
            try await ctx.log("Created branch \(target) at \(head.prefix(7)) (from \(from)).")
        }
        try await ctx.step("Restoring backup \(backupId) of \(backup.environmentId) into \(target)", percent: 20)
        try await deployer.restoreBackup(projectId: projectId, backupId: backupId, into: target) { try await ctx.log($0) }
        let branchHead = try await git.head(of: target) ?? env.headCommit
        let commit = restoreCode ? (backup.commitId ?? branchHead) : branchHead
        if let commit {
            try await ctx.step("Deploying \(commit.prefix(7))\(restoreCode ? " (the code of the backup)" : "")", percent: 60)
            let config = try await EnvironmentPushRunner.loadConfig(ctx, repositories: repositories, commit: commit)
            try await deployer.deploy(projectId: projectId, environmentId: target, commit: commit, config: config, deployHooks: false) { try await ctx.log($0) }
        }
        env.headCommit = branchHead
        env.status = .active
        env.updatedAt = Timestamp.now()
        try await ctx.store.updateEnvironment(env)
        try await ctx.log("Backup \(backupId) restored into \(target).")
    }
}
