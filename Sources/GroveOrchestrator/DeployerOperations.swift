import Foundation
import GroveBuild
import GroveConfig
import GroveGit
import GroveModel
import GroveRuntime

/// Commands run on demand: source operations (on a writable checkout, producing commits) and runtime
/// operations (beside the running application).
extension Deployer {
    /// The data directory, for runners that need scratch space beside it.
    public nonisolated var dataDir: String { options.dataDir }

    /// Runs one application's source operation with the app's build (built now if the cache lacks it) at the
    /// app dir, build-time variables plus `overrides`, and `sourceDir` (a checkout of the branch) writable as
    /// `PLATFORM_SOURCE_DIR`. Returns the command's exit status.
    public func runSourceOperation(projectId: String, environmentId: String, commit: String, app: ApplicationConfig, command: String,
                                   sourceDir: String, overrides: [String: [String: String]], timeout: Int = 3600,
                                   log: @escaping @Sendable (String) async throws -> Void) async throws -> Int32 {
        guard let project = try await store.project(id: projectId), let env = try await store.environment(projectId: projectId, id: environmentId) else {
            throw ActivityFailure("The environment no longer exists.")
        }
        let git = GitWriter(repositories: repositories, projectId: projectId)
        let user = try await userVariables(project: project, env: env)
        var vars = variables(user, app: app, visibility: .build)
        for (prefix, group) in overrides {
            for (name, value) in group {
                if prefix == "env" { vars.env[name] = value } else { vars.platform["\(prefix):\(name)"] = .string(value) }
            }
        }
        let tree = try await git.treeId(commit: commit, path: app.root) ?? commit
        let artifact = try await builder.build(Builder.Request(app: app, projectId: projectId, entropy: project.entropy, commit: commit, treeId: tree,
                                                               variables: vars.platform, envVariables: vars.env,
                                                               limits: BuildLimits.from(settings: project.settings, defaults: options.buildLimits)), log: log)
        let inside = sandbox.appPath(hostPath: artifact.path)
        var e = artifact.runtime.environment(app: inside)
        for (k, v) in vars.env { e[k] = v }
        e["HOME"] = "/tmp"
        e["LANG"] = "C.UTF-8"
        e["TMPDIR"] = "/tmp"
        e["PLATFORM_APP_DIR"] = inside
        e["PLATFORM_SOURCE_DIR"] = sourceDir
        e["PLATFORM_APPLICATION_NAME"] = app.name
        e["PLATFORM_APPLICATION"] = Data(app.document.bytes).base64EncodedString()
        e["PLATFORM_PROJECT"] = projectId
        e["PLATFORM_PROJECT_ENTROPY"] = project.entropy
        e["PLATFORM_BRANCH"] = env.id
        e["PLATFORM_ENVIRONMENT"] = env.machineName
        e["PLATFORM_ENVIRONMENT_TYPE"] = env.type.rawValue
        e["PLATFORM_TREE_ID"] = artifact.key
        e["PLATFORM_VARIABLES"] = Data(JSON.object(vars.platform).bytes).base64EncodedString()
        // Like a build: the world through the host, nothing of the host or the environments.
        let netKey = "source-operation/\(projectId)/\(environmentId)/\(UInt32.random(in: 0...UInt32.max))"
        let enter = try await networks?.network(for: netKey)?.enter ?? []
        let argv = enter + sandbox.command("set -e\ncd \"$PLATFORM_SOURCE_DIR\"\n" + command, app: artifact.path, writableApp: false,
                                           extraBinds: [(sourceDir, sourceDir)])
        let logDir = (dataDir as NSString).appendingPathComponent("logs/\(projectId)/\(environmentId)")
        try FileManager.default.createDirectory(atPath: logDir, withIntermediateDirectories: true)
        do {
            let status = try await runTimed(argv, env: e, cwd: sandbox.mode == .plain ? sourceDir : nil, timeout: timeout,
                                            stepLog: logDir + "/source-operation-step.log", logFile: logDir + "/source-operation.log", log: log)
            await networks?.remove(netKey)
            return status
        } catch {
            await networks?.remove(netKey)
            throw error
        }
    }

    /// The commit an environment runs and the configuration of one of its applications, or nil when not deployed.
    public func deployedApp(projectId: String, environmentId: String, app: String) async throws -> ApplicationConfig? {
        guard let d = current[Self.envKey(projectId, environmentId)], d.apps.contains(where: { $0.app == app }) else { return nil }
        return try await appConfig(projectId: projectId, commit: d.commit, app: app)
    }

    /// Runs a runtime operation's start command beside the running application; `parameters` reach it as
    /// `$1…` and as JSON in `PLATFORM_OPERATION_PARAMETERS`.
    public func runOperation(projectId: String, environmentId: String, app: String, command: String, parameters: [String], timeout: Int = 3600,
                             log: @escaping @Sendable (String) async throws -> Void) async throws -> Int32 {
        let quoted = parameters.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let script = parameters.isEmpty ? command : "set -- \(quoted)\n" + command
        return try await runInInstance(projectId: projectId, environmentId: environmentId, app: app, command: script, timeout: timeout,
                                       logName: "operation", extraEnvironment: ["PLATFORM_OPERATION_PARAMETERS": JSON(parameters).serialized()], log: log)
    }
}

extension Deployer {
    /// Where an environment's logs are written: `<app>.log`, `<app>--<worker>.log`, deploy, post-deploy, cron,
    /// operation, source-operation, and the router's access and error logs.
    public nonisolated func logDirectory(projectId: String, environmentId: String) -> String {
        (options.dataDir as NSString).appendingPathComponent("logs/\(projectId)/\(environmentId)")
    }
}

extension Deployer {
    /// Gives `child` copies of `parent`'s service data (replacing any it had); nothing when the parent has none.
    public func cloneData(projectId: String, from parent: String, to child: String, log: @escaping @Sendable (String) async throws -> Void) async throws {
        try await cloneMounts(projectId: projectId, from: parent, to: child, log: log)
        guard let services, await services.hasData(projectId: projectId, environmentId: parent) else {
            try await log("  The parent \(parent) has no service data to copy.")
            return
        }
        do {
            try await services.clone(projectId: projectId, from: parent, to: child, log: log)
        } catch {
            // A half-cloned environment is worse than an empty one: remove what was copied.
            try? await services.destroy(projectId: projectId, environmentId: child)
            throw ActivityFailure("Copying \(parent)'s data failed; \(child) has none: \(error)")
        }
    }
}

extension Deployer {
    func mountsDirectory(_ projectId: String, _ environmentId: String) -> String {
        (options.dataDir as NSString).appendingPathComponent("mounts/\(projectId)/\(environmentId)")
    }

    /// The child's mounts become a copy of the parent's (reflinks where the filesystem has them).
    func cloneMounts(projectId: String, from parent: String, to child: String, log: @escaping @Sendable (String) async throws -> Void) async throws {
        let src = mountsDirectory(projectId, parent), dst = mountsDirectory(projectId, child)
        try? FileManager.default.removeItem(atPath: dst)
        guard FileManager.default.fileExists(atPath: src) else { return }
        try FileManager.default.createDirectory(atPath: (dst as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let out = try await AdminCommand.run(["/bin/cp", "-a", "--reflink=auto", src, dst])
        guard out.status == 0 else { throw ActivityFailure("Copying \(parent)'s mounts failed: \(out.text)") }
        try await log("  Copied the mounts of \(parent)")
    }

    /// Deletes an environment's mounts (deactivate, delete).
    func deleteMounts(projectId: String, environmentId: String) {
        try? FileManager.default.removeItem(atPath: mountsDirectory(projectId, environmentId))
    }
}

extension Deployer {
    static func backupPrefix(_ projectId: String, _ backupId: String) -> String { "_backups/\(projectId)/\(backupId)" }

    func backupMounts(_ projectId: String, _ backupId: String) -> String {
        (options.dataDir as NSString).appendingPathComponent("backups/\(projectId)/\(backupId)/mounts")
    }

    /// Snapshots an environment's service volumes and mounts as backup `backupId`; returns the bytes kept.
    public func backup(projectId: String, environmentId: String, backupId: String, safe: Bool,
                       log: @escaping @Sendable (String) async throws -> Void) async throws -> UInt64 {
        var total: UInt64 = 0
        if let services {
            total += try await services.snapshot(projectId: projectId, environmentId: environmentId, to: Self.backupPrefix(projectId, backupId),
                                                 safe: safe, log: log)
        }
        let src = mountsDirectory(projectId, environmentId), dst = backupMounts(projectId, backupId)
        if FileManager.default.fileExists(atPath: src) {
            try FileManager.default.createDirectory(atPath: (dst as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let out = try await AdminCommand.run(["/bin/cp", "-a", "--reflink=auto", src, dst])
            guard out.status == 0 else { throw ActivityFailure("Copying the mounts failed: \(out.text)") }
            try await log("  Backed up the mounts")
        }
        return total
    }

    /// Replaces `environmentId`'s service data and mounts with backup `backupId`'s.
    public func restoreBackup(projectId: String, backupId: String, into environmentId: String,
                              log: @escaping @Sendable (String) async throws -> Void) async throws {
        if let services {
            try await services.restore(projectId: projectId, environmentId: environmentId, from: Self.backupPrefix(projectId, backupId), log: log)
        }
        let src = backupMounts(projectId, backupId), dst = mountsDirectory(projectId, environmentId)
        try? FileManager.default.removeItem(atPath: dst)
        if FileManager.default.fileExists(atPath: src) {
            try FileManager.default.createDirectory(atPath: (dst as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let out = try await AdminCommand.run(["/bin/cp", "-a", "--reflink=auto", src, dst])
            guard out.status == 0 else { throw ActivityFailure("Restoring the mounts failed: \(out.text)") }
            try await log("  Restored the mounts")
        }
    }

    /// Deletes a backup's data.
    public func deleteBackup(projectId: String, backupId: String) async {
        try? await services?.deleteVolumes(under: Self.backupPrefix(projectId, backupId))
        try? FileManager.default.removeItem(atPath: (backupMounts(projectId, backupId) as NSString).deletingLastPathComponent)
    }

    /// What is left of a project once its environments are undeployed: its backups, and its (now empty) directories
    /// of volumes, mounts, logs and service run files.
    public func forgetProject(_ projectId: String) async {
        try? await services?.deleteVolumes(under: "_backups/\(projectId)")
        for dir in ["backups/\(projectId)", "mounts/\(projectId)", "logs/\(projectId)", "run/services/\(projectId)"] {
            try? FileManager.default.removeItem(atPath: (options.dataDir as NSString).appendingPathComponent(dir))
        }
        // Only an empty directory: a volume that could not be deleted stays where an operator can see it.
        if let root = services?.volumes.root {
            rmdir((root as NSString).appendingPathComponent("_backups/\(projectId)"))
            rmdir((root as NSString).appendingPathComponent(projectId))
        }
    }

    /// How backups are kept on this server.
    public nonisolated var backupMethod: String { (services?.volumes.driver.atomic ?? false) ? "snapshot" : "copy" }
}

extension Deployer {
    /// What this server runs on, for `grove system:info`: sandbox, volume driver, cgroups, router ports.
    public func systemInfo() async -> JSONObject {
        JSONObject([
            ("sandbox", .string(sandbox.mode.rawValue)),
            ("volume_driver", JSON(services?.volumes.driver.rawValue)),
            ("copy_on_write", .bool(services?.volumes.driver.copyOnWrite ?? false)),
            ("volumes", JSON(services?.volumes.root)),
            ("cgroups", .string(cgroups.mode.rawValue)),
            ("router_http_port", .int(Int64(await router.port))),
            ("router_https_port", await router.tlsPort.map { JSON.int(Int64($0)) } ?? .null),
            ("base_domain", .string(options.baseDomain)),
        ])
    }
}
