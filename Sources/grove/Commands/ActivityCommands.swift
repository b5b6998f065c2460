import ArgumentParser
import Foundation
import GroveClient
import GroveModel

/// Activities of the environment given with -e, or of the whole project with --all / no -e.
func activityCollection(_ common: CommonOptions, all: Bool, client: APIClient) async throws -> String {
    let pid = try await Session.projectId(common, client)
    if let env = common.environment, !all { return "/projects/\(pid)/environments/\(Session.segment(env))/activities" }
    return "/projects/\(pid)/activities"
}

struct ActivityList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "activity:list", abstract: "List activities, newest first.", aliases: ["activities", "act"])
    @OptionGroup var common: CommonOptions
    @Flag(name: [.short, .long], help: "All of the project's activities, not one environment's.") var all = false
    @Option(name: .customLong("type")) var types: [String] = []
    @Option(name: .customLong("state")) var states: [String] = []
    @Option var result: String?
    @Option var limit: Int = 10
    func run() async throws {
        let client = try Session.client()
        var q: [String] = ["count=\(limit)"]
        q += types.map { "type[]=\($0)" }
        q += states.map { "state[]=\($0)" }
        if let result { q.append("result=\(result)") }
        let list = try await client.get(try await activityCollection(common, all: all, client: client) + "?" + q.joined(separator: "&")).arrayValue ?? []
        Output.print(["ID", "Created", "Description", "Progress", "State", "Result", "Environments"],
                     list.map { [Output.text($0["id"]), Output.text($0["created_at"]), Output.text($0["text"]), "\(Output.text($0["completion_percent"]))%",
                                 Output.text($0["state"]), Output.text($0["result"]),
                                 ($0["environments"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ")] },
                     format: common.format, json: .array(list))
    }
}

func loadActivity(_ common: CommonOptions, _ id: String?, client: APIClient) async throws -> JSON {
    let pid = try await Session.projectId(common, client)
    if let id { return try await client.get("/projects/\(pid)/activities/\(Session.segment(id))") }
    guard let latest = try await client.get(try await activityCollection(common, all: false, client: client) + "?count=1").arrayValue?.first else {
        throw CLIError("No activities found.")
    }
    return latest
}

struct ActivityGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "activity:get", abstract: "Show an activity (default: the latest).")
    @OptionGroup var common: CommonOptions
    @Argument var id: String?
    @Option(name: [.customShort("P"), .long]) var property: String?
    func run() async throws {
        let client = try Session.client()
        let a = try await loadActivity(common, id, client: client).removingLog()
        try Output.properties(a, format: common.format, only: property)
    }
}

struct ActivityLog: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "activity:log", abstract: "Print an activity's log, following it while it runs.")
    @OptionGroup var common: CommonOptions
    @Argument var id: String?
    @Flag(name: .long) var timestamps = false
    func run() async throws {
        let client = try Session.client()
        let a = try await loadActivity(common, id, client: client)
        guard let log = a["_links"]?["log"]?["href"]?.stringValue else { print(Output.text(a["log"])); return }
        let stamps = timestamps
        try await client.streamLines(log) { line in
            guard let m = line["data"]?["message"]?.stringValue else { return }
            let text = stamps ? "[\(line["data"]?["timestamp"]?.stringValue ?? "")] " + m : m
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}

struct ActivityCancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "activity:cancel", abstract: "Cancel a pending or running activity.")
    @OptionGroup var common: CommonOptions
    @Argument var id: String
    func run() async throws {
        let client = try Session.client()
        let a = try await loadActivity(common, id, client: client)
        guard let href = a["_links"]?["#cancel"]?["href"]?.stringValue else {
            throw CLIError("Activity \(id) cannot be cancelled (state \(Output.text(a["state"]))).")
        }
        let reply = try await client.post(href)
        print("Cancellation of \(id) requested; state now \(Output.text(reply["state"])).")
    }
}

extension JSON {
    func removingLog() -> JSON {
        guard case .object(var o) = self else { return self }
        o["log"] = nil
        return .object(o)
    }
}
