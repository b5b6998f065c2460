import ArgumentParser
import Foundation
import GroveClient
import GroveModel

/// The routes an environment serves, primary first.
func servedRoutes(_ common: CommonOptions, _ client: APIClient) async throws -> (String, [JSON]) {
    let project = try await Session.project(common, client)
    let envId = Session.environmentId(common, project: project)
    let routes = try await client.get("/projects/\(Output.text(project["id"]))/environments/\(Session.segment(envId))/routes").arrayValue ?? []
    let sorted = routes.sorted { ($0["primary"]?.boolValue == true ? 0 : 1, Output.text($0["url"])) < ($1["primary"]?.boolValue == true ? 0 : 1, Output.text($1["url"])) }
    return (envId, sorted)
}

struct EnvironmentURL: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "environment:url", abstract: "Print the URLs an environment serves (primary first).", aliases: ["url"])
    @OptionGroup var common: CommonOptions
    @Flag(name: .customLong("primary"), help: "Only the primary URL.") var primaryOnly = false
    func run() async throws {
        let client = try Session.client()
        let (envId, routes) = try await servedRoutes(common, client)
        let urls = routes.filter { $0["type"]?.stringValue == "upstream" }.compactMap { $0["url"]?.stringValue }
        guard !urls.isEmpty else { throw CLIError("Environment \(envId) serves nothing yet (is it active, with an application?).") }
        for u in primaryOnly ? Array(urls.prefix(1)) : urls { print(u) }
    }
}

struct RouteList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "route:list", abstract: "List an environment's routes.", aliases: ["routes"])
    @OptionGroup var common: CommonOptions
    func run() async throws {
        let client = try Session.client()
        let (_, routes) = try await servedRoutes(common, client)
        Output.print(["Route", "Type", "To", "Original"],
                     routes.map { [Output.text($0["url"]), Output.text($0["type"]),
                                   $0["type"]?.stringValue == "upstream" ? Output.text($0["upstream"]) : Output.text($0["to"]), Output.text($0["original_url"])] },
                     format: common.format, json: .array(routes))
    }
}

struct RouteGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "route:get", abstract: "Show one route (by URL, id or original URL).")
    @OptionGroup var common: CommonOptions
    @Argument var route: String
    @Option(name: [.customShort("P"), .customLong("property")]) var property: String?
    func run() async throws {
        let client = try Session.client()
        let (_, routes) = try await servedRoutes(common, client)
        guard let r = routes.first(where: { [$0["url"], $0["id"], $0["original_url"]].contains(.string(route)) }) else { throw CLIError("No route \(route).") }
        if let property { print(Output.text(r[property])) } else { print(r.serialized(pretty: true)) }
    }
}
