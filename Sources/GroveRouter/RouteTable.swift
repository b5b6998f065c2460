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
}

/// Turns routes.yaml templates into the URLs of one environment, and into `PLATFORM_ROUTES`.
public struct RouteTable: Sendable {
    public let routes: [ServedRoute]

    /// `envHost` is the environment's generated host (`main-abc123.localhost`); `port` the router's HTTP port
    /// (omitted from URLs when 80). HTTPS templates are served over HTTP until the router terminates TLS.
    public init(config: [RouteConfig], envHost: String, isProduction: Bool, port: Int) {
        let portPart = port == 80 ? "" : ":\(port)"
        var out: [ServedRoute] = []
        for r in config {
            guard let (host, path) = Self.resolve(r.template, envHost: envHost, isProduction: isProduction) else { continue }
            let url = "http://\(host)\(portPart)\(path)"
            let target: ServedRoute.Target
            switch r.type {
            case "redirect": target = .redirect(to: Self.expand(r.to ?? "/", envHost: envHost, isProduction: isProduction, portPart: portPart), code: 301)
            case "proxy": target = .proxy(to: r.to ?? "")
            default: target = .upstream(app: r.upstream ?? "")
            }
            // {default} beats {all} on the same URL.
            if let i = out.firstIndex(where: { $0.url == url }) {
                if r.template.contains("{default}") { out[i] = ServedRoute(url: url, host: host, path: path, target: target, originalURL: r.template, id: r.id, primary: r.primary ?? false, route: r) }
                continue
            }
            out.append(ServedRoute(url: url, host: host, path: path, target: target, originalURL: r.template, id: r.id, primary: r.primary ?? false, route: r))
        }
        if !out.contains(where: \.primary), let i = out.firstIndex(where: { if case .upstream = $0.target { return true }; return false }) {
            out[i].primary = true
        }
        routes = out
    }

    /// Host and path of a template for this environment: `{default}`/`{all}` become the environment host;
    /// on previews every host is rewritten onto it, keeping subdomain prefixes of `{default}` templates.
    static func resolve(_ template: String, envHost: String, isProduction: Bool) -> (String, String)? {
        guard let sep = template.range(of: "://") else { return nil }
        let rest = template[sep.upperBound...]
        let hostPart = String(rest.prefix { $0 != "/" })
        var path = String(rest.dropFirst(hostPart.count))
        if path.isEmpty { path = "/" }
        if !path.hasSuffix("/") { path += "/" }
        var host: String
        if hostPart.contains("{default}") || hostPart.contains("{all}") {
            host = hostPart.replacingOccurrences(of: "{default}", with: envHost).replacingOccurrences(of: "{all}", with: envHost)
        } else {
            host = isProduction ? hostPart : envHost
        }
        host = host.lowercased()
        if host.hasPrefix("*.") { host = String(host.dropFirst(2)) }
        return (host, path)
    }

    static func expand(_ to: String, envHost: String, isProduction: Bool, portPart: String) -> String {
        guard to.contains("://") else { return to }
        guard let (host, path) = resolve(to, envHost: envHost, isProduction: isProduction) else { return to }
        return "http://\(host)\(portPart)\(path)"
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
