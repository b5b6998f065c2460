import Foundation
import GroveConfig
import GroveModel
import GroveRuntime

/// `varnish`: Debian's varnishd in front of the environment's applications. Each service-level relationship
/// (`relationships: {application: "app:http"}`) becomes a director of that name over the application's port, made
/// in a generated `vcl_init`; the project's VCL (`configuration.vcl`, usually `!include {type: string, path: ...}`)
/// follows, as on Platform.sh (`set req.backend_hint = application.backend();`). Routes reach it as `varnish:http`.
/// The cache lives in memory: nothing persists, and a new deployment (new application ports) starts a new varnishd.
struct VarnishEngine: ServiceEngine {
    static let daemon = "/usr/sbin/varnishd"
    /// Debian's `vcache` account (varnishd's worker user) when Grove runs as root.
    var user: ServiceUser? = nil
    var versionNote: String?

    static func locate(version: String) throws -> VarnishEngine {
        guard FileManager.default.isExecutableFile(atPath: daemon) else {
            throw ServiceFailure("varnish:\(version) cannot run on this host: Varnish is not installed (apt-get install varnish)")
        }
        let found = hostVersion()
        var note: String?
        if let found, found != version {
            // VCL 4.x is the language of every 6.x and 7.x release; an older host cannot promise a newer one's modules.
            guard let have = Double(found), let want = Double(version), have >= want || found.split(separator: ".").first == version.split(separator: ".").first else {
                throw ServiceFailure("varnish:\(version) cannot run on this host: it has Varnish \(found) (Debian's varnish); use varnish:\(found) or older")
            }
            note = "varnish:\(version) requested; this host runs Varnish \(found) (VCL 4.1)"
        }
        return VarnishEngine(user: ServiceUser.lookup("vcache") ?? ServiceUser.lookup("nobody"), versionNote: note)
    }

    static func hostVersion() -> String? {
        guard let text = Exec.capture(daemon, ["-V"]), let m = text.firstMatch(of: /varnish-(\d+)\.(\d+)/) else { return nil }
        return "\(m.1).\(m.2)"
    }

    func initialize(data: String, hostData: String, run: String, config: ServiceConfig,
                    sandboxed: @Sendable (String) async throws -> AdminCommand.Output) async throws -> ServiceState {
        ServiceState(type: "varnish", version: config.type.version, endpoints: ["http": .init(username: nil, password: nil, path: nil, privileges: [:])])
    }

    /// The VCL varnishd loads: version line, imports, one backend and director per relationship, then the project's.
    static func vcl(_ config: ServiceConfig) -> String {
        var out = "vcl 4.1;\n\nimport std;\nimport directors;\n\n"
        let names = config.relationships.keys.sorted()
        for name in names {
            let port = config.backendPorts[name] ?? 1
            out += "backend \(name)_1 {\n    .host = \"127.0.0.1\";\n    .port = \"\(port)\";\n}\n\n"
        }
        out += "sub vcl_init {\n"
        for name in names { out += "    new \(name) = directors.round_robin();\n    \(name).add_backend(\(name)_1);\n" }
        out += "}\n\n"
        let own = config.configuration["vcl"]?.stringValue ?? ""
        // Without its own vcl_recv the first relationship serves everything.
        if !own.contains("vcl_recv"), let first = names.first {
            out += "sub vcl_recv {\n    set req.backend_hint = \(first).backend();\n}\n\n"
        }
        return out + own.replacingOccurrences(of: "^\\s*vcl\\s+4\\.[01]\\s*;", with: "", options: .regularExpression) + "\n"
    }

    /// Compiles the VCL (`varnishd -C`) as the server would, inline C refused, so a broken VCL fails the deploy while
    /// the running varnishd keeps serving.
    func check(_ config: ServiceConfig) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grove-vcl-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.vcl(config).write(toFile: dir + "/default.vcl", atomically: true, encoding: .utf8)
        // `-C` writes the whole generated C program (100 KB and more) to stderr: it goes to a file, not a pipe.
        let report = dir + "/report"
        let out = try await AdminCommand.run(["/bin/sh", "-c", "exec \"$0\" \"$@\" > /dev/null 2> '\(report)'", Self.daemon,
                                              "-C", "-j", "none", "-n", dir + "/work", "-f", dir + "/default.vcl", "-p", "vcc_allow_inline_c=off"],
                                             environment: ["PATH": "/usr/bin:/bin", "HOME": dir])
        guard out.status == 0 else {
            let text = (try? String(contentsOfFile: report, encoding: .utf8)) ?? ""
            let lines = text.split(separator: "\n").filter { !$0.hasPrefix("Could not delete") }.prefix(12)
            throw ServiceFailure("its VCL does not compile:\n" + lines.joined(separator: "\n"))
        }
    }

    func start(data: String, run: String, port: Int, config: ServiceConfig, state: ServiceState) -> String {
        _ = FileManager.default.createFile(atPath: run + "/default.vcl", contents: Data(Self.vcl(config).utf8), attributes: [.posixPermissions: 0o644])
        // As root, varnishd's own jail drops its workers to vcache; without root there is nothing to drop.
        let jail = geteuid() == 0 ? "-j unix,user=vcache,ccgroup=varnish" : "-j none"
        return "exec \(Self.daemon) -F \(jail) -a 127.0.0.1:\(port) -T none -f \(run)/default.vcl -n \(run)/varnishd -s malloc,64m -p vcc_allow_inline_c=off"
    }

    func provision(run: String, port: Int, state: ServiceState, config: ServiceConfig) async throws {}
    func flush(run: String, port: Int, state: ServiceState) async {}

    func endpoint(_ name: String, state: ServiceState, port: Int) -> (scheme: String, rel: String, credential: ServiceState.Credential?, query: JSONObject) {
        ("http", name, nil, JSONObject())
    }
}
