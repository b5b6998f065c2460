import ArgumentParser
import Foundation
import GroveClient
import GroveModel

enum VariableLevel: String, ExpressibleByArgument, CaseIterable {
    case project, environment
    init?(argument: String) {
        switch argument {
        case "project", "p": self = .project
        case "environment", "e": self = .environment
        default: return nil
        }
    }
}

/// Where a variable command reads and writes: the project's or one environment's collection.
struct VariableScope {
    let client: APIClient
    let collection: String

    static func resolve(_ common: CommonOptions, level: VariableLevel?) async throws -> VariableScope {
        let client = try Session.client()
        let project = try await Session.project(common, client)
        let pid = Output.text(project["id"])
        let lvl = level ?? (common.environment != nil ? .environment : .project)
        if lvl == .project { return VariableScope(client: client, collection: "/projects/\(pid)/variables") }
        let env = Session.environmentId(common, project: project)
        return VariableScope(client: client, collection: "/projects/\(pid)/environments/\(Session.segment(env))/variables")
    }
}

struct VariableOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "project (p) or environment (e).") var level: VariableLevel?
    @Option(name: .customLong("json"), help: "true if the value is JSON.") var isJSON: Bool?
    @Option(name: .customLong("sensitive")) var sensitive: Bool?
    @Option(name: .customLong("visible-build")) var visibleBuild: Bool?
    @Option(name: .customLong("visible-runtime")) var visibleRuntime: Bool?
    @Option(name: .customLong("inheritable")) var inheritable: Bool?
    @Option(name: .customLong("enabled")) var enabled: Bool?

    func apply(to body: inout JSONObject, environmentLevel: Bool) {
        if let isJSON { body["is_json"] = .bool(isJSON) }
        if let sensitive { body["is_sensitive"] = .bool(sensitive) }
        if let visibleBuild { body["visible_build"] = .bool(visibleBuild) }
        if let visibleRuntime { body["visible_runtime"] = .bool(visibleRuntime) }
        if environmentLevel {
            if let inheritable { body["is_inheritable"] = .bool(inheritable) }
            if let enabled { body["is_enabled"] = .bool(enabled) }
        }
    }
}

struct VariableCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "variable:create", abstract: "Create a variable.")
    @OptionGroup var common: CommonOptions
    @OptionGroup var vars: VariableOptions
    @Argument var name: String
    @Option var value: String
    func run() async throws {
        let scope = try await VariableScope.resolve(common, level: vars.level)
        var body = JSONObject([("name", .string(name)), ("value", .string(value))])
        vars.apply(to: &body, environmentLevel: scope.collection.contains("/environments/"))
        do {
            try await scope.client.post(scope.collection, .object(body))
        } catch let e as ClientError where e.status == 409 {
            throw CLIError("The variable already exists: \(name)")
        }
        print("Created variable \(name).")
    }
}

struct VariableList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "variable:list", abstract: "List variables.", aliases: ["variables"])
    @OptionGroup var common: CommonOptions
    @Option(name: [.short, .long]) var level: VariableLevel?
    func run() async throws {
        let scope = try await VariableScope.resolve(common, level: level)
        let list = try await scope.client.get(scope.collection).arrayValue ?? []
        Output.print(["Name", "Value", "Sensitive", "Inherited"],
                     list.map { [Output.text($0["name"]), $0["is_sensitive"]?.boolValue == true ? "******" : Output.text($0["value"]),
                                 Output.text($0["is_sensitive"]), Output.text($0["inherited"] ?? false)] },
                     format: common.format, json: .array(list))
    }
}

struct VariableGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "variable:get", abstract: "Show a variable.")
    @OptionGroup var common: CommonOptions
    @Option(name: [.short, .long]) var level: VariableLevel?
    @Argument var name: String
    @Option(name: [.customShort("P"), .long]) var property: String?
    func run() async throws {
        let scope = try await VariableScope.resolve(common, level: level)
        try Output.properties(try await scope.client.get(scope.collection + "/" + Session.segment(name)), format: common.format, only: property)
    }
}

struct VariableUpdate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "variable:update", abstract: "Change a variable.")
    @OptionGroup var common: CommonOptions
    @OptionGroup var vars: VariableOptions
    @Argument var name: String
    @Option var value: String?
    func run() async throws {
        let scope = try await VariableScope.resolve(common, level: vars.level)
        var body = JSONObject()
        if let value { body["value"] = .string(value) }
        vars.apply(to: &body, environmentLevel: scope.collection.contains("/environments/"))
        guard !body.isEmpty else { throw CLIError("Nothing to change: give --value or an attribute option.") }
        try await scope.client.patch(scope.collection + "/" + Session.segment(name), .object(body))
        print("Updated variable \(name).")
    }
}

struct VariableDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "variable:delete", abstract: "Delete a variable.")
    @OptionGroup var common: CommonOptions
    @Option(name: [.short, .long]) var level: VariableLevel?
    @Argument var name: String
    @Flag(name: [.short, .long]) var yes = false
    func run() async throws {
        let scope = try await VariableScope.resolve(common, level: level)
        if !yes {
            FileHandle.standardError.write(Data("Delete variable \(name)? [y/N] ".utf8))
            guard readLine()?.lowercased().hasPrefix("y") == true else { throw CLIError("Not confirmed; nothing deleted.") }
        }
        try await scope.client.delete(scope.collection + "/" + Session.segment(name))
        print("Deleted variable \(name).")
    }
}
