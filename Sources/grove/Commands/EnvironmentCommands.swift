import ArgumentParser
import Foundation
import GroveClient
import GroveModel

struct EnvironmentList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "environment:list", abstract: "List a project's environments.",
                                                    aliases: ["env", "env:list", "environments"])
    @OptionGroup var common: CommonOptions
    func run() async throws {
        let client = try Session.client()
        let project = try await Session.project(common, client)
        let href = project["_links"]?["environments"]?["href"]?.stringValue ?? "/projects/\(Output.text(project["id"]))/environments"
        let envs = try await client.get(href).arrayValue ?? []
        Output.print(["ID", "Title", "Status", "Type", "Parent"],
                     envs.map { [Output.text($0["id"]), Output.text($0["title"]), Output.text($0["status"]), Output.text($0["type"]), Output.text($0["parent"])] },
                     format: common.format, json: .array(envs))
    }
}

struct EnvironmentInfo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "environment:info", abstract: "Show an environment, or set one property.", aliases: ["env:info"])
    @OptionGroup var common: CommonOptions
    @Argument var property: String?
    @Argument var value: String?
    func run() async throws {
        let client = try Session.client()
        let project = try await Session.project(common, client)
        let envId = Session.environmentId(common, project: project)
        let env = try await client.get("/projects/\(Output.text(project["id"]))/environments/\(Session.segment(envId))")
        if let property, let value {
            return try await Session.setProperty(env, property, value, what: "environment \(envId)", client: client, format: common.format)
        }
        try Output.properties(env, format: common.format, only: property)
    }
}

struct EnvironmentBranch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "environment:branch", abstract: "Create a child environment.", aliases: ["branch", "env:branch"])
    @OptionGroup var common: CommonOptions
    @Argument(help: "The new environment's name (a branch name).") var name: String
    @Argument(help: "The parent environment (default: -e, or the default branch).") var parent: String?
    @Option var title: String?
    @Option var type: String?
    @Flag(name: .customLong("no-clone-parent"), help: "Start without the parent's data.") var noCloneParent = false
    @Flag(name: [.customShort("W"), .customLong("no-wait")]) var noWait = false
    func run() async throws {
        let client = try Session.client()
        let project = try await Session.project(common, client)
        let parentId = parent ?? Session.environmentId(common, project: project)
        let env = try await client.get("/projects/\(Output.text(project["id"]))/environments/\(Session.segment(parentId))")
        guard let href = env["_links"]?["#branch"]?["href"]?.stringValue else {
            throw CLIError("Operation not available: the environment \(parentId) cannot be branched (status \(Output.text(env["status"])), or you lack the contributor role).")
        }
        var body = JSONObject([("name", .string(name)), ("title", .string(title ?? name)), ("clone_parent", .bool(!noCloneParent))])
        if let type { body["type"] = .string(type) }
        let reply = try await client.post(href, .object(body))
        print("Creating environment \(name) from \(parentId).")
        if !noWait, let activity = reply["_embedded"]?["activities"]?.arrayValue?.first { try await Session.wait(for: activity, client: client) }
    }
}

/// `environment:activate|deactivate|redeploy|pause|resume`: follows the action's `_links` entry, as the
/// official CLI does, so a refusal names why the action is unavailable.
enum LifecycleAction {
    static func perform(_ action: String, _ common: CommonOptions, noWait: Bool, body: JSON? = nil) async throws {
        let client = try Session.client()
        let project = try await Session.project(common, client)
        let envId = Session.environmentId(common, project: project)
        let env = try await client.get("/projects/\(Output.text(project["id"]))/environments/\(Session.segment(envId))")
        guard let href = env["_links"]?["#" + action]?["href"]?.stringValue else {
            throw CLIError("Operation not available: \(action) is not possible on \(envId) (status \(Output.text(env["status"])), a running activity, or your role).")
        }
        let reply = try await client.post(href, body)
        print("\(action.prefix(1).uppercased() + action.dropFirst()) of \(envId) started.")
        if !noWait, let activity = reply["_embedded"]?["activities"]?.arrayValue?.first { try await Session.wait(for: activity, client: client) }
    }
}

struct EnvironmentActivate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "environment:activate", abstract: "Activate an environment: deploy its code.")
    @OptionGroup var common: CommonOptions
    @Flag(name: [.customShort("W"), .customLong("no-wait")]) var noWait = false
    func run() async throws { try await LifecycleAction.perform("activate", common, noWait: noWait) }
}

struct EnvironmentDeactivate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "environment:deactivate", abstract: "Deactivate an environment: stop it, keep its branch.")
    @OptionGroup var common: CommonOptions
    @Flag(name: [.customShort("W"), .customLong("no-wait")]) var noWait = false
    func run() async throws { try await LifecycleAction.perform("deactivate", common, noWait: noWait) }
}

struct EnvironmentRedeploy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "environment:redeploy", abstract: "Redeploy an environment (same build, post_deploy hooks).", aliases: ["redeploy"])
    @OptionGroup var common: CommonOptions
    @Flag(name: [.customShort("W"), .customLong("no-wait")]) var noWait = false
    func run() async throws { try await LifecycleAction.perform("redeploy", common, noWait: noWait) }
}

struct EnvironmentInit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "environment:init",
                                                    abstract: "Give a project without code its first code from a template repository (URL[@branch]), and deploy it.")
    @OptionGroup var common: CommonOptions
    @Argument(help: "The template: an http(s) repository URL, optionally with @branch.") var url: String
    @Option(name: .customLong("profile"), help: "A name for the template (shown in activities).") var profile: String?
    @Flag(name: [.customShort("W"), .customLong("no-wait")]) var noWait = false
    func run() async throws {
        let body = JSONObject([("repository", .string(url)), ("profile", .string(profile ?? ""))])
        try await LifecycleAction.perform("initialize", common, noWait: noWait, body: .object(body))
    }
}

struct EnvironmentPause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "environment:pause", abstract: "Pause an environment: stop its applications, keep code and data.")
    @OptionGroup var common: CommonOptions
    @Flag(name: [.customShort("W"), .customLong("no-wait")]) var noWait = false
    func run() async throws { try await LifecycleAction.perform("pause", common, noWait: noWait) }
}

struct EnvironmentResume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "environment:resume", abstract: "Resume a paused environment.")
    @OptionGroup var common: CommonOptions
    @Flag(name: [.customShort("W"), .customLong("no-wait")]) var noWait = false
    func run() async throws { try await LifecycleAction.perform("resume", common, noWait: noWait) }
}

struct EnvironmentMerge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "environment:merge", abstract: "Merge an environment's code into its parent, which redeploys.", aliases: ["merge"])
    @OptionGroup var common: CommonOptions
    @Flag(name: [.customShort("W"), .customLong("no-wait")]) var noWait = false
    func run() async throws { try await LifecycleAction.perform("merge", common, noWait: noWait) }
}

struct EnvironmentSynchronize: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "environment:synchronize", abstract: "Bring the parent's code and/or data into an environment.", aliases: ["sync"])
    @OptionGroup var common: CommonOptions
    @Argument(help: "What to synchronize: code, data, or both (default: both).") var what: [String] = []
    @Flag(name: .customLong("rebase"), help: "Replay the environment's own commits onto the parent's instead of refusing.") var rebase = false
    @Flag(name: [.customShort("W"), .customLong("no-wait")]) var noWait = false
    func run() async throws {
        let parts = what.isEmpty ? ["code", "data"] : what
        guard parts.allSatisfy({ $0 == "code" || $0 == "data" }) else { throw CLIError("Synchronize code, data, or both.") }
        let body = JSONObject([("synchronize_code", .bool(parts.contains("code"))), ("synchronize_data", .bool(parts.contains("data"))),
                               ("rebase", .bool(rebase)), ("synchronize_resources", false)])
        try await LifecycleAction.perform("synchronize", common, noWait: noWait, body: .object(body))
    }
}

struct EnvironmentDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "environment:delete", abstract: "Delete an environment: deactivate it (its data is deleted), then remove it and its branch.")
    @OptionGroup var common: CommonOptions
    @Flag(name: [.customShort("y"), .customLong("yes")], help: "Do not ask for confirmation.") var yes = false
    func run() async throws {
        let client = try Session.client()
        let project = try await Session.project(common, client)
        guard let envId = common.environment else { throw CLIError("Name the environment to delete with -e.") }
        let path = "/projects/\(Output.text(project["id"]))/environments/\(Session.segment(envId))"
        if !yes {
            FileHandle.standardError.write(Data("Delete \(envId), its data and its branch? [y/N] ".utf8))
            guard readLine()?.lowercased().hasPrefix("y") == true else { throw CLIError("Nothing deleted.") }
        }
        if try await client.get(path)["status"]?.stringValue != "inactive" {
            try await LifecycleAction.perform("deactivate", common, noWait: false)
        }
        let reply = try await client.delete(path)
        print("Deleting \(envId).")
        for a in reply["_embedded"]?["activities"]?.arrayValue ?? [] { try await Session.wait(for: a, client: client) }
    }
}
