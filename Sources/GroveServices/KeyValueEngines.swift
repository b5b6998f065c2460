import Foundation
import GroveConfig
import GroveModel
import GroveRuntime

/// Redis (`redis`: memory only; `redis-persistent`: append-only file in the volume) and Valkey where installed.
struct RedisEngine: ServiceEngine {
    let server: String
    let persistent: Bool
    /// Debian's `redis` account when Grove runs as root: the server never runs as root.
    var user: ServiceUser? = nil

    static func locate(type: String, version: String) throws -> RedisEngine {
        let names = type == "valkey" ? ["/usr/bin/valkey-server"] : ["/usr/bin/redis-server"]
        guard let server = names.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ServiceFailure("\(type):\(version) cannot run on this host: \(type == "valkey" ? "valkey-server" : "redis-server") is not installed (apt-get install \(type == "valkey" ? "valkey" : "redis-server"))")
        }
        return RedisEngine(server: server, persistent: type == "redis-persistent" || type == "valkey",
                           user: ServiceUser.lookup(type == "valkey" ? "valkey" : "redis") ?? ServiceUser.lookup("nobody"))
    }

    func initialize(data: String, hostData: String, run: String, config: ServiceConfig,
                    sandboxed: @Sendable (String) async throws -> AdminCommand.Output) async throws -> ServiceState {
        await ServiceUser.chown(hostData, to: user)
        // A password of its own: every connection authenticates (AUTH), as clients read it from the relationship.
        return ServiceState(type: config.type.name, version: config.type.version,
                            endpoints: [config.endpoints.first ?? "redis": .init(username: nil, password: Shell.secret(), path: nil, privileges: [:])])
    }

    static func password(_ state: ServiceState) -> String? { state.endpoints.values.first?.password }

    func start(data: String, run: String, port: Int, config: ServiceConfig, state: ServiceState) -> String {
        let persistence = persistent ? "--appendonly yes --appendfsync everysec --save 60 1000" : "--appendonly no --save ''"
        let policy = config.configuration["maxmemory_policy"]?.stringValue.map { " --maxmemory-policy " + Shell.quote($0) } ?? ""
        // The password goes in through a file on standard input, not the command line other processes can read.
        let auth = Self.password(state).map { "printf 'requirepass %s\\n' \(Shell.quote($0)) | " } ?? ""
        let conf = auth.isEmpty ? "" : "- "
        return "\(auth)exec \(ServiceUser.prefix(user))\(server) \(conf)--port \(port) --bind 127.0.0.1 --dir \(data) --protected-mode yes --daemonize no --unixsocket \(run)/redis.sock --unixsocketperm 700 \(persistence)\(policy)"
    }

    func provision(run: String, port: Int, state: ServiceState, config: ServiceConfig) async throws {}

    func flush(run: String, port: Int, state: ServiceState) async {
        guard persistent, let cli = ["/usr/bin/redis-cli", "/usr/bin/valkey-cli"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return }
        _ = try? await Shell.run([cli, "-s", run + "/redis.sock", "BGREWRITEAOF"], environment: Self.password(state).map { ["REDISCLI_AUTH": $0] } ?? [:])
    }

    func endpoint(_ name: String, state: ServiceState, port: Int) -> (scheme: String, rel: String, credential: ServiceState.Credential?, query: JSONObject) {
        ("redis", name, state.endpoints.values.first, JSONObject())
    }
}

/// memcached: memory only.
struct MemcachedEngine: ServiceEngine {
    let server: String

    static func locate(version: String) throws -> MemcachedEngine {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/memcached") else {
            throw ServiceFailure("memcached:\(version) cannot run on this host: memcached is not installed (apt-get install memcached)")
        }
        return MemcachedEngine(server: "/usr/bin/memcached")
    }

    func initialize(data: String, hostData: String, run: String, config: ServiceConfig,
                    sandboxed: @Sendable (String) async throws -> AdminCommand.Output) async throws -> ServiceState {
        ServiceState(type: "memcached", version: config.type.version, endpoints: ["memcached": .init(username: nil, password: nil, path: nil, privileges: [:])])
    }

    func start(data: String, run: String, port: Int, config: ServiceConfig, state: ServiceState) -> String {
        // Debian's memcache account when Grove runs as root (memcached refuses root without -u; root is not given).
        "exec \(server) -l 127.0.0.1 -p \(port) -U 0 -m 64" + (geteuid() == 0 ? " -u " + (ServiceUser.lookup("memcache") != nil ? "memcache" : "nobody") : "")
    }

    func provision(run: String, port: Int, state: ServiceState, config: ServiceConfig) async throws {}
    func flush(run: String, port: Int, state: ServiceState) async {}

    func endpoint(_ name: String, state: ServiceState, port: Int) -> (scheme: String, rel: String, credential: ServiceState.Credential?, query: JSONObject) {
        ("memcached", "memcached", nil, JSONObject())
    }
}
