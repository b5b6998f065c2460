import GroveConfig

/// An application's `web.locations`, as the router serves them: static files straight from the artifact,
/// the rest passed to the application (HTTP) or to PHP-FPM (FastCGI).
public struct WebLocation: Sendable, Equatable {
    public enum Passthru: Sendable, Equatable { case off, on, path(String) }

    public struct Rule: Sendable, Equatable {
        public var pattern: String
        public var allow: Bool?
        public var passthru: Passthru?
        public var expires: String?
        public var headers: [String]  // "Name: value", sorted
        public var scripts: Bool?
    }

    public var path: String
    public var root: String?
    public var passthru: Passthru
    public var index: [String]
    public var expires: String?
    public var allow: Bool
    public var scripts: Bool
    public var headers: [String]
    public var rules: [Rule]

    /// Platform.sh defaults: files allowed, no passthru, scripts on for PHP.
    public static func from(_ web: ApplicationConfig.Web, php: Bool) -> [WebLocation] {
        func passthru(_ p: ApplicationConfig.Location.Passthru?) -> Passthru? {
            switch p {
            case .on?: return .on
            case .off?: return .off
            case .path(let s)?: return .path(s)
            case nil: return nil
            }
        }
        func headers(_ h: [String: String]) -> [String] { h.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" } }
        return web.locations.map { path, l in
            WebLocation(path: path, root: l.root.map { $0.split(separator: "/").joined(separator: "/") }, passthru: passthru(l.passthru) ?? .off,
                        index: l.index ?? [], expires: l.expires, allow: l.allow ?? true, scripts: l.scripts ?? php, headers: headers(l.headers),
                        rules: l.rules.map { Rule(pattern: $0.pattern, allow: $0.location.allow, passthru: passthru($0.location.passthru),
                                                  expires: $0.location.expires, headers: headers($0.location.headers), scripts: $0.location.scripts) })
        }
    }
}

