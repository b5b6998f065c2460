import Foundation
import GroveGit
import GroveModel
import GroveStore

/// `environment.backup.delete`: the backup's record is gone already; its data goes on the runtime that holds it.
public struct BackupDeleteRunner: ActivityRunner {
    let deployer: Deployer?
    public init(deployer: Deployer?) { self.deployer = deployer }
    public var resumable: Bool { true }

    public func run(_ ctx: ActivityContext) async throws {
        guard let id = ctx.activity.parameters["backup_name"]?.stringValue else { throw ActivityFailure("The activity names no backup.") }
        try await ctx.step("Deleting the data of backup \(id).", percent: 50)
        await deployer?.deleteBackup(projectId: ctx.activity.projectId, backupId: id)
        try await ctx.log("Backup \(id) deleted.")
    }
}

/// `project.certificate.refresh`: every deployed environment of the project serves the project's current certificates.
public struct CertificateRefreshRunner: ActivityRunner {
    let deployer: Deployer?
    public init(deployer: Deployer?) { self.deployer = deployer }
    public var resumable: Bool { true }

    public func run(_ ctx: ActivityContext) async throws {
        try await ctx.step("Loading the project's certificates into the router.", percent: 50)
        try await deployer?.refreshCertificates(projectId: ctx.activity.projectId)
        try await ctx.log("The router serves the project's certificates.")
    }
}

/// `project.delete`: stops everything that runs for the project (applications, workers, services, routes,
/// networks) and deletes its data, backups, repository and build cache; then its records and subscription.
/// Each step is idempotent, so a worker that restarts mid-way runs it again to the end.
public struct ProjectDeleteRunner: ActivityRunner {
    let repositories: Repositories
    let deployer: Deployer?
    public init(repositories: Repositories, deployer: Deployer?) { self.repositories = repositories; self.deployer = deployer }
    public var resumable: Bool { true }

    public func run(_ ctx: ActivityContext) async throws {
        let projectId = ctx.activity.projectId
        let subscriptionId = ctx.activity.parameters["subscription_id"]?.stringValue
        if let deployer {
            // What the records name and what the runtime still runs.
            var environments = Set(try await ctx.store.environments(projectId: projectId).map(\.id))
            environments.formUnion(await deployer.deployedEnvironments(projectId: projectId))
            for e in environments.sorted() {
                try await ctx.log("Stopping environment \(e) and deleting its data.")
                await deployer.undeploy(projectId: projectId, environmentId: e, keepData: false)
            }
            await deployer.forgetProject(projectId)
        }
        try await ctx.step("Deleting the project's repository and records.", percent: 90)
        repositories.delete(projectId)
        // The activity goes with the project's records: this is its last word.
        try await ctx.store.transaction { tx in
            try await tx.deleteProject(id: projectId)
            if let subscriptionId { try await tx.deleteSubscription(id: subscriptionId) }
        }
    }
}
