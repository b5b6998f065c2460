import GroveDriver
import GroveRouter

/// nginx as the router driver: one site per environment, reloaded gracefully on every change.
extension NginxRouter: RouterDriver {
    public var httpPort: Int { port }
    public var httpsPort: Int? { tlsPort }
    public nonisolated var unavailableReason: String { "nginx is not installed on this host (apt-get install nginx-light)" }
    public func publish(_ environment: EnvironmentKey, _ site: RouterSite?) async throws { try await set(environment.description, site) }
    public func site(_ environment: EnvironmentKey) async -> RouterSite? { site(environment.description) }
}
