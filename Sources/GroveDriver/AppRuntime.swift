import GroveModel

/// A writable directory an application mounts (`mounts:` of its configuration).
public struct MountRequest: Sendable, Codable, Equatable {
    /// Where the application sees it, relative to its directory.
    public var path: String
    /// `local`, `storage`, `tmp` or `service`.
    public var source: String
    public var sourcePath: String
    /// The network-storage service backing a `service` mount.
    public var service: String?
    public init(path: String, source: String, sourcePath: String, service: String? = nil) {
        self.path = path; self.source = source; self.sourcePath = sourcePath; self.service = service
    }
}

/// How a web instance takes requests.
public enum InstanceListener: Sendable, Codable, Equatable {
    /// A worker: no requests.
    case none
    /// HTTP on `$PORT`.
    case port(Int)
    /// HTTP on the unix socket `$SOCKET` (`socket_family: unix`); the port stays reserved for it.
    case socket(port: Int)
    /// PHP without a start command: PHP-FPM speaks FastCGI on the port.
    case fastCGI(port: Int)

    public var port: Int? {
        switch self {
        case .none: return nil
        case .port(let p), .socket(let p), .fastCGI(let p): return p
        }
    }
}

/// One long-running process of an environment: an application's web instance or a worker.
public struct InstanceSpec: Sendable, Codable, Equatable {
    /// Unique for this start (environment, application, kind and generation).
    public var id: String
    public var environment: EnvironmentKey
    public var app: String
    /// `web` or `worker:<name>`.
    public var kind: String
    public var artifact: Artifact
    /// The shell script it runs (the `.environment` file sourced, pre_start, start).
    public var script: String
    public var variables: [String: String]
    public var mounts: [MountRequest]
    /// Its `size` and runtime family: the resources it is held to.
    public var size: String
    public var runtime: String
    /// Its log's name in the environment's log directory (`<name>.log`).
    public var logName: String
    public var listener: InstanceListener
    /// The deployment it belongs to (run files of different generations never collide).
    public var generation: Int

    public init(id: String, environment: EnvironmentKey, app: String, kind: String, artifact: Artifact, script: String, variables: [String: String],
                mounts: [MountRequest], size: String, runtime: String, logName: String, listener: InstanceListener, generation: Int) {
        self.id = id; self.environment = environment; self.app = app; self.kind = kind; self.artifact = artifact; self.script = script
        self.variables = variables; self.mounts = mounts; self.size = size; self.runtime = runtime; self.logName = logName
        self.listener = listener; self.generation = generation
    }
}

/// Where a started instance is reached by the router.
public struct InstanceEndpoint: Sendable, Codable, Equatable {
    public var host: String
    public var port: Int?
    public var socket: String?
    /// What the runtime holds it to, for the activity log (" (size S: ...)").
    public var note: String
    public init(host: String, port: Int?, socket: String?, note: String = "") { self.host = host; self.port = port; self.socket = socket; self.note = note }
}

/// A one-off command beside an application: a hook, a cron, a runtime or source operation.
public struct CommandSpec: Sendable {
    public enum Network: Sendable { case environment, isolatedWorld }
    public var environment: EnvironmentKey
    public var app: String
    public var artifact: Artifact
    public var script: String
    public var variables: [String: String]
    public var mounts: [MountRequest]
    public var size: String
    public var runtime: String
    /// Seconds before it is stopped (status 124); nil: no limit.
    public var timeout: Int?
    /// `<logName>.log` in the environment's log directory keeps its output.
    public var logName: String
    /// Host directories it may write besides its mounts (a source operation's checkout); the first is its working directory.
    public var writable: [String]
    /// `.environment`: the environment's network (reaches its services); `.isolatedWorld`: like a build.
    public var network: Network
    /// Prefix of each output line in the activity log.
    public var indent: String

    public init(environment: EnvironmentKey, app: String, artifact: Artifact, script: String, variables: [String: String], mounts: [MountRequest],
                size: String, runtime: String, timeout: Int?, logName: String, writable: [String] = [], network: Network = .environment, indent: String = "") {
        self.environment = environment; self.app = app; self.artifact = artifact; self.script = script; self.variables = variables
        self.mounts = mounts; self.size = size; self.runtime = runtime; self.timeout = timeout; self.logName = logName; self.writable = writable
        self.network = network; self.indent = indent
    }
}

/// Something the runtime saw happen to a running instance on its own (not asked by the orchestrator).
public struct InstanceEvent: Sendable, Equatable {
    public var instanceId: String
    /// `restarted`: it exited and the runtime started it again (`error` says how).
    public var state: String
    public var error: String?
    public init(instanceId: String, state: String, error: String?) { self.instanceId = instanceId; self.state = state; self.error = error }
}

/// The standard streams an interactive session's process gets: descriptors of the caller's (pipes, or one terminal
/// for all three, which then becomes the session's controlling terminal).
public struct SessionIO: Sendable {
    public var stdin: Int32
    public var stdout: Int32
    public var stderr: Int32
    public var terminal: Bool
    public init(stdin: Int32, stdout: Int32, stderr: Int32, terminal: Bool) {
        self.stdin = stdin; self.stdout = stdout; self.stderr = stderr; self.terminal = terminal
    }
}

/// A session's process while it runs.
public struct RunningSession: Sendable {
    /// Waits for its exit status (128 + signal when killed) and releases what it held.
    public let wait: @Sendable () async -> Int32
    /// Signals its processes.
    public let signal: @Sendable (Int32) -> Void
    public init(wait: @escaping @Sendable () async -> Int32, signal: @escaping @Sendable (Int32) -> Void) { self.wait = wait; self.signal = signal }
}

/// Starts, stops and watches the processes of applications, workers and commands, with their limits.
public protocol AppRuntime: Sendable {
    /// What happens to instances between deployments (crashes and restarts), for the observed deployment state.
    var events: AsyncStream<InstanceEvent> { get }
    /// Starts the instance; with `waitUntilReady`, returns once a web instance accepts connections (throws, with the
    /// end of its log, when it exits or does not listen in time).
    func start(_ spec: InstanceSpec, waitUntilReady: Bool) async throws -> InstanceEndpoint
    func stop(_ id: String, grace: Duration) async
    /// Distinct free ports for the web instances of one deployment (chosen before services start: varnish names them).
    func reservePorts(_ count: Int) async throws -> [Int]
    /// Runs a command to its end; returns its exit status (124: stopped after its timeout).
    func run(_ command: CommandSpec, log: @escaping LogSink) async throws -> Int32
    /// Starts an interactive session (an SSH shell or command) exactly where `command` would run, on `io`; its
    /// `timeout`, `logName` and `indent` are not used.
    func session(_ command: CommandSpec, io: SessionIO) async throws -> RunningSession
    /// Where Grove's host reaches the environment's ports (its network's address).
    func address(of environment: EnvironmentKey) async -> String
    /// Releases what the environment holds besides instances (its network).
    func release(_ environment: EnvironmentKey) async
    /// The environment's log directory: `<app>.log`, `<app>--<worker>.log`, hooks, crons, operations, access and error logs.
    func logDirectory(_ environment: EnvironmentKey) -> String
    /// False when mounts cannot be written on this runtime (the deploy log says so).
    var mountsWritable: Bool { get }
    /// Hands a source operation's checkout to tenant code; returns the `git-upload-pack` command git must read it
    /// with afterwards (nil: plain git).
    func prepareCheckout(_ directory: String) async throws -> String?
    func info() async -> JSONObject
    func shutdown() async
}
