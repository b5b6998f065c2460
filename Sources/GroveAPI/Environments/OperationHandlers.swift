import Foundation
import GroveConfig
import GroveGit
import GroveModel

/// Source operations (commands that commit to the branch) and runtime operations (commands run beside the
/// running application), both run as activities.
enum OperationHandlers {
    static func register(_ r: inout Routes, _ s: ServerContext) {
        r.add("list-projects-environments-source-operations") { req in
            let (p, _) = try req.project()
            let e = try req.environment()
            guard let config = try await headConfig(s, p, e) else { return .json(.ok, .array([])) }
            var out: [JSON] = []
            for app in config.applications {
                for (name, command) in app.sourceOperations.sorted(by: { $0.key < $1.key }) {
                    out.append(.object(JSONObject([("id", .string(name)), ("app", .string(app.name)), ("operation", .string(name)),
                                                   ("command", .string(command))])))
                }
            }
            return .json(.ok, .array(out))
        }
        r.add("run-source-operation") { req in
            let user = try req.requireUser()
            let (p, l) = try req.project()
            let e = try req.environment()
            try s.requireRole(.contributor, l, on: e)
            try await s.requireOwnRepository(p, for: "Running a source operation")
            let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: ["operation", "variables"])
            guard let op = try b.string("operation", required: true, nonEmpty: true) else { throw APIError.badRequest("is required", field: "operation") }
            let variables = try b.objectValue("variables") ?? JSONObject()
            for (prefix, group) in variables {
                guard let g = group.objectValue, g.allSatisfy({ $0.value.objectValue == nil && $0.value.arrayValue == nil && !$0.value.isNull }) else {
                    throw APIError.badRequest("must map prefixes to objects of names and values, e.g. {\"env\": {\"NAME\": \"value\"}} (\(prefix) is not)", field: "variables")
                }
            }
            guard e.status != .deleting else { throw APIError.badRequest("Environment \(e.id) is being deleted.") }
            guard let config = try await headConfig(s, p, e) else { throw APIError.badRequest("Environment \(e.id) has no code yet.") }
            let known = Set(config.applications.flatMap { $0.sourceOperations.keys })
            guard known.contains(op) else {
                throw APIError.badRequest(known.isEmpty ? "No application defines source operations (source.operations)."
                                                        : "No application defines \(op); available: \(known.sorted().joined(separator: ", ")).", field: "operation")
            }
            let a = s.makeActivity(type: "environment.source-operation", project: p, environment: e, user: user, action: "ran source operation \(op) on",
                                   parameters: JSONObject([("operation", .string(op)), ("variables", .object(variables)), ("environment", .string(e.id))]))
            try await s.store.insertActivity(a)
            return .json(.ok, resultEnvelope(nil, activities: [s.render.activity(a, canCancel: true)]))
        }
        r.add("run-operation") { req in
            let user = try req.requireUser()
            let (p, l) = try req.project()
            let e = try req.environment()
            guard req.param("deploymentId") == "current", try await s.store.deployment(projectId: p.id, environmentId: e.id) != nil else {
                throw APIError.notFound("Deployment \(req.param("deploymentId")) of environment \(e.id)")
            }
            let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: ["service", "operation", "parameters"])
            guard let service = try b.string("service", required: true, nonEmpty: true) else { throw APIError.badRequest("is required", field: "service") }
            guard let op = try b.string("operation", required: true, nonEmpty: true) else { throw APIError.badRequest("is required", field: "operation") }
            let parameters = try b.stringArray("parameters") ?? []
            let appName = service.components(separatedBy: "--").first ?? service
            guard let app = try await s.deployments.deployedApp(projectId: p.id, environmentId: e.id, app: appName) else {
                throw APIError.badRequest("\(service) is not an application deployed on \(e.id)", field: "service")
            }
            guard let operation = app.operations[op] else {
                let known = app.operations.keys.sorted()
                throw APIError.badRequest(known.isEmpty ? "\(appName) defines no runtime operations (operations)."
                                                        : "\(appName) has no operation \(op); available: \(known.joined(separator: ", ")).", field: "operation")
            }
            // Each operation names the least role that may run it.
            try s.requireRole(EnvironmentRole(rawValue: operation.role) ?? .contributor, l, on: e)
            let a = s.makeActivity(type: "environment.operation", project: p, environment: e, user: user, action: "ran operation \(op) on \(service) of",
                                   parameters: JSONObject([("service", .string(service)), ("operation", .string(op)), ("parameters", JSON(parameters)),
                                                           ("environment", .string(e.id))]))
            try await s.store.insertActivity(a)
            return .json(.ok, resultEnvelope(nil, activities: [s.render.activity(a, canCancel: true)]))
        }
    }

    /// The configuration at the environment's branch head, or nil when the branch has no code.
    static func headConfig(_ s: ServerContext, _ p: Project, _ e: Environment) async throws -> ProjectConfig? {
        guard let head = try await GitWriter(repositories: s.repositories, projectId: p.id).head(of: e.id) else { return nil }
        do {
            return try await ProjectConfig.load(from: CommitFiles(repositories: s.repositories, projectId: p.id, commit: head))
        } catch let err as ConfigError {
            throw APIError.badRequest("The configuration at \(head.prefix(7)) is invalid: \(err.issues.map(\.description).joined(separator: "; "))")
        }
    }
}
