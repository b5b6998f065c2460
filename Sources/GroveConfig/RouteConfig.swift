import Foundation
import GroveModel

/// One entry of routes.yaml: a URL template and what answers it.
public struct RouteConfig: Sendable, Equatable {
    public struct Cache: Sendable, Equatable {
        public var enabled: Bool = true
        public var defaultTTL: Int = 0
        public var cookies: [String] = ["*"]
        public var headers: [String] = ["Accept", "Accept-Language"]
        public init() {}
    }

    public struct PartialRedirect: Sendable, Equatable {
        public var path: String
        public var to: String
        public var regexp: Bool
        public var prefix: Bool
        public var appendSuffix: Bool
        public var code: Int
        public var expires: String?
    }

    /// The key as written, e.g. `https://{default}/blog`.
    public var template: String
    public var file: String
    public var line: Int
    public var type: String
    /// Upstream routes: the application (or varnish service) and its endpoint.
    public var upstream: String?
    public var upstreamEndpoint: String?
    public var to: String?
    public var id: String?
    public var primary: Bool?
    public var cache: Cache
    public var ssi: Bool
    public var redirectsExpires: String?
    public var redirects: [PartialRedirect]
    public var tls: JSON
    public var attributes: [String: String]
    public var sticky: Bool
    public var document: JSON
}

extension RouteConfig {
    static let forbiddenCacheHeaders: Set<String> = ["accept-encoding", "connection", "proxy-authorization", "te", "upgrade", "cookie"]

    /// Why a route key is not a usable URL template, or nil.
    static func templateProblem(_ key: String) -> String? {
        guard let sep = key.range(of: "://") else { return "routes are URLs like https://{default}/, not \(key)" }
        let scheme = key[..<sep.lowerBound]
        guard scheme == "http" || scheme == "https" else { return "the scheme must be http or https, not \(scheme)" }
        let rest = key[sep.upperBound...]
        let host = rest.prefix { $0 != "/" }
        if host.isEmpty { return "the URL has no host" }
        let stripped = host.replacingOccurrences(of: "{default}", with: "x").replacingOccurrences(of: "{all}", with: "x")
        if stripped.contains(":") { return "non-default ports are not supported" }
        if stripped.contains("{") || stripped.contains("}") { return "only the {default} and {all} placeholders are supported" }
        let ok = stripped.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "." || $0 == "*" || $0 == "_" }
        if !ok { return "\(host) is not a host name" }
        return nil
    }

    static func read(_ node: ConfigNode, template: String, sink: IssueSink) -> RouteConfig? {
        if let p = templateProblem(template) { sink.error(node, template, p) }
        guard let m = MapReader(node, path: template, sink: sink) else {
            if node.isNull { sink.error(node, template, "a route needs a type") }
            return nil
        }
        let before = sink.errors.count
        let type = m.oneOf("type", ["upstream", "redirect", "proxy"])
        if !m.has("type") { sink.error(node, m.keyPath("type"), "is required (upstream, redirect or proxy)") }
        var route = RouteConfig(template: template, file: node.file, line: node.line, type: type ?? "", upstream: nil, upstreamEndpoint: nil,
                                to: nil, id: m.string("id", scalars: true), primary: m.bool("primary"), cache: Cache(), ssi: false,
                                redirectsExpires: nil, redirects: [], tls: m.json("tls") ?? .object(JSONObject()),
                                attributes: m.stringMap("attributes"), sticky: m.bool("sticky") ?? false, document: node.json)
        if let up = m.string("upstream") {
            let parts = up.split(separator: ":", maxSplits: 1)
            route.upstream = parts.first.map(String.init)
            route.upstreamEndpoint = parts.count == 2 ? String(parts[1]) : "http"
        }
        route.to = m.string("to")
        switch type {
        case "upstream":
            if route.upstream == nil { sink.error(node, m.keyPath("upstream"), "is required for upstream routes (app:http)") }
        case "redirect", "proxy":
            if route.to == nil { sink.error(node, m.keyPath("to"), "is required for \(type ?? "") routes") }
            if type == "proxy", let to = route.to, !(to.hasPrefix("http://") || to.hasPrefix("https://")) {
                sink.error(m.node["to"] ?? node, m.keyPath("to"), "a proxy target is an http(s) URL")
            }
        default: break
        }
        if let c = m.node("cache") {
            if case .bool(let b) = c.value { route.cache.enabled = b } else if let cm = MapReader(c, path: m.keyPath("cache"), sink: sink) {
                route.cache.enabled = cm.bool("enabled") ?? true
                route.cache.defaultTTL = cm.int("default_ttl") ?? 0
                route.cache.cookies = cm.stringList("cookies") ?? ["*"]
                route.cache.headers = cm.stringList("headers") ?? route.cache.headers
                for h in route.cache.headers where forbiddenCacheHeaders.contains(h.lowercased()) {
                    sink.error(cm.node["headers"] ?? c, cm.keyPath("headers"), "\(h) cannot be part of the cache key")
                }
                cm.finish()
            }
        }
        if let s = m.map("ssi") { route.ssi = s.bool("enabled") ?? false; s.finish() }
        if let r = m.map("redirects") {
            route.redirectsExpires = r.string("expires", scalars: true)
            if let paths = r.map("paths") {
                for (path, pn) in paths.pairs {
                    _ = paths.node(path)
                    guard let p = MapReader(pn, path: paths.keyPath(path), sink: sink) else { continue }
                    let regexp = p.bool("regexp") ?? false
                    if regexp, (try? Regex(path)) == nil { sink.error(pn, paths.keyPath(path), "is not a valid regular expression") }
                    let code = p.int("code") ?? 302
                    if ![301, 302, 307, 308].contains(code) { sink.error(p.node["code"] ?? pn, p.keyPath("code"), "must be 301, 302, 307 or 308") }
                    guard let to = p.string("to") else { sink.error(pn, p.keyPath("to"), "is required"); continue }
                    route.redirects.append(PartialRedirect(path: path, to: to, regexp: regexp, prefix: p.bool("prefix") ?? true,
                                                           appendSuffix: p.bool("append_suffix") ?? true, code: code,
                                                           expires: p.string("expires", scalars: true)))
                    p.finish()
                }
            }
            r.finish()
        }
        if let t = m.map("tls") {
            _ = t.oneOf("min_version", ["TLSv1.2", "TLSv1.3"])
            _ = t.node("strict_transport_security"); _ = t.node("client_authentication"); _ = t.node("client_certificate_authorities")
            t.finish()
        }
        m.finish()
        return sink.errors.count == before ? route : nil
    }
}
