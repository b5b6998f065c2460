import ArgumentParser
import Foundation
import GroveAPI
import GroveStore
import Logging

/// Commands that act on the store directly (no server needed; safe while one runs).
struct AdminUserCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "admin:user-create", abstract: "Add a user straight to the store.")
    @Option var email: String
    @Option var username: String?
    @Option(help: "Password for the password grant (omit for API-token-only users).") var password: String?
    @Option(name: .customLong("data-dir")) var dataDir: String?
    @Option(name: .customLong("database-url")) var databaseURL: String?
    @Flag(help: "Also create an API token for the user and print it once.") var withToken = false

    func run() async throws {
        let dir = DataDir.resolve(dataDir)
        let store = try await StoreFactory.open(url: DataDir.databaseURL(databaseURL, dataDir: dir), logger: Logger(label: "grove.admin"))
        do {
            let user = try await Bootstrap.createUser(store: store, email: email, username: username, password: password)
            print("Created user \(user.email) (id \(user.id), username \(user.username)).")
            if withToken {
                let token = try await Bootstrap.createToken(store: store, userId: user.id, name: "admin:user-create")
                print("API token (shown once): \(token)")
            }
        } catch let e as BootstrapError {
            await store.close()
            throw CLIError(e.description)
        }
        await store.close()
    }
}

struct AdminGrant: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "admin:grant", abstract: "Grant a user roles on a project (admin, viewer, TYPE:ROLE).")
    @Option(name: [.short, .long]) var project: String
    @Option var email: String
    @Option(name: .customLong("permission"), help: "admin, viewer, or production|staging|development:admin|contributor|viewer; repeatable.")
    var permissions: [String] = []
    @Option(name: .customLong("data-dir")) var dataDir: String?
    @Option(name: .customLong("database-url")) var databaseURL: String?

    func run() async throws {
        let dir = DataDir.resolve(dataDir)
        let store = try await StoreFactory.open(url: DataDir.databaseURL(databaseURL, dataDir: dir), logger: Logger(label: "grove.admin"))
        do {
            let g = try await Bootstrap.grant(store: store, projectId: project, email: email, permissions: permissions)
            print("Granted \(g.permissions.joined(separator: ", ")) on \(project) to \(email).")
        } catch let e as BootstrapError {
            await store.close()
            throw CLIError(e.description)
        }
        await store.close()
    }
}

struct SystemInfo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "system:info", abstract: "How the server runs: store, sandbox, volume driver, cgroups, router.")
    @OptionGroup var common: CommonOptions
    func run() async throws {
        let client = try Session.client()
        try Output.properties(try await client.get("/grove/system"), format: common.format)
    }
}
