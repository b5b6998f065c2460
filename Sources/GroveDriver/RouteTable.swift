import Foundation
import GroveConfig
import GroveModel

/// One URL the router answers, resolved from a routes.yaml template for one environment.
public struct ServedRoute: Sendable, Equatable {
    public enum Target: Sendable, Equatable {
        case upstream(app: String)
        case redirect(to: String, code: Int)
        case proxy(to: String)
    }

    /// `http://host:port/path/` as clients use it.
    public var url: String
    public var host: String
    /// Path prefix, always starting and ending with `/`.
    public var path: String
    public var target: Target
    public var originalURL: String
    public var id: String?
    public var primary: Bool
    public var route: RouteConfig?
    /// The plain-http twin of an https-only URL: redirects keeping the request's path and query.
    public var upgradesScheme: Bool = false

    public var scheme: String { url.hasPrefix("https://") ? "https" : "http" }
}

/// Where one environment's routes are served: its generated host, the router's ports and the custom domains.
public struct RouteHosts: Sendable, Equatable {
    /// The generated host (`main-abc123.localhost`).
    public var envHost: String
    public var isProduction: Bool
    /// The router's ports, omitted from URLs when 80 and 443; without an HTTPS port https routes are served over http.
    public var httpPort: Int
    public var httpsPort: Int?
    /// Production: the project's domains, and the one `{default}` stands for.
    public var domains: [String]
    public var defaultDomain: String?
    /// Previews: production domain -> the environment's domains that replace it.
    public var replacements: [String: [String]]

    public init(envHost: String, isProduction: Bool, httpPort: Int, httpsPort: Int? = nil, domains: [String] = [],
                defaultDomain: String? = nil, replacements: [String: [String]] = [:]) {
        self.envHost = envHost; self.isProduction = isProduction; self.httpPort = httpPort; self.httpsPort = httpsPort
        self.domains = domains; self.defaultDomain = defaultDomain; self.replacements = replacements
    }
}

/// Turns routes.yaml templates into the URLs of one environment, and into `PLATFORM_ROUTES`.
public struct RouteTable: Sendable {
    public let routes: [ServedRoute]

    public init(config: [RouteConfig], envHost: String, isProduction: Bool, port: Int) {
        self.init(config: config, hosts: RouteHosts(envHost: envHost, isProduction: isProduction, httpPort: port))
    }

    public init(config: [RouteConfig], hosts h: RouteHosts) {
        var out: [ServedRoute] = []
        for r in config {
            guard let t = Self.split(r.template) else { continue }
            let target: ServedRoute.Target
            switch r.type {
            case "redirect": target = .redirect(to: Self.expand(r.to ?? "/", h), code: 301)
            case "proxy": target = .proxy(to: r.to ?? "")
            default: target = .upstream(app: r.upstream ?? "")
            }
            for (i, host) in Self.hosts(t.host, h).enumerated() {
                let url = Self.url(scheme: t.scheme, host: host, path: t.path, h)
                let served = ServedRoute(url: url, host: host, path: t.path, target: target, originalURL: r.template, id: r.id,
                                         primary: i == 0 && (r.primary ?? false), route: r)
                // {default} beats {all} on the same URL.
                if let j = out.firstIndex(where: { $0.url == url }) {
                    if r.template.contains("{default}") { out[j] = served }
                    continue
                }
                out.append(served)
            }
        }
        // https-only URLs answer plain http with a redirect, as Platform.sh does.
        for r in out where r.scheme == "https" {
            let plain = Self.url(scheme: "http", host: r.host, path: r.path, h)
            guard !out.contains(where: { $0.url == plain }) else { continue }
            out.append(ServedRoute(url: plain, host: r.host, path: r.path, target: .redirect(to: r.url, code: 301),
                                   originalURL: "http://" + (r.originalURL.components(separatedBy: "://").last ?? ""), id: nil, primary: false,
                                   route: nil, upgradesScheme: true))
        }
        if !out.contains(where: \.primary), let i = out.firstIndex(where: { if case .upstream = $0.target { return true }; return false }) {
            out[i].primary = true
        }
        routes = out
    }

    /// Scheme, host template and path prefix (always ending in `/`) of a route key.
    static func split(_ template: String) -> (scheme: String, host: String, path: String)? {
        guard let sep = template.range(of: "://") else { return nil }
        let scheme = template[..<sep.lowerBound].lowercased()
        let rest = template[sep.upperBound...]
        let hostPart = String(rest.prefix { $0 != "/" })
        var path = String(rest.dropFirst(hostPart.count))
        if path.isEmpty { path = "/" }
        if !path.hasSuffix("/") { path += "/" }
        return (scheme == "https" ? "https" : "http", hostPart, path)
    }

    /// The hosts a template stands for on this environment, the one that carries `primary` first.
    /// `{default}`/`{all}` become the generated host; on previews every host is rewritten onto it, keeping
    /// subdomain prefixes. Production also answers on the project's domains; previews on the domains that
    /// replace them.
    static func hosts(_ hostPart: String, _ h: RouteHosts) -> [String] {
        func clean(_ s: String) -> String {
            let l = s.lowercased()
            return l.hasPrefix("*.") ? String(l.dropFirst(2)) : l
        }
        let placeholder = hostPart.contains("{default}") || hostPart.contains("{all}")
        let generated = placeholder
            ? hostPart.replacingOccurrences(of: "{default}", with: h.envHost).replacingOccurrences(of: "{all}", with: h.envHost)
            : (h.isProduction ? hostPart : h.envHost)
        var production: [String] = []
        if hostPart.contains("{default}"), let d = h.defaultDomain ?? h.domains.first {
            production.append(hostPart.replacingOccurrences(of: "{default}", with: d))
        }
        if hostPart.contains("{all}") { production += h.domains.map { hostPart.replacingOccurrences(of: "{all}", with: $0) } }
        if !placeholder { production.append(hostPart) }
        var out: [String] = []
        func add(_ s: String) { let c = clean(s); if !out.contains(c) { out.append(c) } }
        if h.isProduction {
            production.forEach(add)
            add(generated)
        } else {
            add(generated)
            for p in production { (h.replacements[clean(p)] ?? []).forEach(add) }
        }
        return out
    }

    static func url(scheme: String, host: String, path: String, _ h: RouteHosts) -> String {
        if scheme == "https", let tls = h.httpsPort { return "https://\(host)\(tls == 443 ? "" : ":\(tls)")\(path)" }
        return "http://\(host)\(h.httpPort == 80 ? "" : ":\(h.httpPort)")\(path)"
    }

    /// A redirect target on this environment: its host resolved like a route's, its path and query kept as written.
    static func expand(_ to: String, _ h: RouteHosts) -> String {
        guard let sep = to.range(of: "://"), let t = split(to), let host = hosts(t.host, h).first else { return to }
        let rest = to[sep.upperBound...]
        let path = String(rest.dropFirst(rest.prefix { $0 != "/" && $0 != "?" }.count))
        return url(scheme: t.scheme, host: host, path: path.isEmpty ? "/" : path, h)
    }

    /// `PLATFORM_ROUTES`: exactly the served table, keyed by URL.
    public var platformRoutes: JSON {
        var o = JSONObject()
        for r in routes {
            var e = JSONObject([("primary", .bool(r.primary)), ("id", JSON(r.id)), ("original_url", .string(r.originalURL)),
                                ("attributes", .object(JSONObject((r.route?.attributes ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) }))),
                                ("restrict_robots", false)])
            switch r.target {
            case .upstream(let app):
                e["type"] = "upstream"
                e["upstream"] = .string(app)
                let c = r.route?.cache ?? RouteConfig.Cache()
                e["cache"] = .object(JSONObject([("enabled", .bool(c.enabled)), ("default_ttl", .int(Int64(c.defaultTTL))),
                                                 ("cookies", JSON(c.cookies)), ("headers", JSON(c.headers))]))
                e["ssi"] = .object(JSONObject([("enabled", .bool(r.route?.ssi ?? false))]))
            case .redirect(let to, _):
                e["type"] = "redirect"
                e["to"] = .string(to)
            case .proxy(let to):
                e["type"] = "proxy"
                e["to"] = .string(to)
            }
            e["http_access"] = .object(JSONObject([("addresses", .array([])), ("basic_auth", .object(JSONObject()))]))
            o[r.url] = .object(e)
        }
        return .object(o)
    }
}
