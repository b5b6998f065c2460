/// The router's side of the seam: each environment's route table goes live as a whole, with the certificates its
/// hosts may use. The local driver is nginx; another one might be an ingress controller.
public protocol RouterDriver: Sendable {
    /// False when the host cannot serve applications at all (the reason is `unavailableReason`).
    var available: Bool { get async }
    var unavailableReason: String { get }
    /// Where the routes are served, for `{default}` URLs.
    var httpPort: Int { get async }
    var httpsPort: Int? { get async }
    /// Makes `site` what the environment serves (nil: nothing), replacing what it served in one step.
    func publish(_ environment: EnvironmentKey, _ site: RouterSite?) async throws
    func site(_ environment: EnvironmentKey) async -> RouterSite?
    func stop() async
}

public struct RouterUpstream: Sendable, Equatable {
    public var port: Int
    /// The artifact on the host (static files are served from it) and `web.locations`; empty: proxy everything.
    public var hostDir: String?
    public var locations: [WebLocation]
    /// PHP: the port speaks FastCGI; scripts are found under this document root as PHP-FPM sees it.
    public var phpDocumentRoot: String?
    /// `socket_family: unix`: the application listens on this socket instead of the port.
    public var socket: String?
    /// Where the port is reached from the router: the environment's network address (127.0.0.1 when shared).
    public var host: String
    public init(port: Int, hostDir: String? = nil, locations: [WebLocation] = [], phpDocumentRoot: String? = nil, socket: String? = nil,
                host: String = "127.0.0.1") {
        self.port = port; self.hostDir = hostDir; self.locations = locations; self.phpDocumentRoot = phpDocumentRoot; self.socket = socket
        self.host = host
    }
}

/// A project's TLS certificate, served for the https hosts its names cover.
public struct SiteCertificate: Sendable, Equatable {
    public var id: String
    /// The certificate followed by its chain, PEM.
    public var fullChain: String
    public var key: String
    public var domains: [String]
    public init(id: String, fullChain: String, key: String, domains: [String]) {
        self.id = id; self.fullChain = fullChain; self.key = key; self.domains = domains
    }
}

/// What one environment serves: its routes, where each application listens, the certificates it may use.
public struct RouterSite: Sendable, Equatable {
    public var routes: [ServedRoute]
    public var upstreams: [String: RouterUpstream]
    public var certificates: [SiteCertificate]
    /// Where the environment's access.log and error.log go (buffered); nil: not logged.
    public var logDir: String?
    public init(routes: [ServedRoute], upstreams: [String: RouterUpstream], certificates: [SiteCertificate] = [], logDir: String? = nil) {
        self.routes = routes; self.upstreams = upstreams; self.certificates = certificates; self.logDir = logDir
    }
}

