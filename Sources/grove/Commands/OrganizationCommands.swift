import ArgumentParser
import Foundation
import GroveClient
import GroveModel

struct OrganizationList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "organization:list", abstract: "List your organizations.", aliases: ["orgs"])
    @Option var format: OutputFormat = .table
    func run() async throws {
        let json = try await Session.client().get("/organizations")
        let items = json["items"]?.arrayValue ?? []
        Output.print(["ID", "Name", "Label", "Owner ID"], items.map { [Output.text($0["id"]), Output.text($0["name"]), Output.text($0["label"]), Output.text($0["owner_id"])] },
                     format: format, json: .array(items))
    }
}

struct OrganizationCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "organization:create", abstract: "Create an organization.")
    @Option var name: String?
    @Option var label: String
    @Option var country: String?
    func run() async throws {
        var body = JSONObject([("label", .string(label))])
        if let name { body["name"] = .string(name) }
        if let country { body["country"] = .string(country) }
        let org = try await Session.client().post("/organizations", .object(body))
        print("Created organization \(Output.text(org["name"])) (\(Output.text(org["id"]))).")
    }
}

struct OrganizationInfo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "organization:info", abstract: "Show an organization (by id or name).")
    @Option(name: [.short, .long]) var org: String?
    @Argument var property: String?
    @Option var format: OutputFormat = .table
    func run() async throws {
        let client = try Session.client()
        let ref = try await Session.organizationRef(org, client)
        try Output.properties(try await client.get("/organizations/\(Session.segment(ref))"), format: format, only: property)
    }
}
