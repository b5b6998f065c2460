import Foundation
import GroveConfig
import GroveDriver
import GroveGit
import GroveModel

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
        let artifact = try await builds.build(BuildRequest(app: app, projectId: projectId, entropy: project.entropy, commit: commit, treeId: tree,
                                                           variables: vars.platform, envVariables: vars.env,
                                                           limits: BuildLimits.from(settings: project.settings, defaults: options.buildLimits)), log: log)
        var e = artifact.runtimeEnvironment
        for (k, v) in vars.env { e[k] = v }
        e["HOME"] = "/tmp"
        e["LANG"] = "C.UTF-8"
        e["TMPDIR"] = "/tmp"
        e["PLATFORM_APP_DIR"] = artifact.appDir
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
        // Like a build: the world through the host, nothing of the host or the environments; the checkout writable.
        let command = CommandSpec(environment: Self.envKey(projectId, environmentId), app: app.name, artifact: artifact,
                                  script: "set -e\ncd \"$PLATFORM_SOURCE_DIR\"\n" + command, variables: e, mounts: [], size: app.size,
                                  runtime: app.type.name, timeout: timeout, logName: "source-operation", writable: [sourceDir], network: .isolatedWorld,
                                  indent: "    ")
        return try await apps.run(command, log: log)
    }

    /// Hands a source operation's checkout to tenant code; returns how git must read it afterwards.
    public func prepareCheckout(_ directory: String) async throws -> String? { try await apps.prepareCheckout(directory) }

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

