import ArgumentParser
import Foundation
import GroveClient
import GroveModel

/// `/projects/<id>/environments/<env>` for the selected project and environment.
func environmentPath(_ common: CommonOptions, _ client: APIClient) async throws -> (String, String) {
    let project = try await Session.project(common, client)
    let env = Session.environmentId(common, project: project)
    return ("/projects/\(Output.text(project["id"]))/environments/\(Session.segment(env))", env)
}

struct SourceOperationList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "source-operation:list", abstract: "List the source operations the environment's code defines.", aliases: ["source-ops"])
    @OptionGroup var common: CommonOptions
    func run() async throws {
        let client = try Session.client()
        let (path, _) = try await environmentPath(common, client)
        let list = try await client.get(path + "/source-operations").arrayValue ?? []
        Output.print(["Operation", "App", "Command"], list.map { [Output.text($0["operation"]), Output.text($0["app"]), Output.text($0["command"])] },
                     format: common.format, json: .array(list))
    }
}

struct SourceOperationRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "source-operation:run", abstract: "Run a source operation; its commits are pushed to the branch and deployed.")
    @OptionGroup var common: CommonOptions
    @Argument var operation: String
    @Option(name: .customLong("variable"), help: "A variable for the operation, prefix:NAME=value (env:NAME=value is an environment variable; repeatable).")
    var variables: [String] = []
    @Flag(name: [.customShort("W"), .customLong("no-wait")]) var noWait = false
    func run() async throws {
        let client = try Session.client()
        let (path, env) = try await environmentPath(common, client)
        var groups: [String: JSONObject] = [:]
        for v in variables {
            guard let eq = v.firstIndex(of: "="), let colon = v[..<eq].firstIndex(of: ":") else {
                throw CLIError("--variable must look like env:NAME=value, not \(v)")
            }
            groups[String(v[..<colon]), default: JSONObject()][String(v[v.index(after: colon)..<eq])] = .string(String(v[v.index(after: eq)...]))
        }
        var body = JSONObject([("operation", .string(operation))])
        if !groups.isEmpty { body["variables"] = .object(JSONObject(groups.sorted { $0.key < $1.key }.map { ($0.key, JSON.object($0.value)) })) }
        let reply = try await client.post(path + "/source-operation", .object(body))
        print("Running source operation \(operation) on \(env).")
        try await followActivities(reply, client: client, wait: !noWait)
    }
}

struct OperationList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "operation:list", abstract: "List the runtime operations of the deployed applications.", aliases: ["ops"])
    @OptionGroup var common: CommonOptions
    func run() async throws {
        let client = try Session.client()
        let (path, _) = try await environmentPath(common, client)
        let webapps = try await client.get(path + "/deployments/current")["webapps"]?.objectValue ?? JSONObject()
        var rows: [[String]] = []
        for (app, config) in webapps {
            for (name, op) in (config["operations"]?.objectValue ?? JSONObject()).sorted(by: { $0.key < $1.key }) {
                rows.append([name, app, Output.text(op["role"]).isEmpty ? "contributor" : Output.text(op["role"]), Output.text(op["commands"]?["start"])])
            }
        }
        Output.print(["Operation", "App", "Role", "Start command"], rows, format: common.format,
                     json: .array(rows.map { .object(JSONObject([("operation", .string($0[0])), ("app", .string($0[1])), ("role", .string($0[2])), ("start", .string($0[3]))])) }))
    }
}

struct OperationRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "operation:run", abstract: "Run a runtime operation beside the running application.")
    @OptionGroup var common: CommonOptions
    @Argument var operation: String
    @Option(name: [.customShort("A"), .customLong("app")], help: "The application (or app--worker); default: the only one defining the operation.") var app: String?
    @Option(name: .customLong("param"), help: "A parameter passed to the command ($1, $2, ...; repeatable).") var parameters: [String] = []
    @Flag(name: [.customShort("W"), .customLong("no-wait")]) var noWait = false
    func run() async throws {
        let client = try Session.client()
        let (path, env) = try await environmentPath(common, client)
        var service = app
        if service == nil {
            let webapps = try await client.get(path + "/deployments/current")["webapps"]?.objectValue ?? JSONObject()
            let defining = webapps.filter { $0.value["operations"]?[operation] != nil }.map(\.key)
            guard defining.count == 1 else { throw CLIError(defining.isEmpty ? "No deployed application defines \(operation)." : "Several applications define \(operation): pass --app.") }
            service = defining.first
        }
        let body = JSONObject([("service", .string(service ?? "")), ("operation", .string(operation)), ("parameters", JSON(parameters))])
        let reply = try await client.post(path + "/deployments/current/operations", .object(body))
        print("Running operation \(operation) on \(service ?? "") of \(env).")
        try await followActivities(reply, client: client, wait: !noWait)
    }
}
