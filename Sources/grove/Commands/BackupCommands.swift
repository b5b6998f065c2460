import ArgumentParser
import Foundation
import GroveClient
import GroveModel

struct BackupCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "backup:create", abstract: "Back up an environment's data (safe: its servers are held still for the snapshot).", aliases: ["backup"])
    @OptionGroup var common: CommonOptions
    @Flag(name: .customLong("live"), help: "Do not hold the servers still (a live backup).") var live = false
    @Flag(name: [.customShort("W"), .customLong("no-wait")]) var noWait = false
    func run() async throws {
        let client = try Session.client()
        let (path, env) = try await environmentPath(common, client)
        let reply = try await client.post(path + "/backup", .object(JSONObject([("safe", .bool(!live))])))
        let activity = reply["_embedded"]?["activities"]?.arrayValue?.first
        print("Backing up \(env) as \(Output.text(activity?["parameters"]?["backup_name"])).")
        try await followActivities(reply, client: client, wait: !noWait)
    }
}

struct BackupList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "backup:list", abstract: "List an environment's backups, newest first.", aliases: ["backups"])
    @OptionGroup var common: CommonOptions
    func run() async throws {
        let client = try Session.client()
        let (path, _) = try await environmentPath(common, client)
        let list = try await client.get(path + "/backups").arrayValue ?? []
        Output.print(["ID", "Created", "Safe", "Commit", "Size"],
                     list.map { [Output.text($0["id"]), Output.text($0["created_at"]), Output.text($0["safe"]), String(Output.text($0["commit_id"]).prefix(7)),
                                 Output.text($0["size_of_volumes"])] },
                     format: common.format, json: .array(list))
    }
}

struct BackupGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "backup:get", abstract: "Show one backup.")
    @OptionGroup var common: CommonOptions
    @Argument var id: String
    @Option(name: [.customShort("P"), .customLong("property")]) var property: String?
    func run() async throws {
        let client = try Session.client()
        let (path, _) = try await environmentPath(common, client)
        try Output.properties(try await client.get(path + "/backups/\(Session.segment(id))"), format: common.format, only: property)
    }
}

struct BackupRestore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "backup:restore", abstract: "Restore a backup into its environment, another one, or a new one.")
    @OptionGroup var common: CommonOptions
    @Argument var id: String
    @Option(name: .customLong("target"), help: "The environment to restore into (a new one is created when it does not exist).") var target: String?
    @Option(name: .customLong("branch-from"), help: "The parent of a new target environment.") var branchFrom: String?
    @Flag(name: .customLong("no-code"), help: "Restore the data only, keeping the code that runs now.") var noCode = false
    @Flag(name: [.customShort("W"), .customLong("no-wait")]) var noWait = false
    func run() async throws {
        let client = try Session.client()
        let (path, env) = try await environmentPath(common, client)
        var body = JSONObject([("restore_code", .bool(!noCode))])
        if let target { body["environment_name"] = .string(target) }
        if let branchFrom { body["branch_from"] = .string(branchFrom) }
        let reply = try await client.post(path + "/backups/\(Session.segment(id))/restore", .object(body))
        print("Restoring backup \(id) into \(target ?? env).")
        try await followActivities(reply, client: client, wait: !noWait)
    }
}

struct BackupDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "backup:delete", abstract: "Delete a backup.")
    @OptionGroup var common: CommonOptions
    @Argument var id: String
    @Flag(name: [.customShort("W"), .customLong("no-wait")], help: "Do not wait until its data is deleted.") var noWait = false
    func run() async throws {
        let client = try Session.client()
        let (path, _) = try await environmentPath(common, client)
        let reply = try await client.delete(path + "/backups/\(Session.segment(id))")
        print("Deleted backup \(id).")
        // The record is gone; its data goes with the activity.
        try await followActivities(reply, client: client, wait: !noWait)
    }
}
