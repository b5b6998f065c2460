import ArgumentParser
import Foundation
import GroveClient
import GroveModel

/// The deployed applications of an environment, from its current deployment.
func deployedApps(_ common: CommonOptions, _ client: APIClient) async throws -> (String, JSONObject) {
    let project = try await Session.project(common, client)
    let envId = Session.environmentId(common, project: project)
    let current = try await client.get("/projects/\(Output.text(project["id"]))/environments/\(Session.segment(envId))/deployments/current")
    return (envId, current["webapps"]?.objectValue ?? JSONObject())
}

struct AppList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "app:list", abstract: "List the applications deployed on an environment.", aliases: ["apps"])
    @OptionGroup var common: CommonOptions
    func run() async throws {
        let client = try Session.client()
        let (_, apps) = try await deployedApps(common, client)
        Output.print(["Name", "Type", "Tree"], apps.map { name, app in [name, Output.text(app["type"]), String(Output.text(app["tree_id"]).prefix(12))] },
                     format: common.format, json: .object(apps))
    }
}

struct AppConfigGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "app:config-get", abstract: "Show a deployed application's configuration.")
    @OptionGroup var common: CommonOptions
    @Option(name: [.customShort("A"), .customLong("app")], help: "Application name (default: the only one).") var app: String?
    @Option(name: [.customShort("P"), .customLong("property")], help: "One top-level property.") var property: String?
    func run() async throws {
        let client = try Session.client()
        let (envId, apps) = try await deployedApps(common, client)
        let name = app ?? (apps.count == 1 ? apps.keys.first : nil)
        guard let name, let config = apps[name] else {
            throw CLIError(apps.isEmpty ? "Nothing is deployed on \(envId)." : "Name the application with --app (\(apps.keys.joined(separator: ", "))).")
        }
        if let property { print(config[property].map { $0.stringValue ?? $0.serialized(pretty: true) } ?? "") } else { print(config.serialized(pretty: true)) }
    }
}
