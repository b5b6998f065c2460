import GroveConfig
import GroveModel

/// What one application's build needs.
public struct BuildRequest: Sendable {
    public var app: ApplicationConfig
    public var projectId: String
    public var entropy: String
    public var commit: String
    /// git's id of the application's tree.
    public var treeId: String
    /// Build-visible user variables: `PLATFORM_VARIABLES` content and `env:` ones.
    public var variables: JSONObject
    public var envVariables: [String: String]
    public var limits: BuildLimits

    public init(app: ApplicationConfig, projectId: String, entropy: String, commit: String, treeId: String,
                variables: JSONObject, envVariables: [String: String], limits: BuildLimits = BuildLimits()) {
        self.app = app; self.projectId = projectId; self.entropy = entropy; self.commit = commit; self.treeId = treeId
        self.variables = variables; self.envVariables = envVariables; self.limits = limits
    }
}

/// A finished, immutable build.
public struct Artifact: Sendable, Codable, Equatable {
    /// Content address of the build (also `PLATFORM_TREE_ID`).
    public var key: String
    /// Where the router finds the application's static files.
    public var hostPath: String
    /// Where the application sees its code (`PLATFORM_APP_DIR`).
    public var appDir: String
    /// What the language runtime adds to every process of the application (PATH, virtualenv, ...).
    public var runtimeEnvironment: [String: String]
    /// Taken from the cache rather than built now.
    public var reused: Bool

    public init(key: String, hostPath: String, appDir: String, runtimeEnvironment: [String: String], reused: Bool) {
        self.key = key; self.hostPath = hostPath; self.appDir = appDir; self.runtimeEnvironment = runtimeEnvironment; self.reused = reused
    }
}

/// Runs builds in isolation and caches their artifacts by tree: the same inputs are never built twice.
public protocol BuildExecutor: Sendable {
    /// Builds (or reuses) the application; `log` receives the build's output. Throws `DriverFailure` when the build fails.
    func build(_ request: BuildRequest, log: @escaping LogSink) async throws -> Artifact
    /// Empties the cache (`environment:redeploy --clear-cache`).
    func clearCache() async
    /// Removes builds an interrupted process left unfinished; returns what it removed.
    func removeUnfinished() async -> [String]
    /// Removes what the project's builds keep between builds (its build cache).
    func forgetProject(_ projectId: String) async
}
