import Foundation
import GroveConfig
import GroveModel
import GroveRuntime

/// What a service keeps in its volume beside its data: who may connect, decided once at first start, so a
/// clone (a branch) shares its parent's credentials as it shares its data.
public struct ServiceState: Codable, Sendable, Equatable {
    public struct Credential: Codable, Sendable, Equatable {
        public var username: String?
        public var password: String?
        /// Database (PostgreSQL, MariaDB) the endpoint points at.
        public var path: String?
        public var privileges: [String: String]
    }
    public var type: String
    public var version: String
    public var endpoints: [String: Credential]
}

/// One kind of service: how to check the host can run it, initialize its data, start it, make its databases
/// and users, and flush it before a copy.
protocol ServiceEngine: Sendable {
    /// Data and run directories as the service process sees them (inside its sandbox). `sandboxed` runs a shell
    /// script in the service's sandbox (its volume writable), where the host's directories above the data dir
    /// do not get in the way of the service's own user.
    func initialize(data: String, hostData: String, run: String, config: ServiceConfig,
                    sandboxed: @Sendable (String) async throws -> AdminCommand.Output) async throws -> ServiceState
    /// The shell script that runs the server in the foreground.
    func start(data: String, run: String, port: Int, config: ServiceConfig, state: ServiceState) -> String
    /// Creates what the configuration and the state name (idempotent: runs at every start).
    func provision(run: String, port: Int, state: ServiceState, config: ServiceConfig) async throws
    /// Asks the server to put its data on disk (before a copy that is not an atomic snapshot).
    func flush(run: String, port: Int, state: ServiceState) async
    /// The relationship fields of one endpoint.
    func endpoint(_ name: String, state: ServiceState, port: Int) -> (scheme: String, rel: String, credential: ServiceState.Credential?, query: JSONObject)
    /// Said in the deploy log when the host serves the requested version with another one.
    var versionNote: String? { get }
    /// Endpoints served on a port of their own beside the main one (RabbitMQ's `management`), for this configuration.
    func extraEndpoints(_ config: ServiceConfig) -> [String]
    /// Refuses a configuration the server would not start with, before the running one is stopped (a deploy that
    /// fails must leave the previous version serving).
    func check(_ config: ServiceConfig) async throws
    /// The script, given the ports of the extra endpoints too.
    func start(data: String, run: String, port: Int, extraPorts: [String: Int], config: ServiceConfig, state: ServiceState) -> String
}

extension ServiceEngine {
    var versionNote: String? { nil }
    func extraEndpoints(_ config: ServiceConfig) -> [String] { [] }
    func check(_ config: ServiceConfig) async throws {}
    func start(data: String, run: String, port: Int, extraPorts: [String: Int], config: ServiceConfig, state: ServiceState) -> String {
        start(data: data, run: run, port: port, config: config, state: state)
    }
}

/// The user a server drops to when Grove runs as root (databases refuse to run as root).
struct ServiceUser: Sendable {
    let name: String
    let uid: uid_t
    let gid: gid_t

    static func lookup(_ name: String) -> ServiceUser? {
        guard geteuid() == 0, let pw = getpwnam(name) else { return nil }
        return ServiceUser(name: name, uid: pw.pointee.pw_uid, gid: pw.pointee.pw_gid)
    }

    /// `setpriv` prefix for a shell script, or "" when not root.
    static func prefix(_ user: ServiceUser?) -> String {
        guard let user else { return "" }
        return "setpriv --reuid=\(user.uid) --regid=\(user.gid) --clear-groups "
    }

    /// Hands a directory tree to the service user.
    static func chown(_ path: String, to user: ServiceUser?) async {
        guard let user else { return }
        _ = try? await Shell.run(["/bin/chown", "-R", "\(user.uid):\(user.gid)", path])
    }
}

/// Small helpers for service administration commands.
enum Shell {
    static func run(_ argv: [String], environment: [String: String]? = nil) async throws -> AdminCommand.Output {
        try await AdminCommand.run(argv, environment: environment)
    }

    static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    static func secret() -> String { Identifier.lowercaseAlphanumeric(24) }
}

public struct ServiceFailure: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}
