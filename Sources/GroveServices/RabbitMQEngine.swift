import Crypto
import Foundation
import GroveConfig
import GroveModel
import GroveRuntime

/// `rabbitmq`: Debian's RabbitMQ, one node per service, AMQP on the service's port. Users, virtual hosts and
/// permissions come from a definitions file loaded at every boot, so `configuration.vhosts` changes apply on the
/// next start and a branch (a copy of the node's database) keeps its parent's queues.
struct RabbitMQEngine: ServiceEngine {
    static let server = "/usr/lib/rabbitmq/bin/rabbitmq-server"
    /// Debian's `rabbitmq` account when Grove runs as root.
    var user: ServiceUser? = nil
    var versionNote: String?

    static func locate(version: String) throws -> RabbitMQEngine {
        guard FileManager.default.isExecutableFile(atPath: server) else {
            throw ServiceFailure("rabbitmq:\(version) cannot run on this host: RabbitMQ is not installed (apt-get install rabbitmq-server)")
        }
        let found = hostVersion()
        var note: String?
        if let found, found != version {
            // Within a major version RabbitMQ keeps AMQP 0-9-1 and its data format; across majors it does not.
            guard found.split(separator: ".").first == version.split(separator: ".").first else {
                throw ServiceFailure("rabbitmq:\(version) cannot run on this host: it has RabbitMQ \(found) (Debian's rabbitmq-server), "
                                     + "another major version; use rabbitmq:\(found.split(separator: ".").first ?? "3").x or install RabbitMQ \(version)")
            }
            note = "rabbitmq:\(version) requested; this host runs RabbitMQ \(found) (same major version, same AMQP 0-9-1)"
        }
        return RabbitMQEngine(user: ServiceUser.lookup("rabbitmq") ?? ServiceUser.lookup("nobody"), versionNote: note)
    }

    /// "3.10" from the versioned directory the server script lives in.
    static func hostVersion() -> String? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: server),
              let m = target.firstMatch(of: /rabbitmq_server-(\d+)\.(\d+)/) else { return nil }
        return "\(m.1).\(m.2)"
    }

    func initialize(data: String, hostData: String, run: String, config: ServiceConfig,
                    sandboxed: @Sendable (String) async throws -> AdminCommand.Output) async throws -> ServiceState {
        await ServiceUser.chown(hostData, to: user)
        return ServiceState(type: "rabbitmq", version: config.type.version,
                            endpoints: ["rabbitmq": .init(username: "guest", password: Shell.secret(), path: nil, privileges: [:])])
    }

    /// RabbitMQ's `rabbit_password_hashing_sha256`: base64(salt ++ sha256(salt ++ password)), a 4-byte salt.
    static func passwordHash(_ password: String) -> String {
        var salt = [UInt8](repeating: 0, count: 4)
        var g = SystemRandomNumberGenerator()
        for i in salt.indices { salt[i] = UInt8.random(in: 0...255, using: &g) }
        let digest = SHA256.hash(data: salt + Array(password.utf8))
        return Data(salt + Array(digest)).base64EncodedString()
    }

    static func vhosts(_ config: ServiceConfig) -> [String] {
        ["/"] + (config.configuration["vhosts"]?.arrayValue ?? []).compactMap(\.stringValue).filter { $0 != "/" }
    }

    /// The management UI and HTTP API, when an application's relationship asks for `NAME:management`.
    func extraEndpoints(_ config: ServiceConfig) -> [String] { config.requestedEndpoints.contains("management") ? ["management"] : [] }

    func start(data: String, run: String, port: Int, config: ServiceConfig, state: ServiceState) -> String {
        start(data: data, run: run, port: port, extraPorts: [:], config: config, state: state)
    }

    func start(data: String, run: String, port: Int, extraPorts: [String: Int], config: ServiceConfig, state: ServiceState) -> String {
        let cred = state.endpoints["rabbitmq"] ?? state.endpoints.values.first
        let username = cred?.username ?? "guest"
        let vhosts = Self.vhosts(config)
        let definitions = JSON.object(JSONObject([
            ("users", .array([.object(JSONObject([("name", .string(username)), ("password_hash", .string(Self.passwordHash(cred?.password ?? ""))),
                                                  ("hashing_algorithm", "rabbit_password_hashing_sha256"), ("tags", ["administrator"])]))])),
            ("vhosts", .array(vhosts.map { .object(JSONObject([("name", .string($0))])) })),
            ("permissions", .array(vhosts.map { .object(JSONObject([("user", .string(username)), ("vhost", .string($0)),
                                                                    ("configure", ".*"), ("write", ".*"), ("read", ".*")])) })),
        ]))
        let conf = """
        listeners.tcp.1 = 127.0.0.1:\(port)
        loopback_users = none
        load_definitions = \(run)/definitions.json
        log.console = true
        log.console.level = warning
        log.file = false

        """ + (extraPorts["management"].map { "management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = \($0)\n" } ?? "")
        _ = FileManager.default.createFile(atPath: run + "/definitions.json", contents: Data(definitions.serialized().utf8), attributes: [.posixPermissions: 0o644])
        _ = FileManager.default.createFile(atPath: run + "/rabbitmq.conf", contents: Data(conf.utf8), attributes: [.posixPermissions: 0o644])
        let plugins = extraPorts["management"] == nil ? "[].\n" : "[rabbitmq_management].\n"
        _ = FileManager.default.createFile(atPath: run + "/enabled_plugins", contents: Data(plugins.utf8), attributes: [.posixPermissions: 0o666])
        // A stable node name keeps the copied database usable on a branch; each environment has its own network,
        // so names only need to differ between the services of one environment. The distribution port follows the
        // AMQP port so two nodes of one environment do not meet.
        let dist = port > 45_000 ? port - 20_000 : port + 20_000
        let env = [
            "HOME=\(data)", "RABBITMQ_NODENAME=rabbit-\(config.name)@localhost", "RABBITMQ_USE_LONGNAME=false",
            "RABBITMQ_DIST_PORT=\(dist)", "ERL_EPMD_ADDRESS=127.0.0.1",
            "RABBITMQ_CONFIG_FILE=\(run)/rabbitmq.conf", "RABBITMQ_ENABLED_PLUGINS_FILE=\(run)/enabled_plugins",
            "RABBITMQ_MNESIA_BASE=\(data)/mnesia", "RABBITMQ_MNESIA_DIR=\(data)/mnesia/node", "RABBITMQ_LOG_BASE=\(run)/log",
            "RABBITMQ_LOGS=-", "RABBITMQ_PID_FILE=\(run)/rabbitmq.pid", "RABBITMQ_GENERATED_CONFIG_DIR=\(run)/config",
            "RABBITMQ_SCHEMA_DIR=\(run)/schema", "RABBITMQ_PLUGINS_EXPAND_DIR=\(run)/plugins",
            // Every committed change of the broker's metadata (queues, bindings) reaches Mnesia's table files at once,
            // so a branch's copy taken a moment later holds it.
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-mnesia dump_log_write_threshold 1",
        ].map(Shell.quote).joined(separator: " ")
        return "exec \(ServiceUser.prefix(user))env \(env) \(Self.server)"
    }

    func provision(run: String, port: Int, state: ServiceState, config: ServiceConfig) async throws {}
    func flush(run: String, port: Int, state: ServiceState) async {}

    func endpoint(_ name: String, state: ServiceState, port: Int) -> (scheme: String, rel: String, credential: ServiceState.Credential?, query: JSONObject) {
        let cred = state.endpoints["rabbitmq"] ?? state.endpoints.values.first
        return name == "management" ? ("http", "management", cred, JSONObject()) : ("amqp", "rabbitmq", cred, JSONObject())
    }
}
