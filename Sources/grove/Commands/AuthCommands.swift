import ArgumentParser
import Foundation
import GroveClient
import GroveModel

struct AuthAPITokenLogin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "auth:api-token-login", abstract: "Log in with an API token.")
    @Option(help: "The API token (default: read from standard input).") var token: String?
    @Option(name: .customLong("api-url"), help: "The server (default $GROVE_API_URL or http://127.0.0.1:8000).") var apiURL: String?

    func run() async throws {
        var secret = token
        if secret == nil {
            FileHandle.standardError.write(Data("API token: ".utf8))
            secret = readLine(strippingNewline: true)
        }
        guard let secret = secret?.trimmingCharacters(in: .whitespacesAndNewlines), !secret.isEmpty else { throw CLIError("No API token given.") }
        let url = apiURL ?? ProcessInfo.processInfo.environment["GROVE_API_URL"] ?? "http://127.0.0.1:8000"
        let client = APIClient(baseURL: url, tokenSource: TokenSource(apiToken: secret))
        let me: JSON
        do { me = try await client.get("/users/me") } catch let e as ClientError { throw CLIError("Login failed: \(e)") }
        var creds = CredentialsFile(apiURL: client.baseURL, apiToken: secret)
        creds.accessToken = await client.currentAccessToken()
        creds.expiresAt = Date().addingTimeInterval(800)
        try creds.save()
        print("Logged in as \(me["username"]?.stringValue ?? "?") (\(me["email"]?.stringValue ?? "?")) on \(client.baseURL).")
    }
}

extension APIClient {
    func currentAccessToken() async -> String? { await tokenSource.currentAccessToken }
}

struct AuthInfo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "auth:info", abstract: "Show the logged-in user.")
    @Argument var property: String?
    @Option var format: OutputFormat = .table
    func run() async throws {
        let me = try await Session.client().get("/users/me")
        try Output.properties(me, format: format, only: property)
    }
}

struct AuthLogout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "auth:logout", abstract: "Revoke the session and forget the saved credentials.")
    func run() async throws {
        if let creds = CredentialsFile.load() {
            let client = APIClient(baseURL: creds.apiURL, tokenSource: TokenSource(apiToken: creds.apiToken))
            if let access = creds.accessToken { await client.revoke(access) }
        }
        CredentialsFile.remove()
        print("Logged out.")
    }
}
