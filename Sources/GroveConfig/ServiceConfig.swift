import GroveModel

/// One managed service (`.platform/services.yaml` entry or Upsun `services:` entry).
public struct ServiceConfig: Sendable {
    public var name: String
    public var type: TypeAndVersion
    public var file: String
    public var line: Int
    public var disk: Int?
    public var size: String
    /// Service-specific settings as written (schemas, endpoints, extensions, ...).
    public var configuration: JSON
    /// Endpoint names a relationship may target.
    public var endpoints: [String]
    /// Service-level relationships (varnish -> apps).
    public var relationships: [String: ApplicationConfig.Relationship]
    /// Filled in at deploy time, not read from YAML: the port each relationship's application answers on in the
    /// environment's network (varnish's backends).
    public var backendPorts: [String: Int] = [:]
    /// Filled in at deploy time: the endpoints applications' relationships name (`broker:management`).
    public var requestedEndpoints: Set<String> = []

    public var definition: Registry.ServiceType? { Registry.services[type.name] }
}

extension ServiceConfig {
    static func read(_ node: ConfigNode, name: String, flexible: Bool, sink: IssueSink) -> ServiceConfig? {
        if !ApplicationConfig.validName(name) { sink.error(node, name, "service names use \(ApplicationConfig.nameRule)") }
        guard let m = MapReader(node, path: name, sink: sink) else {
            if node.isNull { sink.error(node, name, "a service needs a type") }
            return nil
        }
        let before = sink.errors.count
        var type = TypeAndVersion(name: "", version: "")
        if let t = m.string("type", scalars: true) {
            if let tv = TypeAndVersion(parsing: t) { type = tv } else { sink.error(m.node("type") ?? node, m.keyPath("type"), "\(t) is not service:version, e.g. postgresql:16") }
        } else if !m.has("type") {
            sink.error(node, m.keyPath("type"), "is required (service:version, e.g. postgresql:16)")
        }
        let def = Registry.services[type.name]
        if !type.name.isEmpty {
            if let def {
                if !def.versions.contains(type.version) {
                    if def.deprecated.contains(type.version) {
                        sink.warning(m.node["type"] ?? node, m.keyPath("type"), "\(type) is deprecated; " + Registry.supportedVersions(def.versions, of: type.name))
                    } else {
                        sink.error(m.node["type"] ?? node, m.keyPath("type"), "\(type.name) version \(type.version) is not supported; use one of \(def.versions.joined(separator: ", "))")
                    }
                }
            } else {
                sink.error(m.node["type"] ?? node, m.keyPath("type"), "unknown service type \(type.name); supported: \(Registry.services.keys.sorted().joined(separator: ", "))")
            }
        }
        let disk = m.int("disk")
        if let disk, let def {
            if !def.persistent, let n = m.node["disk"] { sink.error(n, m.keyPath("disk"), "\(type.name) keeps no data on disk; remove disk") }
            if let min = def.minimumDisk, disk < min, let n = m.node["disk"] { sink.error(n, m.keyPath("disk"), "must be at least \(min) (MB) for \(type.name)") }
        }
        let size = m.oneOf("size", Registry.sizes) ?? "AUTO"
        _ = m.oneOf("container_profile", Registry.containerProfiles)
        let configuration = m.json("configuration") ?? .object(JSONObject())
        var endpoints: [String] = def?.defaultEndpoint.map { [$0] } ?? []
        // RabbitMQ's management UI and HTTP API, served when a relationship names it.
        if type.name == "rabbitmq" { endpoints.append("management") }
        if let conf = m.map("configuration") {
            endpoints = readEndpoints(conf, type: type.name, defaultEndpoints: endpoints, sink: sink)
        }
        let relationships = ApplicationConfig.readRelationships(m, sink: sink)
        m.finish()
        guard sink.errors.count == before else { return nil }
        return ServiceConfig(name: name, type: type, file: node.file, line: node.line, disk: flexible ? nil : disk, size: size,
                             configuration: configuration, endpoints: endpoints, relationships: relationships)
    }

    /// Checks database `schemas`/`databases` and `endpoints` (privileges on declared schemas only).
    static func readEndpoints(_ conf: MapReader, type: String, defaultEndpoints: [String], sink: IssueSink) -> [String] {
        let isMySQL = ["mariadb", "mysql", "oracle-mysql"].contains(type)
        let isPostgres = type == "postgresql"
        if type == "rabbitmq", let vhosts = conf.stringList("vhosts") {
            // Virtual host names travel into RabbitMQ's definitions and into URLs.
            for v in vhosts where v.isEmpty || v.count > 255 || v.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                sink.error(conf.node("vhosts") ?? conf.node, conf.keyPath("vhosts"), "'\(v)' is not a virtual host name (1 to 255 printable characters)")
            }
        }
        guard isMySQL || isPostgres else {
            if let eps = conf.map("endpoints") { return eps.pairs.map(\.key) + defaultEndpoints }
            return defaultEndpoints
        }
        let schemaKey = isMySQL ? "schemas" : "databases"
        let defaultKey = isMySQL ? "default_schema" : "default_database"
        let schemas = conf.stringList(schemaKey) ?? ["main"]
        guard let eps = conf.map("endpoints") else { return defaultEndpoints }
        var names: [String] = []
        for (ep, en) in eps.pairs {
            _ = eps.node(ep)
            names.append(ep)
            guard let e = MapReader(en, path: eps.keyPath(ep), sink: sink) else { continue }
            if let d = e.string(defaultKey), !schemas.contains(d) {
                sink.error(e.node[defaultKey] ?? en, e.keyPath(defaultKey), "\(d) is not among \(schemaKey) (\(schemas.joined(separator: ", ")))")
            }
            if let privs = e.map("privileges") {
                for (schema, pn) in privs.pairs {
                    _ = privs.node(schema)
                    if !schemas.contains(schema) { sink.error(pn, privs.keyPath(schema), "\(schema) is not among \(schemaKey) (\(schemas.joined(separator: ", ")))") }
                    if let p = pn.string, !["ro", "rw", "admin", "replication"].contains(p) {
                        sink.error(pn, privs.keyPath(schema), "\(p) is not a privilege; use ro, rw, admin or replication")
                    } else if pn.string == nil { sink.error(pn, privs.keyPath(schema), "must be ro, rw, admin or replication") }
                }
            }
            e.finish()
        }
        return names
    }
}
