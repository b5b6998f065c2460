import ArgumentParser
import Foundation
import GroveClient
import GroveModel

struct ProjectList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "project:list", abstract: "List the projects you can access.", aliases: ["projects"])
    @Option var format: OutputFormat = .table
    func run() async throws {
        let client = try Session.client()
        let me = try await client.get("/users/me")
        guard let uid = me["id"]?.stringValue else { throw CLIError("Cannot tell who you are.") }
        // As the official CLI does: extended access, then the referenced projects.
        let access = try await client.get("/users/\(uid)/extended-access?filter[resource_type]=project")
        var refs = JSONObject()
        if let href = access["_links"]?["ref:projects:0"]?["href"]?.stringValue { refs = try await client.get(href).objectValue ?? JSONObject() }
        var rows: [[String]] = []
        var out: [JSON] = []
        for item in access["items"]?.arrayValue ?? [] {
            guard let id = item["resource_id"]?.stringValue, let p = refs[id], !p.isNull else { continue }
            rows.append([id, Output.text(p["title"]), Output.text(p["region"]), Output.text(p["organization_id"])])
            out.append(p)
        }
        Output.print(["ID", "Title", "Region", "Organization"], rows, format: format, json: .array(out))
    }
}

struct ProjectCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "project:create", abstract: "Create a project.")
    @Option var title: String = "Untitled Project"
    @Option(help: "Organization id or name (default: your first organization).") var org: String?
    @Option var region: String?
    @Option(name: .customLong("default-branch")) var defaultBranch: String = "main"
    @Flag(name: [.customShort("W"), .customLong("no-wait")]) var noWait = false
    func run() async throws {
        let client = try Session.client()
        let orgRef = try await Session.organizationRef(org, client)
        var body = JSONObject([("project_title", .string(title)), ("default_branch", .string(defaultBranch))])
        if let region { body["project_region"] = .string(region) }
        var sub = try await client.post("/organizations/\(Session.segment(orgRef))/subscriptions", .object(body))
        let projectId = Output.text(sub["project_id"])
        FileHandle.standardError.write(Data("Creating project \(projectId)...\n".utf8))
        if !noWait, let me = sub["_links"]?["self"]?["href"]?.stringValue {
            var tries = 0
            while sub["status"]?.stringValue != "active" && tries < 300 {
                if sub["status"]?.stringValue == "provisioning failure" { throw CLIError("Provisioning failed.") }
                try await Task.sleep(for: .milliseconds(200))
                sub = try await client.get(me)
                tries += 1
            }
        }
        let project = try await client.get("/projects/\(projectId)")
        print("Project \(projectId) (\(title)) \(sub["status"]?.stringValue == "active" ? "is ready" : "is being provisioned").")
        print("Git URL: \(Output.text(project["repository"]?["url"]))")
        if let http = project["repository"]?["http_url"]?.stringValue, http != project["repository"]?["url"]?.stringValue {
            print("Git URL (HTTP): \(http)")
        }
    }
}

struct ProjectInfo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "project:info", abstract: "Show a project, or set one property.")
    @OptionGroup var common: CommonOptions
    @Argument var property: String?
    @Argument var value: String?
    func run() async throws {
        let client = try Session.client()
        let project = try await Session.project(common, client)
        if let property, let value {
            return try await Session.setProperty(project, property, value, what: "this project", client: client, format: common.format)
        }
        try Output.properties(project, format: common.format, only: property)
    }
}

struct ProjectDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "project:delete", abstract: "Delete a project and everything in it.")
    @OptionGroup var common: CommonOptions
    @Flag(name: [.short, .long], help: "Answer yes to the confirmation.") var yes = false
    func run() async throws {
        let client = try Session.client()
        let id = try await Session.projectId(common, client)
        if !yes {
            FileHandle.standardError.write(Data("Delete project \(id) and all its environments and data? Type the project id to confirm: ".utf8))
            guard readLine()?.trimmingCharacters(in: .whitespaces) == id else { throw CLIError("Not confirmed; nothing deleted.") }
        }
        try await client.delete("/projects/\(id)")
        print("Project \(id) deleted.")
    }
}
