import GroveGit
import GroveModel
import GroveStore

/// Activities that record a change already applied to the store (variables, settings).
/// Their log says what changed and when it takes effect.
public struct RecordRunner: ActivityRunner {
    public init() {}
    public var resumable: Bool { true }
    public var recordOnly: Bool { true }

    public func run(_ ctx: ActivityContext) async throws {
        let lines = (ctx.activity.parameters["log"]?.arrayValue ?? []).compactMap(\.stringValue)
        for (i, line) in lines.enumerated() {
            try await ctx.step(line, percent: (i + 1) * 90 / max(1, lines.count))
        }
    }
}

public enum DefaultRunners {
    /// Every activity type this version can run.
    public static func all(repositories: Repositories, deployer: Deployer? = nil) -> [String: any ActivityRunner] {
        var r: [String: any ActivityRunner] = [
            "project.create": ProjectCreateRunner(repositories: repositories),
            "environment.branch": EnvironmentBranchRunner(repositories: repositories, deployer: deployer),
            "environment.push": EnvironmentPushRunner(repositories: repositories, deployer: deployer),
            "environment.deactivate": BranchDeletedRunner(repositories: repositories, deployer: deployer),
            "project.clear_build_cache": ClearBuildCacheRunner(deployer: deployer),
            "environment.cron": CronRunner(deployer: deployer),
            "environment.activate": EnvironmentLifecycleRunner(.activate, repositories: repositories, deployer: deployer),
            "environment.redeploy": EnvironmentLifecycleRunner(.redeploy, repositories: repositories, deployer: deployer),
            "environment.maintenance-redeploy": EnvironmentLifecycleRunner(.redeploy, repositories: repositories, deployer: deployer),
            "environment.pause": EnvironmentLifecycleRunner(.pause, repositories: repositories, deployer: deployer),
            "environment.resume": EnvironmentLifecycleRunner(.resume, repositories: repositories, deployer: deployer),
            "environment.delete": EnvironmentDeleteRunner(repositories: repositories, deployer: deployer),
        ]
        r["environment.source-operation"] = SourceOperationRunner(repositories: repositories, deployer: deployer)
        r["environment.merge"] = MergeRunner(repositories: repositories, deployer: deployer)
        r["environment.backup"] = BackupRunner(repositories: repositories, deployer: deployer)
        r["environment.restore"] = RestoreRunner(repositories: repositories, deployer: deployer)
        r["environment.backup.delete"] = BackupDeleteRunner(deployer: deployer)
        r["project.certificate.refresh"] = CertificateRefreshRunner(deployer: deployer)
        r["project.delete"] = ProjectDeleteRunner(repositories: repositories, deployer: deployer)
        r["environment.synchronize"] = SynchronizeRunner(repositories: repositories, deployer: deployer)
        r["environment.operation"] = RuntimeOperationRunner(deployer: deployer)
        for verb in ["create", "update", "delete"] {
            r["environment.route.\(verb)"] = RouteChangeRunner(repositories: repositories, deployer: deployer)
            r["environment.domain.\(verb)"] = DomainChangeRunner(repositories: repositories, deployer: deployer)
        }
        for t in ["project.variable.create", "project.variable.update", "project.variable.delete",
                  "environment.variable.create", "environment.variable.update", "environment.variable.delete",
                  "environment.update.http_access", "environment.update.smtp", "environment.update.restrict_robots",
                  "project.modify.title", "integration.create", "integration.update", "integration.delete"] {
            r[t] = RecordRunner()
        }
        return r
    }
}

/// `project.clear_build_cache`: forgets every built artifact, so the next deploy builds afresh.
public struct ClearBuildCacheRunner: ActivityRunner {
    let deployer: Deployer?
    public var resumable: Bool { true }
    public func run(_ ctx: ActivityContext) async throws {
        try await ctx.step("Clearing the build cache.", percent: 50)
        await deployer?.clearBuildCache()
        try await ctx.log("The build cache is empty; the next deployment builds every application again.")
    }
}
