import ArgumentParser
import Foundation
import GroveClient
import GroveModel

/// Output formats every listing command accepts.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, csv, plain
}

struct CommonOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "The project id (default: $GROVE_PROJECT, or your only project).")
    var project: String?

    @Option(name: [.short, .long], help: "The environment id (default: the project's default branch).")
    var environment: String?

    @Option(name: .long, help: "Output format: table, json, csv or plain.")
    var format: OutputFormat = .table
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// The API client built from `GROVE_API_URL`/`GROVE_TOKEN` or the saved credentials.
enum Session {
    static func client() throws -> APIClient {
        let env = ProcessInfo.processInfo.environment
        let saved = CredentialsFile.load()
        if let token = env["GROVE_TOKEN"], !token.isEmpty {
            let url = env["GROVE_API_URL"] ?? saved?.apiURL ?? "http://127.0.0.1:8000"
            return APIClient(baseURL: url, tokenSource: TokenSource(apiToken: token))
        }
        guard var creds = saved else {
            throw CLIError("Not logged in: run `grove auth:api-token-login` (or set GROVE_TOKEN and GROVE_API_URL).")
        }
        if let url = env["GROVE_API_URL"], !url.isEmpty { creds.apiURL = url }
        let snapshot = creds
        let source = TokenSource(apiToken: creds.apiToken, cachedAccessToken: creds.accessToken, expires: creds.expiresAt) { token, expires in
            var c = snapshot
            c.accessToken = token
            c.expiresAt = expires
            try? c.save()
        }
        return APIClient(baseURL: creds.apiURL, tokenSource: source)
    }

    static func projectId(_ opts: CommonOptions, _ client: APIClient) async throws -> String {
        if let p = opts.project ?? ProcessInfo.processInfo.environment["GROVE_PROJECT"], !p.isEmpty { return p }
        let list = try await client.get("/projects")["projects"]?.arrayValue ?? []
        if list.count == 1, let id = list[0]["id"]?.stringValue { return id }
        throw CLIError(list.isEmpty ? "You have no projects; create one with `grove project:create`." : "Several projects: choose one with -p/--project.")
    }

    static func project(_ opts: CommonOptions, _ client: APIClient) async throws -> JSON {
        try await client.get("/projects/\(try await projectId(opts, client))")
    }

    static func environmentId(_ opts: CommonOptions, project: JSON) -> String {
        opts.environment ?? project["default_branch"]?.stringValue ?? "main"
    }

    /// The `{organization_id}` path value for `--org` (an id, or a name sent as `name=<name>`), defaulting to the
    /// caller's first organization.
    static func organizationRef(_ org: String?, _ client: APIClient) async throws -> String {
        if let org { return org.count == 36 && org.contains("-") ? org : "name=" + org }
        guard let first = try await client.get("/organizations")["items"]?.arrayValue?.first?["id"]?.stringValue else {
            throw CLIError("You belong to no organization; create one with `grove organization:create`.")
        }
        return first
    }

    /// `info PROPERTY VALUE`: PATCHes one property through the object's `#edit` link and prints it back.
    /// `true`, `false` and `null` are sent as JSON values, anything else as a string.
    static func setProperty(_ object: JSON, _ property: String, _ value: String, what: String, client: APIClient, format: OutputFormat) async throws {
        guard let edit = object["_links"]?["#edit"]?["href"]?.stringValue else { throw CLIError("You may not edit \(what).") }
        let v: JSON = value == "true" ? true : value == "false" ? false : value == "null" ? .null : .string(value)
        let reply = try await client.patch(edit, .object(JSONObject([(property, v)])))
        try Output.properties(reply["_embedded"]?["entity"] ?? .null, format: format, only: property)
    }

    static func segment(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    /// Follows an activity's log to its seal, printing messages, then reports its result.
    static func wait(for activity: JSON, client: APIClient, quiet: Bool = false) async throws {
        guard let log = activity["_links"]?["log"]?["href"]?.stringValue, let me = activity["_links"]?["self"]?["href"]?.stringValue else { return }
        try await client.streamLines(log) { line in
            if !quiet, let m = line["data"]?["message"]?.stringValue { FileHandle.standardError.write(Data(m.utf8)) }
        }
        var final = try await client.get(me)
        var tries = 0
        while final["state"]?.stringValue != "complete" && final["state"]?.stringValue != "cancelled" && tries < 100 {
            try await Task.sleep(for: .milliseconds(200))
            final = try await client.get(me)
            tries += 1
        }
        if final["result"]?.stringValue != "success" {
            throw CLIError("Activity \(final["id"]?.stringValue ?? "") \(final["state"]?.stringValue ?? "") with result \(final["result"]?.stringValue ?? "unknown").")
        }
    }
}

/// Prints rows as an aligned table, CSV, tab-separated plain text, or JSON.
enum Output {
    static func print(_ headers: [String], _ rows: [[String]], format: OutputFormat, json: JSON) {
        switch format {
        case .json: Swift.print(json.serialized(pretty: true))
        case .csv:
            Swift.print(headers.map(csv).joined(separator: ","))
            for r in rows { Swift.print(r.map(csv).joined(separator: ",")) }
        case .plain:
            for r in rows { Swift.print(r.joined(separator: "\t")) }
        case .table:
            var widths = headers.map(\.count)
            for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
            func line(_ cells: [String]) -> String {
                "| " + cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: " | ") + " |"
            }
            let sep = "+" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "+") + "+"
            Swift.print(sep); Swift.print(line(headers)); Swift.print(sep)
            for r in rows { Swift.print(line(r)) }
            Swift.print(sep)
        }
    }

    /// Key/value view of one object (`info` commands).
    static func properties(_ obj: JSON, format: OutputFormat, only property: String? = nil) throws {
        if let property {
            guard let v = obj[property] else { throw CLIError("Property not found: \(property)") }
            Swift.print(v.stringValue ?? v.serialized())
            return
        }
        let pairs = (obj.objectValue ?? JSONObject()).filter { $0.key != "_links" }
        print(["Property", "Value"], pairs.map { [$0.key, $0.value.stringValue ?? $0.value.serialized()] }, format: format, json: obj)
    }

    static func csv(_ s: String) -> String {
        s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    static func text(_ j: JSON?) -> String {
        guard let j else { return "" }
        if j.isNull { return "" }
        return j.stringValue ?? j.serialized()
    }
}
