import Foundation
import GroveConfig
import GroveDriver
import GroveGit
import GroveModel
import GroveStore

/// A scheduled command of a deployed application.
public struct ScheduledCron: Codable, Sendable {
    public var app: String
    public var name: String
    public var spec: String
    public var start: String
    public var timeout: Int
    public var timezone: String
}

/// What an environment should run, as the worker deployed it: the desired half of its `DeploymentRecord`.
struct DesiredDeployment: Codable, Sendable {
    typealias Cron = ScheduledCron

    var commit: String
    var generation: Int
    /// The instances it started, as started (restarted as they are when a worker starts again).
    var apps: [InstanceSpec]
    var routes: [String]
    /// `PLATFORM_ROUTES` as served, the applications' configurations, when it went live.
    var routesJSON: String?
    var webappsJSON: String?
    var servicesJSON: String? = nil
    var createdAt: String?
    var crons: [Cron]?

    func encoded() throws -> String { String(decoding: try JSONEncoder().encode(self), as: UTF8.self) }
    static func decode(_ text: String) throws -> DesiredDeployment { try JSONDecoder().decode(Self.self, from: Data(text.utf8)) }
}

/// One instance as the runtime reported it: the observed half of a `DeploymentRecord`.
struct ObservedInstance: Codable, Sendable, Equatable {
    var id: String
    var app: String
    var kind: String
    /// `running` or `failed`.
    var state: String
    var host: String?
    var port: Int?
    var socket: String?
    var error: String?

    init(_ spec: InstanceSpec, endpoint: InstanceEndpoint) {
        id = spec.id; app = spec.app; kind = spec.kind; state = "running"; host = endpoint.host; port = endpoint.port; socket = endpoint.socket
    }

    init(failed spec: InstanceSpec, error: String) {
        id = spec.id; app = spec.app; kind = spec.kind; state = "failed"; self.error = error
    }

    static func encode(_ list: [ObservedInstance]) throws -> String { String(decoding: try JSONEncoder().encode(list), as: UTF8.self) }
    static func decode(_ text: String) -> [ObservedInstance] { (try? JSONDecoder().decode([ObservedInstance].self, from: Data(text.utf8))) ?? [] }
}

/// What an environment serves, for the deployments and routes API.
public struct DeploymentView: Sendable {
    public let commit: String
    public let createdAt: String
    /// URL -> route, as in `PLATFORM_ROUTES`.
    public let routes: JSON
    /// Application name -> its configuration with the build's tree id.
    public let webapps: JSON
    /// Service name -> type, disk, size, configuration.
    public let services: JSON
}

/// Reads deployments from the store: any API process answers for any worker's environments.
public struct DeploymentRecords: Sendable {
    let store: any Store
    let repositories: Repositories

    public init(store: any Store, repositories: Repositories) { self.store = store; self.repositories = repositories }

    func desired(_ projectId: String, _ environmentId: String) async throws -> (DeploymentRecord, DesiredDeployment)? {
        guard let r = try await store.deployment(projectId: projectId, environmentId: environmentId) else { return nil }
        return (r, try DesiredDeployment.decode(r.desired))
    }

    public func view(projectId: String, environmentId: String) async throws -> DeploymentView? {
        guard let (r, d) = try await desired(projectId, environmentId) else { return nil }
        return DeploymentView(commit: d.commit, createdAt: r.deployedAt,
                              routes: d.routesJSON.flatMap { try? JSON.parse($0) } ?? .object(JSONObject()),
                              webapps: d.webappsJSON.flatMap { try? JSON.parse($0) } ?? .object(JSONObject()),
                              services: d.servicesJSON.flatMap { try? JSON.parse($0) } ?? .object(JSONObject()))
    }

    /// The URLs an environment serves, for the API and CLI.
    public func routes(projectId: String, environmentId: String) async throws -> [String] {
        try await desired(projectId, environmentId)?.1.routes ?? []
    }

    /// Each running application's `PLATFORM_RELATIONSHIPS`, decoded: app -> relationship -> endpoints. Each entry also
    /// says where Grove's host reaches it (`grove_host`): the address the runtime reported for the application's
    /// instances (the `host` applications use is their own network's loopback).
    public func relationships(projectId: String, environmentId: String) async throws -> [String: JSON] {
        guard let (r, d) = try await desired(projectId, environmentId) else { return [:] }
        let observed = ObservedInstance.decode(r.observed)
        var out: [String: JSON] = [:]
        for a in d.apps where a.kind == "web" || out[a.app] == nil {
            guard let b64 = a.variables["PLATFORM_RELATIONSHIPS"], let data = Data(base64Encoded: b64), case .object(let rels)? = try? JSON.parse(Array(data)) else { continue }
            let address = observed.first(where: { $0.id == a.id })?.host ?? "127.0.0.1"
            out[a.app] = .object(JSONObject(rels.map { name, value in
                (name, .array((value.arrayValue ?? []).map { entry in
                    guard case .object(var o) = entry else { return entry }
                    o["grove_host"] = .string(address)
                    return .object(o)
                }))
            }))
        }
        return out
    }

    /// The configuration of one application of what the environment runs, or nil when it does not run it.
    public func deployedApp(projectId: String, environmentId: String, app: String) async throws -> ApplicationConfig? {
        guard let (_, d) = try await desired(projectId, environmentId), d.apps.contains(where: { $0.app == app }) else { return nil }
        let config = try await ProjectConfig.load(from: CommitFiles(repositories: repositories, projectId: projectId, commit: d.commit))
        return config.application(app)
    }

    /// Each instance's observed state: id, app, kind, state, address, last error.
    public func instances(projectId: String, environmentId: String) async throws -> [JSON] {
        guard let r = try await store.deployment(projectId: projectId, environmentId: environmentId) else { return [] }
        return ObservedInstance.decode(r.observed).map {
            .object(JSONObject([("id", .string($0.id)), ("app", .string($0.app)), ("kind", .string($0.kind)), ("state", .string($0.state)),
                                ("host", JSON($0.host)), ("port", $0.port.map { JSON.int(Int64($0)) } ?? .null), ("error", JSON($0.error))]))
        }
    }
}
