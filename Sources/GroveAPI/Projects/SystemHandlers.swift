import Foundation
import GroveModel

/// `GET /grove/system`: how this server runs (Grove's own; the CLI's `system:info`). Any signed-in user may read it.
/// `GET /projects/{id}/system`: the project's git server, which is this process.
enum SystemHandlers {
    static func register(_ r: inout Routes, _ s: ServerContext) {
        r.add("get-grove-system") { req in
            _ = try req.requireUser()
            var o = JSONObject([("version", .string(GroveVersion.string)), ("store", .string(s.store.backendName)), ("region", .string(s.region)),
                                ("role", .string(s.role)), ("base_domain", .string(s.baseDomain))])
            if let info = await s.deployer?.systemInfo() { for (k, v) in info { o[k] = v } }
            if let endpoint = s.ssh?.endpoint { o["ssh"] = .string(endpoint) }
            if let key = s.sshHostKey { o["ssh_host_key"] = .string(key) }
            if let server = s.sshServer { o["ssh_server"] = .string(server) }
            return .json(.ok, .object(o))
        }
        // A project's git server is this process: its version and when it started.
        r.add("get-projects-system") { req in
            _ = try req.project()
            return .json(.ok, .object(JSONObject([("version", .string(GroveVersion.string)), ("image", .string("grove/\(GroveVersion.string)")),
                                                  ("started_at", .string(s.startedAt))])))
        }
    }
}
