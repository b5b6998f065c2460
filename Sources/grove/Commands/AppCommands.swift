import ArgumentParser
import Foundation
import GroveClient
import GroveConfig
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

/// Checks the configuration files of a local tree as a push would, without a server: the same reader, limits and
/// messages (`file:line: key: message`), so mistakes are found before a commit.
struct AppConfigValidate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "app:config-validate",
                                                    abstract: "Validate the configuration files of a local project directory.",
                                                    aliases: ["validate"])
    @Option(name: [.customLong("dir")], help: "The project directory (default: the git work tree, or the current directory).") var dir: String?
    @Flag(name: [.customShort("q"), .customLong("quiet")], help: "Print errors only.") var quiet = false

    func run() async throws {
        let root = URL(fileURLWithPath: dir ?? Self.workTree() ?? FileManager.default.currentDirectoryPath)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIError("\(root.path) is not a directory.")
        }
        do {
            let config = try await ProjectConfig.load(from: DirectoryFiles(root))
            if !quiet {
                for w in config.warnings { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
                let apps = config.applications.map(\.name).joined(separator: ", ")
                print("The configuration is valid: \(config.applications.count) application(s) (\(apps)), \(config.services.count) service(s), \(config.routes.count) route(s).")
            }
        } catch let error as ConfigError {
            for issue in error.issues { FileHandle.standardError.write(Data("\(issue)\n".utf8)) }
            throw ExitCode(1)
        }
    }

    /// The top of the git work tree holding the current directory, if any.
    static func workTree() -> String? {
        var url = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).standardizedFileURL
        while true {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent(".git").path) { return url.path }
            let parent = url.deletingLastPathComponent()
            if parent.path == url.path { return nil }
            url = parent
        }
    }
}
