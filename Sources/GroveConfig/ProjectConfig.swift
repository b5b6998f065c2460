import GroveModel

/// Everything a repository tree declares: applications, services and routes, validated together.
public struct ProjectConfig: Sendable {
    public enum Layout: String, Sendable { case platform, upsun, none }

    public var layout: Layout
    public var applications: [ApplicationConfig]
    public var services: [ServiceConfig]
    public var routes: [RouteConfig]
    /// True when routes.yaml was absent and the single application got the implicit route.
    public var routesImplicit: Bool
    /// Problems that do not block a deploy (unknown keys, deprecated versions).
    public var warnings: [ConfigIssue]
    /// The configuration files read, for logs.
    public var files: [String]

    public func application(_ name: String) -> ApplicationConfig? { applications.first { $0.name == name } }
    public func service(_ name: String) -> ServiceConfig? { services.first { $0.name == name } }

    /// Reads and validates the tree's configuration. Throws `ConfigError` listing every error found.
    /// Runs on `ConfigExecutor`, with the sizes `YAMLLimits` sets.
    public static func load(from files: any ConfigFiles) async throws -> ProjectConfig {
        try await withTaskExecutorPreference(ConfigExecutor.shared) { try await read(files) }
    }

    private static func read(_ files: any ConfigFiles) async throws -> ProjectConfig {
        let paths = try await files.allPaths()
        let sink = IssueSink()
        var reader = YAMLReader(files: files, paths: paths, sink: sink)
        var directories = Set<String>()
        for p in paths {
            var d = RepoPath.directory(of: p)
            while !d.isEmpty && directories.insert(d).inserted { d = RepoPath.directory(of: d) }
        }
        var config = ProjectConfig(layout: .none, applications: [], services: [], routes: [], routesImplicit: false, warnings: [], files: [])

        let upsunFiles = paths.filter { $0.hasPrefix(".upsun/") && ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) && !$0.dropFirst(7).contains("/") }
        var appNodes: [(name: String?, node: ConfigNode, root: String, flexible: Bool)] = []
        var serviceNodes: [(String, ConfigNode)] = []
        var routeNodes: [(String, ConfigNode)] = []
        var sawRoutes = false

        if !upsunFiles.isEmpty {
            config.layout = .upsun
            for file in upsunFiles.sorted() {
                config.files.append(file)
                guard let doc = await reader.load(file, includeBase: ".upsun") else { continue }
                guard let m = MapReader(doc, path: "", sink: sink) else {
                    if doc.isNull { continue }
                    continue
                }
                if let apps = m.map("applications") {
                    for (name, n) in apps.pairs { _ = apps.node(name); appNodes.append((name, n, "", true)) }
                }
                if let s = m.map("services") { for (name, n) in s.pairs { _ = s.node(name); serviceNodes.append((name, n)) } }
                if let r = m.map("routes") { sawRoutes = true; for (k, n) in r.pairs { _ = r.node(k); routeNodes.append((k, n)) } }
                m.finish()
            }
        } else {
            let appFiles = paths.filter { $0 == ".platform.app.yaml" || $0.hasSuffix("/.platform.app.yaml") }.sorted()
            let hasPlatformDir = paths.contains { $0.hasPrefix(".platform/") }
            if !appFiles.isEmpty || hasPlatformDir { config.layout = .platform }
            for file in appFiles {
                config.files.append(file)
                let dir = RepoPath.directory(of: file)
                if let doc = await reader.load(file, includeBase: dir) { appNodes.append((nil, doc, dir, false)) }
            }
            if paths.contains(".platform/applications.yaml") {
                config.files.append(".platform/applications.yaml")
                // Includes resolve against .platform/, as in services.yaml and routes.yaml (Platform.sh's Django template keeps
                // `- !include pip.app.yaml` beside applications.yaml).
                if let doc = await reader.load(".platform/applications.yaml", includeBase: ".platform") {
                    switch doc.value {
                    case .list(let items): for n in items { appNodes.append((nil, n, "", false)) }
                    case .map(let pairs): for (name, n) in pairs { appNodes.append((name, n, "", false)) }
                    case .null: break
                    default: sink.error(doc, "", "applications.yaml holds a list or a mapping of applications, not \(doc.typeName)")
                    }
                }
            }
            if paths.contains(".platform/services.yaml") {
                config.files.append(".platform/services.yaml")
                if let doc = await reader.load(".platform/services.yaml", includeBase: ".platform") {
                    if let pairs = doc.pairs { serviceNodes = pairs.map { ($0.key, $0.node) } } else if !doc.isNull {
                        sink.error(doc, "", "services.yaml maps service names to services, not \(doc.typeName)")
                    }
                }
            }
            if paths.contains(".platform/routes.yaml") {
                config.files.append(".platform/routes.yaml")
                sawRoutes = true
                if let doc = await reader.load(".platform/routes.yaml", includeBase: ".platform") {
                    if let pairs = doc.pairs { routeNodes = pairs.map { ($0.key, $0.node) } } else if !doc.isNull {
                        sink.error(doc, "", "routes.yaml maps URLs to routes, not \(doc.typeName)")
                    }
                }
            }
        }

        for a in appNodes {
            if let app = ApplicationConfig.read(a.node, name: a.name, defaultRoot: a.root, flexible: a.flexible, directories: directories, sink: sink) {
                if let other = config.applications.first(where: { $0.name == app.name }) {
                    sink.error(a.node, "name", "application \(app.name) is also declared in \(other.file):\(other.line)")
                } else {
                    config.applications.append(app)
                }
            }
        }
        for (name, n) in serviceNodes {
            if let s = ServiceConfig.read(n, name: name, flexible: config.layout == .upsun, sink: sink) { config.services.append(s) }
        }
        for (k, n) in routeNodes {
            if let r = RouteConfig.read(n, template: k, sink: sink) { config.routes.append(r) }
        }
        if !sawRoutes, config.applications.count == 1, let app = config.applications.first {
            config.routesImplicit = true
            config.routes = [RouteConfig(template: "https://{default}/", file: "(implicit)", line: 0, type: "upstream", upstream: app.name,
                                         upstreamEndpoint: "http", to: nil, id: nil, primary: true, cache: .init(), ssi: false,
                                         redirectsExpires: nil, redirects: [], tls: .object(JSONObject()), attributes: [:], sticky: false,
                                         document: ["type": "upstream", "upstream": .string(app.name + ":http")])]
        }
        config.crossCheck(sink)
        config.checkLinks(try await files.symlinks(), sink)
        config.warnings = sink.warnings
        if !sink.errors.isEmpty { throw ConfigError(sink.errors) }
        return config
    }

    /// Mounts and web roots are directories the host binds or serves: none may be, or lie under, a symbolic link
    /// of the repository, which would point the host somewhere else.
    func checkLinks(_ links: Set<String>, _ sink: IssueSink) {
        guard !links.isEmpty else { return }
        for app in applications {
            for path in app.mounts.keys.sorted() {
                if let link = RepoPath.symlink(on: RepoPath.join(app.root, path), in: links) {
                    sink.error(file: app.file, line: app.line, key: "mounts.\(path)", "\(link) is a symbolic link in the repository; a mount must be a plain directory")
                }
            }
            for (path, loc) in app.web.locations {
                guard let root = loc.root, let link = RepoPath.symlink(on: RepoPath.join(app.root, root), in: links) else { continue }
                sink.error(file: app.file, line: app.line, key: "web.locations.\(path).root", "\(link) is a symbolic link in the repository; a web root must be a plain directory")
            }
        }
    }

    /// Names must resolve: relationships to services/apps and their endpoints, routes to apps, mounts to services.
    func crossCheck(_ sink: IssueSink) {
        for s in services where application(s.name) != nil {
            sink.error(file: s.file, line: s.line, key: s.name, "a service and an application share the name \(s.name)")
        }
        func checkRelationships(_ rels: [String: ApplicationConfig.Relationship], owner: String, file: String, line: Int, isApp: Bool) {
            for (rel, r) in rels.sorted(by: { $0.key < $1.key }) {
                if let svc = service(r.service) {
                    let ep = r.endpoint ?? svc.definition?.defaultEndpoint
                    guard let ep else {
                        sink.error(file: file, line: line, key: "relationships.\(rel)", "\(r.service) (\(svc.type.name)) has no default endpoint; name one")
                        continue
                    }
                    let base = ep.hasSuffix("-replica") ? String(ep.dropLast(8)) : ep
                    if !svc.endpoints.contains(ep) && !svc.endpoints.contains(base) {
                        sink.error(file: file, line: line, key: "relationships.\(rel)",
                                   "service \(r.service) has no endpoint \(ep); it has \(svc.endpoints.joined(separator: ", "))")
                    }
                } else if application(r.service) != nil {
                    if r.service == owner && isApp { sink.error(file: file, line: line, key: "relationships.\(rel)", "an application cannot relate to itself") }
                    if r.endpoint != "http" {
                        sink.error(file: file, line: line, key: "relationships.\(rel)", "relationships to application \(r.service) must name the http endpoint (\(r.service):http)")
                    }
                } else {
                    sink.error(file: file, line: line, key: "relationships.\(rel)", "no service or application named \(r.service)")
                }
            }
        }
        for app in applications {
            checkRelationships(app.relationships, owner: app.name, file: app.file, line: app.line, isApp: true)
            for w in app.workers.values { checkRelationships(w.relationships, owner: app.name, file: app.file, line: app.line, isApp: true) }
            for (path, m) in app.mounts where m.source == "service" {
                guard let name = m.service else { continue }
                if let s = service(name) {
                    if s.type.name != "network-storage" { sink.error(file: app.file, line: app.line, key: "mounts.\(path)", "service \(name) is \(s.type.name), not network-storage") }
                } else if application(name) == nil {
                    sink.error(file: app.file, line: app.line, key: "mounts.\(path)", "no service named \(name)")
                }
            }
        }
        for s in services { checkRelationships(s.relationships, owner: s.name, file: s.file, line: s.line, isApp: false) }
        // App-to-app cycles (A -> B -> A) cannot start in any order.
        for app in applications {
            for r in app.relationships.values where application(r.service) != nil {
                if application(r.service)?.relationships.values.contains(where: { $0.service == app.name }) == true && app.name < r.service {
                    sink.error(file: app.file, line: app.line, key: "relationships", "\(app.name) and \(r.service) relate to each other; relationships cannot be circular")
                }
            }
        }
        var primaries = 0
        var ids: [String: RouteConfig] = [:]
        for r in routes {
            if r.primary == true { primaries += 1 }
            if let id = r.id {
                if let other = ids[id] { sink.error(file: r.file, line: r.line, key: "\(r.template).id", "\(id) is also the id of \(other.template)") }
                ids[id] = r
            }
            guard r.type == "upstream", let up = r.upstream else { continue }
            if application(up) == nil {
                if let svc = service(up), svc.type.name == "varnish" { continue }
                sink.error(file: r.file, line: r.line, key: "\(r.template).upstream", "no application named \(up)")
            } else if r.upstreamEndpoint != "http" {
                sink.error(file: r.file, line: r.line, key: "\(r.template).upstream", "applications answer on the http endpoint (\(up):http)")
            }
        }
        if primaries > 1, let r = routes.first(where: { $0.primary == true }) {
            sink.error(file: r.file, line: r.line, key: "primary", "only one route can be primary")
        }
    }
}
