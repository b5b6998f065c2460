import ArgumentParser
import Foundation
import GroveClient
import GroveModel

struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log", abstract: "Read an environment's logs: app (default), access, error, deploy, post-deploy, cron, operation, source-operation, or <app>--<worker>.",
        aliases: ["logs"])
    @OptionGroup var common: CommonOptions
    @Argument(help: "The log to read; without it, the list of logs.") var type: String?
    @Option(name: [.customShort("A"), .customLong("app")], help: "The application whose app log to read (default: the only one).") var app: String?
    @Option(name: .customLong("lines"), help: "How many of the last lines to print.") var lines = 100
    @Flag(name: .customLong("tail"), help: "Keep printing new lines as they arrive (Ctrl-C stops).") var tail = false
    func run() async throws {
        let client = try Session.client()
        let (path, env) = try await environmentPath(common, client)
        let available = try await client.get(path + "/logs").arrayValue ?? []
        let names = available.compactMap { $0["name"]?.stringValue }
        guard let type else {
            Output.print(["Log", "Size", "Updated"], available.map { [Output.text($0["name"]), Output.text($0["size"]), Output.text($0["updated_at"])] },
                         format: common.format, json: .array(available))
            return
        }
        var name = type
        if type == "app" {
            if let app { name = app } else {
                let apps = try await client.get(path + "/deployments/current")["webapps"]?.objectValue?.map(\.key) ?? []
                guard apps.count == 1, let only = apps.first else {
                    throw CLIError(apps.isEmpty ? "Environment \(env) runs no application." : "Several applications run (\(apps.joined(separator: ", "))): pass --app.")
                }
                name = only
            }
        }
        guard names.contains(name) else { throw CLIError("No \(name) log on \(env) yet; logs: \(names.joined(separator: ", ")).") }
        var reply = try await client.get(path + "/logs/\(Session.segment(name))?lines=\(max(0, lines))")
        for l in reply["lines"]?.arrayValue ?? [] { print(Output.text(l)) }
        fflush(nil)
        guard tail else { return }
        var offset = reply["offset"]?.intValue ?? 0
        while !Task.isCancelled {
            try await Task.sleep(for: .seconds(1))
            reply = try await client.get(path + "/logs/\(Session.segment(name))?since=\(offset)")
            for l in reply["lines"]?.arrayValue ?? [] { print(Output.text(l)) }
            fflush(nil)
            offset = reply["offset"]?.intValue ?? offset
        }
    }
}
