import GroveModel

/// The official shapes of a deployment's parts. Grove stores each application as the configuration it was
/// deployed from; clients (the official CLI's `app:config-get`, `mount:list`, `route:list`, generated clients)
/// read the parsed form with every field present, so the missing ones get Platform.sh's defaults here.
/// Fields for concepts Grove does not have (autoscaling, container profiles, firewalls) get neutral values.
enum DeploymentDocument {
    static func webapp(name: String, _ raw: JSON) -> JSON {
        var o = common(name: name, raw)
        let tree = raw["tree_id"]?.stringValue ?? ""
        o["web"] = web(raw["web"], type: raw["type"]?.stringValue ?? "")
        o["hooks"] = .object(JSONObject(["build", "deploy", "post_deploy"].map { ($0, raw["hooks"]?[$0].flatMap(\.stringValue).map(JSON.string) ?? .null) }))
        o["crons"] = .object(JSONObject((raw["crons"]?.objectValue ?? JSONObject()).map { ($0.key, cron($0.value)) }))
        var operations = JSONObject()
        for (k, v) in raw["source"]?["operations"]?.objectValue ?? JSONObject() {
            operations[k] = .object(JSONObject([("command", v["command"]?.stringValue.map(JSON.string) ?? .null)]))
        }
        o["source"] = .object(JSONObject([("root", raw["source"]?["root"]?.stringValue.map(JSON.string) ?? .null), ("operations", .object(operations))]))
        o["build"] = .object(JSONObject([("flavor", raw["build"]?["flavor"]?.stringValue.map(JSON.string) ?? .null),
                                         ("caches", .object(JSONObject((raw["caches"]?.objectValue ?? JSONObject()).map { ($0.key, cache($0.value)) })))]))
        o["dependencies"] = .object(JSONObject((raw["dependencies"]?.objectValue ?? JSONObject()).filter { $0.value.objectValue != nil }.map { ($0.key, $0.value) }))
        o["is_across_submodule"] = false
        o["config_id"] = .string(tree)
        return .object(o)
    }

    /// Workers keyed `<app>--<worker>`, each the app's settings under the worker's own.
    static func workers(_ webapps: JSON) -> JSON {
        var out = JSONObject()
        for (app, raw) in webapps.objectValue ?? JSONObject() {
            for (name, w) in raw["workers"]?.objectValue ?? JSONObject() {
                var merged = raw.objectValue ?? JSONObject()
                for (k, v) in w.objectValue ?? JSONObject() where k != "commands" { merged[k] = v }
                var o = common(name: "\(app)--\(name)", .object(merged))
                o["worker"] = .object(JSONObject([
                    ("commands", .object(JSONObject([("pre_start", .null), ("start", .string(w["commands"]?["start"]?.stringValue ?? "")), ("post_start", .null)]))),
                    ("disk", w["disk"]?.intValue.map { JSON.int(Int64($0)) } ?? .null),
                ]))
                o["app"] = .string(app)
                out["\(app)--\(name)"] = .object(o)
            }
        }
        return .object(out)
    }

    static func service(_ raw: JSON) -> JSON {
        var o = raw.objectValue ?? JSONObject()
        o["type"] = .string(raw["type"]?.stringValue ?? "")
        let size = raw["size"]?.stringValue ?? "AUTO"
        o["size"] = .string(["2XL", "4XL", "AUTO", "L", "M", "S", "XL"].contains(size) ? size : "AUTO")
        o["disk"] = raw["disk"]?.intValue.map { JSON.int(Int64($0)) } ?? .null
        o["access"] = raw["access"]?.objectValue.map(JSON.object) ?? .object(JSONObject())
        o["configuration"] = raw["configuration"]?.objectValue.map(JSON.object) ?? .object(JSONObject())
        o["relationships"] = .object(JSONObject((raw["relationships"]?.objectValue ?? JSONObject()).compactMap { k, v in v.stringValue.map { (k, JSON.string($0)) } }))
        for k in ["firewall", "resources", "container_profile", "endpoints"] { o[k] = .null }
        o["instance_count"] = 1
        o["supports_horizontal_scaling"] = false
        return .object(o)
    }

    /// A route as `PLATFORM_ROUTES` has it, with the TLS settings and attributes every route carries.
    static func route(_ raw: JSON) -> JSON {
        var o = raw.objectValue ?? JSONObject()
        if o["tls"]?.objectValue == nil {
            o["tls"] = .object(JSONObject([
                ("strict_transport_security", .object(JSONObject([("enabled", .null), ("include_subdomains", .null), ("preload", .null)]))),
                ("min_version", .null), ("client_authentication", .null), ("client_certificate_authorities", .array([])),
            ]))
        }
        o["attributes"] = .object(JSONObject((raw["attributes"]?.objectValue ?? JSONObject()).compactMap { k, v in v.stringValue.map { (k, JSON.string($0)) } }))
        if raw["type"]?.stringValue == "upstream" { o["to"] = nil }
        return .object(o)
    }

    /// The fields applications and workers share.
    private static func common(name: String, _ raw: JSON) -> JSONObject {
        var o = JSONObject()
        let tree = raw["tree_id"]?.stringValue ?? ""
        o["name"] = .string(name)
        o["type"] = .string(raw["type"]?.stringValue ?? "")
        o["resources"] = .null
        let size = raw["size"]?.stringValue ?? "AUTO"
        o["size"] = .string(["2XL", "4XL", "AUTO", "L", "M", "S", "XL", "XS"].contains(size) ? size : "AUTO")
        o["disk"] = raw["disk"]?.intValue.map { JSON.int(Int64($0)) } ?? .null
        var access = JSONObject([("ssh", "contributor")])
        for (k, v) in raw["access"]?.objectValue ?? JSONObject() { if let r = v.stringValue { access[k] = .string(r) } }
        o["access"] = .object(access)
        var rels = JSONObject()
        for (k, v) in raw["relationships"]?.objectValue ?? JSONObject() {
            if let s = v.stringValue {
                let parts = s.split(separator: ":", maxSplits: 1).map(String.init)
                rels[k] = .object(JSONObject([("service", .string(parts[0])), ("endpoint", parts.count > 1 ? .string(parts[1]) : .null)]))
            } else {
                rels[k] = .object(JSONObject([("service", v["service"]?.stringValue.map(JSON.string) ?? .null),
                                              ("endpoint", v["endpoint"]?.stringValue.map(JSON.string) ?? .null)]))
            }
        }
        o["relationships"] = .object(rels)
        o["additional_hosts"] = .object(JSONObject((raw["additional_hosts"]?.objectValue ?? JSONObject()).compactMap { k, v in v.stringValue.map { (k, JSON.string($0)) } }))
        var mounts = JSONObject()
        for (path, m) in raw["mounts"]?.objectValue ?? JSONObject() {
            if let legacy = m.stringValue {
                // `shared:files/x`, the old one-line form.
                mounts[path] = .object(JSONObject([("source", "local"), ("source_path", .string(legacy.components(separatedBy: "files/").last ?? "")), ("service", .null)]))
                continue
            }
            let source = m["source"]?.stringValue ?? "local"
            let trimmed = path.split(separator: "/").joined(separator: "/")
            mounts[path] = .object(JSONObject([
                ("source", .string(["instance", "local", "service", "storage", "temporary", "tmp"].contains(source) ? source : "local")),
                ("source_path", .string(m["source_path"]?.stringValue ?? trimmed)),
                ("service", m["service"]?.stringValue.map(JSON.string) ?? .null),
            ]))
        }
        o["mounts"] = .object(mounts)
        o["timezone"] = raw["timezone"]?.stringValue.map(JSON.string) ?? .null
        o["variables"] = .object(JSONObject((raw["variables"]?.objectValue ?? JSONObject()).filter { $0.value.objectValue != nil }.map { ($0.key, $0.value) }))
        o["firewall"] = .null
        o["container_profile"] = .null
        var ops = JSONObject()
        for (k, v) in raw["operations"]?.objectValue ?? JSONObject() {
            ops[k] = .object(JSONObject([
                ("commands", .object(JSONObject([("start", .string(v["commands"]?["start"]?.stringValue ?? "")),
                                                 ("stop", v["commands"]?["stop"]?.stringValue.map(JSON.string) ?? .null)]))),
                ("timeout", v["timeout"]?.intValue.map { JSON.int(Int64($0)) } ?? .null),
                ("role", .string(v["role"]?.stringValue ?? "contributor")),
            ]))
        }
        o["operations"] = .object(ops)
        o["preflight"] = .object(JSONObject([("enabled", false), ("ignored_rules", .array([]))]))
        o["tree_id"] = .string(tree)
        o["app_dir"] = "/app"
        o["endpoints"] = .null
        o["runtime"] = raw["runtime"]?.objectValue.map(JSON.object) ?? .object(JSONObject())
        o["stack"] = .object(JSONObject([("runtimes", .array([])), ("packages", .array([]))]))
        o["image"] = .null
        o["instance_count"] = 1
        o["slug_id"] = .string(tree)
        o["supports_horizontal_scaling"] = false
        return o
    }

    private static func web(_ raw: JSON?, type: String) -> JSON {
        var o = raw?.objectValue ?? JSONObject()
        var locations = JSONObject()
        for (path, l) in raw?["locations"]?.objectValue ?? JSONObject() {
            var loc = l.objectValue ?? JSONObject()
            loc["root"] = l["root"]?.stringValue.map(JSON.string) ?? .null
            loc["expires"] = .string(l["expires"]?.stringValue ?? l["expires"]?.intValue.map(String.init) ?? "-1")
            loc["passthru"] = .string(passthru(l["passthru"], type: type))
            loc["scripts"] = .bool(l["scripts"]?.boolValue ?? false)
            loc["allow"] = .bool(l["allow"]?.boolValue ?? true)
            loc["headers"] = .object(JSONObject((l["headers"]?.objectValue ?? JSONObject()).compactMap { k, v in v.stringValue.map { (k, JSON.string($0)) } }))
            var rules = JSONObject()
            for (pattern, r) in l["rules"]?.objectValue ?? JSONObject() {
                var rule = r.objectValue ?? JSONObject()
                if let p = r["passthru"] { rule["passthru"] = .string(passthru(p, type: type)) }
                if let e = r["expires"], e.stringValue == nil { rule["expires"] = e.intValue.map { JSON.string(String($0)) } ?? .null }
                rules[pattern] = .object(rule)
            }
            loc["rules"] = .object(rules)
            locations[path] = .object(loc)
        }
        o["locations"] = .object(locations)
        let cmds = raw?["commands"]
        o["commands"] = .object(JSONObject(["pre_start", "start", "post_start"].map { ($0, cmds?[$0]?.stringValue.map(JSON.string) ?? .null) }))
        let family = raw?["upstream"]?["socket_family"]?.stringValue ?? (type.hasPrefix("php") ? "unix" : "tcp")
        let proto = raw?["upstream"]?["protocol"]?.stringValue ?? (type.hasPrefix("php") ? "fastcgi" : "http")
        o["upstream"] = .object(JSONObject([("socket_family", .string(family)), ("protocol", .string(proto))]))
        o["move_to_root"] = .bool(raw?["move_to_root"]?.boolValue ?? false)
        return .object(o)
    }

    /// `passthru: true` means the runtime's front controller; `false` means none.
    private static func passthru(_ v: JSON?, type: String) -> String {
        if let s = v?.stringValue { return s }
        if v?.boolValue == true { return type.hasPrefix("php") ? "/index.php" : "/" }
        return ""
    }

    private static func cron(_ raw: JSON) -> JSON {
        let start = raw["commands"]?["start"]?.stringValue ?? raw["cmd"]?.stringValue ?? ""
        return .object(JSONObject([
            ("spec", .string(raw["spec"]?.stringValue ?? "")),
            ("commands", .object(JSONObject([("start", .string(start)), ("stop", raw["commands"]?["stop"]?.stringValue.map(JSON.string) ?? .null)]))),
            ("shutdown_timeout", raw["shutdown_timeout"]?.intValue.map { JSON.int(Int64($0)) } ?? .null),
            ("timeout", .int(Int64(raw["timeout"]?.intValue ?? 86400))),
        ]))
    }

    private static func cache(_ raw: JSON) -> JSON {
        .object(JSONObject([
            ("directory", raw["directory"]?.stringValue.map(JSON.string) ?? .null),
            ("watch", .array((raw["watch"]?.arrayValue ?? []).compactMap { $0.stringValue.map(JSON.string) })),
            ("allow_stale", .bool(raw["allow_stale"]?.boolValue ?? false)),
            ("share_between_apps", .bool(raw["share_between_apps"]?.boolValue ?? false)),
        ]))
    }
}
