import Foundation
import GroveConfig
import GroveModel
import GroveRuntime

/// Redis (`redis`: memory only; `redis-persistent`: append-only file in the volume) and Valkey where installed.
struct RedisEngine: ServiceEngine {
    let server: String
    let persistent: Bool

    static func locate(type: String, version: String) throws -> RedisEngine {
        let names = type == "valkey" ? ["/usr/bin/valkey-server"] : ["/usr/bin/redis-server"]
        guard let server = names.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ServiceFailure("\(type):\(version) cannot run on this host: \(type == "valkey" ? "valkey-server" : "redis-server") is not installed (apt-get install \(type == "valkey" ? "valkey" : "redis-server"))")
        }
        return RedisEngine(server: server, persistent: type == "redis-persistent" || type == "valkey")
    }

    func initialize(data: String, hostData: String, run: String, config: ServiceConfig,
                    sandboxed: @Sendable (String) async throws -> AdminCommand.Output) async throws -> ServiceState {
        ServiceState(type: config.type.name, version: config.type.version, endpoints: [config.endpoints.first ?? "redis": .init(username: nil, password: nil, path: nil, privileges: [:])])
    }

    func start(data: String, run: String, port: Int, config: ServiceConfig) -> String {
        let persistence = persistent ? "--appendonly yes --appendfsync everysec --save 60 1000" : "--appendonly no --save ''"
        let policy = config.configuration["maxmemory_policy"]?.stringValue.map { " --maxmemory-policy " + Shell.quote($0) } ?? ""
        return "exec \(server) --port \(port) --bind 127.0.0.1 --dir \(data) --protected-mode no --daemonize no --unixsocket \(run)/redis.sock \(persistence)\(policy)"
    }

    func provision(run: String, port: Int, state: ServiceState, config: ServiceConfig) async throws {}

    func flush(run: String, port: Int, state: ServiceState) async {
        guard persistent, let cli = ["/usr/bin/redis-cli", "/usr/bin/valkey-cli"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return }
        _ = try? await Shell.run([cli, "-s", run + "/redis.sock", "BGREWRITEAOF"])
    }

    func endpoint(_ name: String, state: ServiceState, port: Int) -> (scheme: String, rel: String, credential: ServiceState.Credential?, query: JSONObject) {
        ("redis", name, nil, JSONObject())
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

    func start(data: String, run: String, port: Int, config: ServiceConfig) -> String {
        "exec \(server) -l 127.0.0.1 -p \(port) -U 0 -m 64" + (geteuid() == 0 ? " -u root" : "")
    }

    func provision(run: String, port: Int, state: ServiceState, config: ServiceConfig) async throws {}
    func flush(run: String, port: Int, state: ServiceState) async {}

    func endpoint(_ name: String, state: ServiceState, port: Int) -> (scheme: String, rel: String, credential: ServiceState.Credential?, query: JSONObject) {
        ("memcached", "memcached", nil, JSONObject())
    }
}
