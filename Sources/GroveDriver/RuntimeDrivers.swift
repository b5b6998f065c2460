import GroveModel

/// Receives an activity's log lines.
public typealias LogSink = @Sendable (String) async throws -> Void

/// One environment of one project, as drivers name it.
public struct EnvironmentKey: Hashable, Sendable, Codable, CustomStringConvertible {
    public let projectId: String
    public let environmentId: String
    public init(projectId: String, environmentId: String) { self.projectId = projectId; self.environmentId = environmentId }
    /// `project/environment`: the key of logs, cgroups, networks and router sites.
    public var description: String { projectId + "/" + environmentId }
}

/// A runtime failure a user can act on: it ends an activity with this message.
public struct DriverFailure: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Everything the orchestrator may ask of the machines environments run on, chosen in one place
/// (`grove serve --runtime`). The orchestrator sees only these protocols.
public struct RuntimeDrivers: Sendable {
    public let name: String
    public let builds: any BuildExecutor
    public let apps: any AppRuntime
    /// Nil when this server runs without managed services (no volume storage).
    public let services: (any ServiceRuntime)?
    public let volumes: any VolumeDriver
    public let router: any RouterDriver

    public init(name: String, builds: any BuildExecutor, apps: any AppRuntime, services: (any ServiceRuntime)?, volumes: any VolumeDriver,
                router: any RouterDriver) {
        self.name = name; self.builds = builds; self.apps = apps; self.services = services; self.volumes = volumes; self.router = router
    }

    /// What the drivers run on, for `grove system:info`.
    public func info() async -> JSONObject {
        var o = JSONObject([("runtime", .string(name))])
        for (k, v) in await apps.info() { o[k] = v }
        for (k, v) in await services?.info() ?? JSONObject() { o[k] = v }
        o["router_http_port"] = .int(Int64(await router.httpPort))
        o["router_https_port"] = await router.httpsPort.map { JSON.int(Int64($0)) } ?? .null
        return o
    }

    /// Stops every instance, service and the router (server shutdown; deployments are restored at the next start).
    public func shutdown() async {
        await apps.shutdown()
        await services?.shutdown()
        await router.stop()
    }
}
