import Foundation
import GroveConfig
import GroveDriver
import GroveModel

/// The variables an application's processes see: user variables by visibility, and the `PLATFORM_*` runtime ones.
extension Deployer {
    /// User variables visible at build or runtime: `env:` ones as process variables, the rest in `PLATFORM_VARIABLES`.
    /// The user variables an environment sees, read once per deployment.
    struct UserVariables: Sendable {
        let project: [Variable]
        let chain: [[Variable]]
        let ids: [String]
    }

    func userVariables(project: Project, env: Environment) async throws -> UserVariables {
        let (chain, ids) = try await store.variableAncestry(projectId: project.id, environment: env)
        return UserVariables(project: try await store.variables(projectId: project.id, environmentId: nil), chain: chain, ids: ids)
    }

    func variables(_ user: UserVariables, app: ApplicationConfig, visibility: VariableVisibility) -> (platform: JSONObject, env: [String: String]) {
        var platform = JSONObject()
        var envVars: [String: String] = [:]
        // The app's own `variables:` are the lowest level.
        for (prefix, group) in app.variables.sorted(by: { $0.key < $1.key }) {
            for (name, value) in group.sorted(by: { $0.key < $1.key }) {
                if prefix == "env" { envVars[name] = value.stringValue ?? value.serialized() } else { platform["\(prefix):\(name)"] = value }
            }
        }
        for ev in VariableResolver.effective(project: user.project, ancestors: user.chain, environmentIds: user.ids, visibility: visibility,
                                             application: app.name) {
            let v = ev.variable
            if v.name.hasPrefix("env:") {
                envVars[String(v.name.dropFirst(4))] = v.value
            } else {
                platform[v.name] = v.isJson ? ((try? JSON.parse(v.value)) ?? .string(v.value)) : .string(v.value)
            }
        }
        return (platform, envVars)
    }

    func runtimeEnvironment(project: Project, env: Environment, app: ApplicationConfig, artifact: Artifact, routes: String,
                            ports: [String: Int], user: UserVariables, services: [String: JSON]) -> [String: String] {
        let inside = artifact.appDir
        var e = artifact.runtimeEnvironment
        let vars = variables(user, app: app, visibility: .runtime)
        for (k, v) in vars.env { e[k] = v }
        e["HOME"] = inside
        e["LANG"] = "C.UTF-8"
        e["TMPDIR"] = "/tmp"
        e["PLATFORM_APP_DIR"] = inside
        e["PLATFORM_APPLICATION"] = Data(app.document.bytes).base64EncodedString()
        e["PLATFORM_APPLICATION_NAME"] = app.name
        e["PLATFORM_BRANCH"] = env.id
        let docRoot = app.web.locations.first(where: { $0.path == "/" })?.location.root.map { inside + "/" + $0 } ?? inside
        e["PLATFORM_DOCUMENT_ROOT"] = docRoot
        e["PLATFORM_ENVIRONMENT"] = env.machineName
        e["PLATFORM_ENVIRONMENT_TYPE"] = env.type.rawValue
        e["PLATFORM_PROJECT"] = project.id
        e["PLATFORM_PROJECT_ENTROPY"] = project.entropy
        e["PLATFORM_TREE_ID"] = artifact.key
        e["PLATFORM_ROUTES"] = routes
        e["PLATFORM_VARIABLES"] = Data(JSON.object(vars.platform).bytes).base64EncodedString()
        e["PLATFORM_SMTP_HOST"] = ""
        e["PLATFORM_RELATIONSHIPS"] = Self.relationships(project: project, env: env, app: app, ports: ports, services: services)
        return e
    }

    /// `PLATFORM_RELATIONSHIPS` (base64 JSON): the app's relationships to services and to the environment's other applications.
    static func relationships(project: Project, env: Environment, app: ApplicationConfig, ports: [String: Int], services: [String: JSON]) -> String {
        var rels = JSONObject()
        for (name, value) in services.sorted(by: { $0.key < $1.key }) { rels[name] = value }
        for (name, r) in app.relationships.sorted(by: { $0.key < $1.key }) where services[name] == nil {
            guard let port = ports[r.service] else { continue }
            rels[name] = .array([.object(JSONObject([
                ("scheme", "http"), ("host", "127.0.0.1"), ("hostname", "127.0.0.1"), ("ip", "127.0.0.1"), ("instance_ips", ["127.0.0.1"]),
                ("port", .int(Int64(port))), ("username", .null), ("password", .null), ("path", .null), ("query", .object(JSONObject())),
                ("fragment", .null), ("rel", "http"), ("service", .string(r.service)), ("type", .string(app.type.description)),
                ("cluster", .string("\(project.id)-\(env.machineName)")), ("public", false), ("host_mapped", false), ("epoch", 0),
            ]))])
        }
        return Data(JSON.object(rels).bytes).base64EncodedString()
    }
}
