import GroveModel

/// One application as its configuration describes it, with Platform.sh's defaults filled in.
public struct ApplicationConfig: Sendable {
    public struct Relationship: Sendable, Equatable {
        public var service: String
        /// nil: the target service type's default endpoint.
        public var endpoint: String?
        public init(service: String, endpoint: String?) { self.service = service; self.endpoint = endpoint }
    }

    public struct Mount: Sendable, Equatable {
        public var source: String
        public var sourcePath: String
        public var service: String?
        public init(source: String, sourcePath: String, service: String?) { self.source = source; self.sourcePath = sourcePath; self.service = service }
    }

    public struct Commands: Sendable, Equatable {
        public var preStart: String?
        public var start: String?
        public var stop: String?
    }

    public struct Location: Sendable {
        public enum Passthru: Sendable, Equatable { case off, on, path(String) }
        public var root: String?
        public var passthru: Passthru?
        public var index: [String]?
        public var expires: String?
        public var allow: Bool?
        public var scripts: Bool?
        public var headers: [String: String]
        public var requestBuffering: Bool?
        public var maxRequestSize: String?
        /// Regex -> overrides, in file order.
        public var rules: [(pattern: String, location: Location)]
    }

    public struct Web: Sendable {
        public var commands: Commands
        public var socketFamily: String
        public var upstreamProtocol: String
        /// URL path prefix -> location, in file order.
        public var locations: [(path: String, location: Location)]
        public var moveToRoot: Bool
    }

    public struct Worker: Sendable {
        public var name: String
        public var commands: Commands
        public var size: String
        public var disk: Int?
        public var mounts: [String: Mount]
        public var relationships: [String: Relationship]
        public var variables: [String: [String: JSON]]
    }

    public struct Cron: Sendable {
        public var name: String
        public var spec: String
        public var start: String
        public var stop: String?
        public var shutdownTimeout: Int
        public var timeout: Int
    }

    public struct Hooks: Sendable, Equatable {
        public var build: String?
        public var deploy: String?
        public var postDeploy: String?
    }

    public struct Operation: Sendable {
        public var role: String
        public var start: String
    }

    public var name: String
    public var type: TypeAndVersion
    /// The file (and line) that declared the application.
    public var file: String
    public var line: Int
    /// The application's directory, relative to the repository root ("" is the root).
    public var root: String
    public var size: String
    public var disk: Int?
    public var relationships: [String: Relationship]
    public var mounts: [String: Mount]
    public var web: Web
    public var workers: [String: Worker]
    public var timezone: String
    public var sshAccess: String
    public var variables: [String: [String: JSON]]
    public var buildFlavor: String
    public var dependencies: [String: [String: String]]
    public var hooks: Hooks
    public var crons: [String: Cron]
    public var sourceOperations: [String: String]
    public var operations: [String: Operation]
    public var additionalHosts: [String: String]
    public var runtime: JSON
    public var firewall: JSON?
    public var containerProfile: String?
    public var stack: JSON?
    /// The declaration as written (includes resolved), for `PLATFORM_APPLICATION`.
    public var document: JSON
}

extension ApplicationConfig {
    static let nameRule = "lowercase letters, digits, '-' and '_'"

    static func validName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 64 && s.unicodeScalars.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "-" || $0 == "_" }
    }

    /// Decodes one application. `name` is the map key where the layout supplies it (Upsun, applications.yaml
    /// map form); `defaultRoot` is the directory `source.root` defaults to.
    static func read(_ node: ConfigNode, name given: String?, defaultRoot: String, flexible: Bool,
                     directories: Set<String>, sink: IssueSink) -> ApplicationConfig? {
        guard let m = MapReader(node, path: "", sink: sink) else {
            if node.isNull { sink.error(node, given ?? "", "an application needs at least name and type") }
            return nil
        }
        let errorsBefore = sink.errors.count
        var name = given ?? ""
        if let n = m.string("name") {
            if given != nil && n != given { sink.error(node, "name", "\(n) differs from the application's key \(given ?? "")") }
            name = n
        } else if given == nil {
            sink.error(node, "name", "is required")
        }
        if !name.isEmpty && !validName(name) { sink.error(m.node("name") ?? node, "name", "\(name) is not a valid application name; use \(nameRule)") }

        var type = TypeAndVersion(name: "", version: "")
        if let t = m.string("type", scalars: true) {
            if let tv = TypeAndVersion(parsing: t) {
                type = tv
                checkRuntime(tv, node: m.node("type") ?? node, sink: sink)
            } else {
                sink.error(m.node("type") ?? node, "type", "\(t) is not runtime:version, e.g. python:3.12")
            }
        } else if !m.has("type") {
            sink.error(node, "type", "is required (runtime:version, e.g. python:3.12)")
        }
        let runtime = Registry.runtimes[type.name]

        // source.root: relative to the repository root; defaults to the config file's directory.
        var root = defaultRoot
        var sourceOperations: [String: String] = [:]
        if let src = m.map("source") {
            if let r = src.string("root") {
                if let resolved = RepoPath.resolve(r, in: "") {
                    root = resolved
                    if !root.isEmpty && !directories.contains(root) {
                        sink.error(src.node("root") ?? node, "source.root", "no directory \(root) in the repository")
                    }
                } else {
                    sink.error(src.node("root") ?? node, "source.root", "\(r) points outside the repository")
                }
            }
            if let ops = src.map("operations") {
                for (opName, opNode) in ops.pairs {
                    guard let op = MapReader(opNode, path: ops.keyPath(opName), sink: sink) else { continue }
                    if let c = op.string("command") { sourceOperations[opName] = c } else { sink.error(opNode, op.keyPath("command"), "is required") }
                    op.finish()
                }
            }
            src.finish()
        }

        let size = m.oneOf("size", Registry.sizes) ?? "AUTO"
        let disk = readDisk(m, sink: sink)
        let relationships = readRelationships(m, sink: sink)
        let mounts = readMounts(m, flexible: flexible, sink: sink)
        let variables = readVariables(m, sink: sink)

        var hooks = Hooks()
        if let h = m.map("hooks") {
            hooks.build = h.string("build")
            hooks.deploy = h.string("deploy")
            hooks.postDeploy = h.string("post_deploy")
            h.finish()
        }

        var flavor = runtime?.defaultFlavor ?? "none"
        if let b = m.map("build") {
            if let f = b.oneOf("flavor", Registry.flavors) { flavor = f }
            b.finish()
        }

        var dependencies: [String: [String: String]] = [:]
        if let d = m.map("dependencies") {
            for (manager, pkgs) in d.pairs {
                _ = d.node(manager)
                guard Registry.dependencyManagers.contains(manager) else {
                    sink.error(pkgs, d.keyPath(manager), "\(manager) is not a dependency manager; use one of \(Registry.dependencyManagers.sorted().joined(separator: ", "))")
                    continue
                }
                dependencies[manager] = d.stringMap(manager)
            }
        }

        let web = readWeb(m, runtime: runtime, typeName: type.name, sink: sink)
        let workers = readWorkers(m, flexible: flexible, sink: sink)
        let crons = readCrons(m, sink: sink)

        var operations: [String: Operation] = [:]
        if let ops = m.map("operations") {
            for (opName, opNode) in ops.pairs {
                guard let op = MapReader(opNode, path: ops.keyPath(opName), sink: sink) else { continue }
                let role = op.oneOf("role", Registry.roles) ?? "contributor"
                let commands = op.map("commands")
                let start = commands?.string("start")
                commands?.finish()
                if let start { operations[opName] = Operation(role: role, start: start) } else { sink.error(opNode, op.keyPath("commands.start"), "is required") }
                op.finish()
            }
        }

        var sshAccess = "contributor"
        if let a = m.map("access") {
            sshAccess = a.oneOf("ssh", Registry.roles) ?? "contributor"
            a.finish()
        }
        let timezone = m.string("timezone") ?? "UTC"
        let additionalHosts = m.stringMap("additional_hosts")
        let firewall = m.json("firewall")
        let containerProfile = m.oneOf("container_profile", Registry.containerProfiles)
        let stack = m.json("stack")
        if type.name == "composable" {
            if stack == nil { sink.error(node, "stack", "is required for composable images") }
            for k in ["build", "dependencies", "runtime"] where m.has(k) {
                sink.error(node[k] ?? node, k, "is not allowed with a composable image; list packages in stack")
            }
        } else if let s = m.node("stack"), !s.isNull {
            sink.error(s, "stack", "is only allowed with type composable:<version>")
        }
        if flexible {
            if let d = m.node("disk"), !d.isNull { sink.warning(d, "disk", "is set per environment with resources in .upsun layouts; ignored") }
        }
        _ = m.node("preflight")
        let runtimeConf = m.json("runtime") ?? .object(JSONObject())
        m.finish()

        guard sink.errors.count == errorsBefore else { return nil }
        return ApplicationConfig(
            name: name, type: type, file: node.file, line: node.line, root: root, size: size, disk: flexible ? nil : disk,
            relationships: relationships, mounts: mounts, web: web, workers: workers, timezone: timezone, sshAccess: sshAccess,
            variables: variables, buildFlavor: flavor, dependencies: dependencies, hooks: hooks, crons: crons,
            sourceOperations: sourceOperations, operations: operations, additionalHosts: additionalHosts, runtime: runtimeConf,
            firewall: firewall, containerProfile: containerProfile, stack: stack, document: node.json)
    }

    static func checkRuntime(_ tv: TypeAndVersion, node: ConfigNode, sink: IssueSink) {
        guard let rt = Registry.runtimes[tv.name] else {
            sink.error(node, "type", "unknown runtime \(tv.name); supported: \(Registry.runtimes.keys.sorted().joined(separator: ", "))")
            return
        }
        if rt.versions.contains(tv.version) { return }
        if rt.deprecated.contains(tv.version) {
            sink.warning(node, "type", "\(tv) is deprecated; " + Registry.supportedVersions(rt.versions, of: tv.name))
        } else {
            sink.error(node, "type", "\(tv.name) version \(tv.version) is not supported; use one of \(rt.versions.joined(separator: ", "))")
        }
    }

    static func readDisk(_ m: MapReader, sink: IssueSink) -> Int? {
        guard let d = m.int("disk") else { return nil }
        if d < 128, let n = m.node("disk") { sink.error(n, m.keyPath("disk"), "must be at least 128 (MB), not \(d)") }
        return d
    }

    static func readRelationships(_ m: MapReader, sink: IssueSink) -> [String: Relationship] {
        guard let r = m.map("relationships") else { return [:] }
        var out: [String: Relationship] = [:]
        for (rel, n) in r.pairs {
            _ = r.node(rel)
            if !validName(rel) { sink.error(n, r.keyPath(rel), "relationship names use \(nameRule)") }
            switch n.value {
            case .null:
                out[rel] = Relationship(service: rel, endpoint: nil)
            case .string(let s):
                let parts = s.split(separator: ":", maxSplits: 1)
                if parts.count == 2 { out[rel] = Relationship(service: String(parts[0]), endpoint: String(parts[1])) } else if parts.count == 1 {
                    out[rel] = Relationship(service: String(parts[0]), endpoint: nil)
                } else { sink.error(n, r.keyPath(rel), "must be service:endpoint") }
            case .map:
                guard let rm = MapReader(n, path: r.keyPath(rel), sink: sink) else { continue }
                if let svc = rm.string("service") { out[rel] = Relationship(service: svc, endpoint: rm.string("endpoint")) } else { sink.error(n, rm.keyPath("service"), "is required") }
                rm.finish()
            default:
                sink.error(n, r.keyPath(rel), "must be empty, service:endpoint or {service, endpoint}, not \(n.typeName)")
            }
        }
        return out
    }

    static func readMounts(_ m: MapReader, flexible: Bool, sink: IssueSink) -> [String: Mount] {
        guard let mm = m.map("mounts") else { return [:] }
        var out: [String: Mount] = [:]
        let sources: Set<String> = flexible ? ["storage", "instance", "tmp", "temporary", "service"] : ["local", "service", "tmp", "shared"]
        for (path, n) in mm.pairs {
            _ = mm.node(path)
            let clean = path.split(separator: "/").joined(separator: "/")
            guard !clean.isEmpty, RepoPath.resolve(clean, in: "") == clean, !RepoPath.hasControlCharacters(clean) else {
                sink.error(n, mm.keyPath(path), "mount paths are directories inside the application, not \(path)")
                continue
            }
            if let legacy = n.string, legacy.hasPrefix("shared:files/") {
                let sub = String(legacy.dropFirst("shared:files/".count))
                guard let sp = RepoPath.contained(sub) else {
                    sink.error(n, mm.keyPath(path), "\(legacy) leaves the mount's storage; name a directory inside it")
                    continue
                }
                out[clean] = Mount(source: "local", sourcePath: sp, service: nil)
                continue
            }
            guard let mr = MapReader(n, path: mm.keyPath(path), sink: sink) else { continue }
            let src = mr.string("source")
            if src == nil { sink.error(n, mr.keyPath("source"), "is required (\(sources.sorted().joined(separator: ", ")))") }
            if let src, !sources.contains(src) {
                sink.error(mr.node("source") ?? n, mr.keyPath("source"), "\(src) is not a mount source here; use one of \(sources.sorted().joined(separator: ", "))")
            }
            // source_path names a directory of the mount's own storage: the host creates and binds it, so it may
            // not climb out with `..` (an absolute path is taken from the storage's top).
            var sp = clean
            if let given = mr.string("source_path") {
                if let c = RepoPath.contained(given) { sp = c } else {
                    sink.error(mr.node("source_path") ?? n, mr.keyPath("source_path"), "\(given) leaves the mount's storage; name a directory inside it")
                }
            }
            let service = mr.string("service")
            if src == "service" && service == nil { sink.error(n, mr.keyPath("service"), "is required when source is service") }
            mr.finish()
            if let src { out[clean] = Mount(source: src == "temporary" ? "tmp" : src, sourcePath: sp, service: service) }
        }
        // A mount may not contain another mount of a different kind.
        for (a, ma) in out {
            for (b, mb) in out where b.hasPrefix(a + "/") && ma.source != mb.source {
                sink.error(mm.node[b] ?? mm.node, mm.keyPath(b), "lies inside mount \(a) of another kind (\(ma.source) vs \(mb.source))")
            }
        }
        return out
    }

    static func readVariables(_ m: MapReader, sink: IssueSink) -> [String: [String: JSON]] {
        guard let v = m.map("variables") else { return [:] }
        var out: [String: [String: JSON]] = [:]
        for (prefix, n) in v.pairs {
            _ = v.node(prefix)
            guard let pairs = n.pairs else {
                sink.error(n, v.keyPath(prefix), "variables are grouped by prefix (env, php, ...) as mappings, not \(n.typeName)")
                continue
            }
            var group: [String: JSON] = [:]
            for (k, val) in pairs { group[k] = val.json }
            out[prefix] = group
        }
        return out
    }

    static func readCommands(_ m: MapReader, requireStart: Bool, sink: IssueSink) -> Commands {
        var c = Commands()
        if let cm = m.map("commands") {
            c.preStart = cm.string("pre_start")
            c.start = cm.string("start")
            c.stop = cm.string("stop")
            cm.finish()
        }
        if requireStart && c.start == nil { sink.error(m.node, m.keyPath("commands.start"), "is required") }
        return c
    }

    static func readLocation(_ lm: MapReader, isRule: Bool, sink: IssueSink) -> Location {
        var loc = Location(headers: [:], rules: [])
        if !isRule, let root = lm.string("root") {
            // Served by the router from the host: the root must stay inside the application.
            if let c = RepoPath.contained(root) { loc.root = c } else {
                sink.error(lm.node("root") ?? lm.node, lm.keyPath("root"), "\(root) leaves the application's directory")
            }
        } else if !isRule { loc.root = nil } else if lm.has("root") { sink.error(lm.node["root"] ?? lm.node, lm.keyPath("root"), "cannot be set in a rule") }
        if let p = lm.node("passthru") {
            switch p.value {
            case .bool(let b): loc.passthru = b ? .on : .off
            case .string(let s): loc.passthru = s.hasPrefix("/") ? .path(s) : nil
                if !s.hasPrefix("/") { sink.error(p, lm.keyPath("passthru"), "a passthru path must start with /") }
            case .null: break
            default: sink.error(p, lm.keyPath("passthru"), "must be true, false or a path")
            }
        }
        if !isRule, let idx = lm.node("index") { loc.index = idx.isNull ? [] : lm.stringList("index") }
        if let e = lm.node("expires"), let s = e.scalarText {
            if !validDuration(s) { sink.error(e, lm.keyPath("expires"), "\(s) is not a duration (e.g. 30s, 5m, 1h, 7d, -1)") }
            loc.expires = s
        }
        loc.allow = lm.bool("allow")
        loc.scripts = lm.bool("scripts")
        loc.headers = lm.stringMap("headers")
        if let rb = lm.map("request_buffering") {
            loc.requestBuffering = rb.bool("enabled")
            loc.maxRequestSize = rb.string("max_request_size", scalars: true)
            rb.finish()
        }
        if !isRule, let rules = lm.map("rules") {
            for (pattern, rn) in rules.pairs {
                _ = rules.node(pattern)
                if (try? Regex(pattern)) == nil { sink.error(rn, rules.keyPath(pattern), "is not a valid regular expression") }
                guard let rm = MapReader(rn, path: rules.keyPath(pattern), sink: sink) else { continue }
                loc.rules.append((pattern, readLocation(rm, isRule: true, sink: sink)))
            }
        }
        lm.finish()
        return loc
    }

    static func validDuration(_ s: String) -> Bool {
        if s == "-1" || Int(s) != nil { return true }
        var digits = s
        for unit in ["ms", "s", "m", "h", "d", "w", "M", "y"] where s.hasSuffix(unit) {
            digits = String(s.dropLast(unit.count))
            return Int(digits) != nil
        }
        return false
    }

    static func readWeb(_ m: MapReader, runtime: Registry.Runtime?, typeName: String, sink: IssueSink) -> Web {
        let isPHP = typeName == "php"
        var web = Web(commands: Commands(), socketFamily: isPHP ? "unix" : "tcp", upstreamProtocol: isPHP ? "fastcgi" : "http",
                      locations: [], moveToRoot: false)
        guard let w = m.map("web") else {
            if let rt = runtime, rt.needsStartCommand, typeName != "composable" {
                sink.error(m.node, "web.commands.start", "is required for \(rt.name) applications")
            }
            return web
        }
        web.commands = readCommands(w, requireStart: runtime?.needsStartCommand == true && typeName != "composable", sink: sink)
        if let u = w.map("upstream") {
            web.socketFamily = u.oneOf("socket_family", ["tcp", "unix"]) ?? web.socketFamily
            web.upstreamProtocol = u.oneOf("protocol", ["http", "fastcgi"]) ?? web.upstreamProtocol
            u.finish()
        }
        if let locs = w.map("locations") {
            for (path, ln) in locs.pairs {
                _ = locs.node(path)
                guard path.hasPrefix("/") else {
                    sink.error(ln, locs.keyPath(path), "location keys are URL paths starting with /")
                    continue
                }
                guard let lm = MapReader(ln, path: locs.keyPath(path), sink: sink) else { continue }
                web.locations.append((path, readLocation(lm, isRule: false, sink: sink)))
            }
        }
        web.moveToRoot = w.bool("move_to_root") ?? false
        _ = w.node("document_root"); _ = w.node("passthru"); _ = w.node("whitelist"); _ = w.node("blacklist"); _ = w.node("expires")
        w.finish()
        return web
    }

    static func readWorkers(_ m: MapReader, flexible: Bool, sink: IssueSink) -> [String: Worker] {
        guard let ws = m.map("workers") else { return [:] }
        var out: [String: Worker] = [:]
        for (name, wn) in ws.pairs {
            _ = ws.node(name)
            if !validName(name) { sink.error(wn, ws.keyPath(name), "worker names use \(nameRule)") }
            guard let w = MapReader(wn, path: ws.keyPath(name), sink: sink) else {
                sink.error(wn, ws.keyPath(name), "a worker needs commands.start")
                continue
            }
            let commands = readCommands(w, requireStart: true, sink: sink)
            let size = w.oneOf("size", Registry.sizes) ?? m.node["size"]?.string ?? "AUTO"
            let worker = Worker(
                name: name, commands: commands, size: size, disk: readDisk(w, sink: sink),
                mounts: readMounts(w, flexible: flexible, sink: sink), relationships: readRelationships(w, sink: sink),
                variables: readVariables(w, sink: sink))
            for k in ["build", "dependencies", "hooks", "crons"] where w.has(k) {
                sink.error(wn[k] ?? wn, w.keyPath(k), "cannot differ between web and workers")
            }
            _ = w.node("access"); _ = w.node("container_profile"); _ = w.node("firewall")
            w.finish(ignoring: ["build", "dependencies", "hooks", "crons"])
            out[name] = worker
        }
        return out
    }

    static func readCrons(_ m: MapReader, sink: IssueSink) -> [String: Cron] {
        guard let cs = m.map("crons") else { return [:] }
        var out: [String: Cron] = [:]
        for (name, cn) in cs.pairs {
            _ = cs.node(name)
            guard let c = MapReader(cn, path: cs.keyPath(name), sink: sink) else {
                sink.error(cn, cs.keyPath(name), "a cron needs spec and commands.start")
                continue
            }
            let spec = c.string("spec")
            if spec == nil { sink.error(cn, c.keyPath("spec"), "is required") }
            if let spec, let problem = CronSpec.problem(spec) { sink.error(c.node["spec"] ?? cn, c.keyPath("spec"), problem) }
            var start = c.string("cmd")
            var stop: String?
            if let cm = c.map("commands") {
                start = cm.string("start") ?? start
                stop = cm.string("stop")
                cm.finish()
            }
            if start == nil { sink.error(cn, c.keyPath("commands.start"), "is required") }
            let shutdown = c.int("shutdown_timeout") ?? 10
            let timeout = c.int("timeout") ?? 86400
            if timeout > 86400 || timeout < 1, let n = c.node["timeout"] { sink.error(n, c.keyPath("timeout"), "must be between 1 and 86400 seconds") }
            c.finish()
            if let spec, let start {
                out[name] = Cron(name: name, spec: spec, start: start, stop: stop, shutdownTimeout: shutdown, timeout: min(timeout, 86400))
            }
        }
        return out
    }
}
