import ArgumentParser
import Foundation
import GroveClient
import GroveModel

/// The type-specific settings of `integration:add` and `integration:update`, named as the Platform.sh CLI names them;
/// each becomes the field of the integration's type it stands for (`IntegrationSpec`).
struct IntegrationFieldOptions: ParsableArguments {
    @Option(help: "The provider's access token (github, gitlab, bitbucket_server, health.slack, splunk).") var token: String?
    @Option(help: "The repository: owner/name (github, bitbucket), or the repository slug (bitbucket_server).") var repository: String?
    @Option(name: .customLong("server-project"), help: "The GitLab project (group/name) or the Bitbucket Server project key.") var serverProject: String?
    @Option(name: .customLong("base-url"), help: "The provider's API URL (GitHub Enterprise, self-hosted GitLab).") var baseURL: String?
    @Option(help: "The target URL (webhook, health.webhook, log sinks, bitbucket_server).") var url: String?
    @Option(help: "The Bitbucket Server user name.") var username: String?
    @Option(name: .customLong("key"), help: "The Bitbucket OAuth consumer key.") var consumerKey: String?
    @Option(name: .customLong("secret"), help: "The Bitbucket OAuth consumer secret.") var consumerSecret: String?
    @Option(name: .customLong("fetch-branches")) var fetchBranches: Bool?
    @Option(name: .customLong("prune-branches")) var pruneBranches: Bool?
    @Option(name: .customLong("build-pull-requests")) var buildPullRequests: Bool?
    @Option(name: .customLong("build-draft-pull-requests")) var buildDraftPullRequests: Bool?
    @Option(name: .customLong("build-pull-requests-post-merge")) var buildPostMerge: Bool?
    @Option(name: .customLong("pull-requests-clone-parent-data")) var cloneParentData: Bool?
    @Option(name: .customLong("build-merge-requests")) var buildMergeRequests: Bool?
    @Option(name: .customLong("build-wip-merge-requests")) var buildWIPMergeRequests: Bool?
    @Option(name: .customLong("merge-requests-clone-parent-data")) var mergeRequestsCloneParentData: Bool?
    @Option(name: .customLong("resync-pull-requests")) var resyncPullRequests: Bool?
    @Option(name: .customLong("environment-init-resources")) var environmentInitResources: String?
    @Option(help: "Activity types to send, comma-separated (* wildcards).") var events: String?
    @Option(help: "Activity states to send: pending, in_progress, complete.") var states: String?
    @Option(help: "Environments to include (* wildcards).") var environments: String?
    @Option(name: .customLong("excluded-environments"), help: "Environments to leave out.") var excludedEnvironments: String?
    @Option(help: "Only activities with this result: success, failure or *.") var result: String?
    @Option(name: .customLong("shared-key"), help: "The webhook's signing key (X-JWS-Signature).") var sharedKey: String?
    @Option(help: "An activity script's JavaScript file.") var file: String?
    @Option(name: .customLong("from-address")) var fromAddress: String?
    @Option(help: "Mail recipients, comma-separated (#admins: the project's admins).") var recipients: String?
    @Option(help: "The Slack channel.") var channel: String?
    @Option(name: .customLong("routing-key"), help: "The PagerDuty Events v2 routing key.") var routingKey: String?
    @Option var category: String?
    @Option var index: String?
    @Option var sourcetype: String?
    @Option(help: "syslog transport: udp, tcp or tls.") var `protocol`: String?
    @Option(name: .customLong("syslog-host")) var syslogHost: String?
    @Option(name: .customLong("syslog-port")) var syslogPort: Int?
    @Option var facility: Int?
    @Option(name: .customLong("message-format"), help: "rfc5424 or rfc3164.") var messageFormat: String?
    @Option(name: .customLong("auth-mode")) var authMode: String?
    @Option(name: .customLong("auth-token")) var authToken: String?
    @Option(name: .customLong("header"), help: "An HTTP header for log sinks, \"Name: value\" (repeatable).") var headers: [String] = []
    @Option(name: .customLong("tls-verify")) var tlsVerify: Bool?
    @Option(name: .customLong("excluded-services"), help: "Services whose logs are not forwarded, comma-separated.") var excludedServices: String?
    @Option(name: .customLong("license-key")) var licenseKey: String?

    /// The body fields these options set.
    func body() throws -> JSONObject {
        var o = JSONObject()
        func list(_ s: String?) -> JSON? { s.map { JSON($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }) } }
        let strings: [(String, String?)] = [("token", token), ("repository", repository), ("project", serverProject), ("base_url", baseURL), ("url", url),
                                            ("username", username), ("environment_init_resources", environmentInitResources), ("result", result),
                                            ("shared_key", sharedKey), ("from_address", fromAddress), ("channel", channel), ("routing_key", routingKey),
                                            ("category", category), ("index", index), ("sourcetype", sourcetype), ("protocol", `protocol`),
                                            ("host", syslogHost), ("message_format", messageFormat), ("auth_mode", authMode), ("auth_token", authToken),
                                            ("license_key", licenseKey)]
        for (k, v) in strings { if let v { o[k] = .string(v) } }
        let bools: [(String, Bool?)] = [("fetch_branches", fetchBranches), ("prune_branches", pruneBranches), ("build_pull_requests", buildPullRequests),
                                        ("build_draft_pull_requests", buildDraftPullRequests), ("build_pull_requests_post_merge", buildPostMerge),
                                        ("pull_requests_clone_parent_data", cloneParentData), ("build_merge_requests", buildMergeRequests),
                                        ("build_wip_merge_requests", buildWIPMergeRequests), ("merge_requests_clone_parent_data", mergeRequestsCloneParentData),
                                        ("resync_pull_requests", resyncPullRequests), ("tls_verify", tlsVerify)]
        for (k, v) in bools { if let v { o[k] = .bool(v) } }
        let lists: [(String, String?)] = [("events", events), ("states", states), ("environments", environments),
                                          ("excluded_environments", excludedEnvironments), ("recipients", recipients), ("excluded_services", excludedServices)]
        for (k, v) in lists { if let j = list(v) { o[k] = j } }
        if let syslogPort { o["port"] = .int(Int64(syslogPort)) }
        if let facility { o["facility"] = .int(Int64(facility)) }
        if consumerKey != nil || consumerSecret != nil {
            var c = JSONObject()
            if let consumerKey { c["key"] = .string(consumerKey) }
            if let consumerSecret { c["secret"] = .string(consumerSecret) }
            o["app_credentials"] = .object(c)
        }
        if !headers.isEmpty {
            var h = JSONObject()
            for line in headers {
                guard let colon = line.firstIndex(of: ":") else { throw CLIError("--header must look like \"Name: value\", not \(line)") }
                h[String(line[..<colon]).trimmingCharacters(in: .whitespaces)] = .string(String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
            }
            o["headers"] = .object(h)
        }
        if let file {
            guard let script = try? String(contentsOfFile: file, encoding: .utf8) else { throw CLIError("Cannot read \(file).") }
            o["script"] = .string(script)
        }
        return o
    }
}

/// One line about what an integration is connected to, for listings.
func integrationSummary(_ i: JSON) -> String {
    switch Output.text(i["type"]) {
    case "github", "bitbucket": return "Repository: \(Output.text(i["repository"]))"
    case "gitlab": return "Project: \(Output.text(i["project"]))"
    case "bitbucket_server": return "\(Output.text(i["project"]))/\(Output.text(i["repository"])) on \(Output.text(i["url"]))"
    case "health.email": return "To: \((i["recipients"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", "))"
    case "health.slack": return "Channel: \(Output.text(i["channel"]))"
    case "health.pagerduty": return "PagerDuty"
    case "syslog": return "\(Output.text(i["protocol"]))://\(Output.text(i["host"])):\(Output.text(i["port"]))"
    case "script": return "Events: \((i["events"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", "))"
    default: return "URL: \(Output.text(i["url"]))"
    }
}

func integrationPath(_ common: CommonOptions, _ client: APIClient, _ id: String? = nil) async throws -> String {
    let pid = try await Session.projectId(common, client)
    return "/projects/\(pid)/integrations" + (id.map { "/" + Session.segment($0) } ?? "")
}

struct IntegrationList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "integration:list", abstract: "List the project's integrations.", aliases: ["integrations"])
    @OptionGroup var common: CommonOptions
    func run() async throws {
        let client = try Session.client()
        let list = try await client.get(try await integrationPath(common, client)).arrayValue ?? []
        Output.print(["ID", "Type", "Summary"], list.map { [Output.text($0["id"]), Output.text($0["type"]), integrationSummary($0)] },
                     format: common.format, json: .array(list))
    }
}

struct IntegrationAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "integration:add", abstract: "Add an integration: a source repository, a webhook, an activity script, a health channel or a log sink.")
    @OptionGroup var common: CommonOptions
    @Option(name: .customLong("type"), help: "The integration type (github, gitlab, bitbucket, bitbucket_server, webhook, script, health.email, health.webhook, health.slack, health.pagerduty, syslog, httplog, splunk, sumologic, newrelic, otlplog).")
    var type: String
    @OptionGroup var fields: IntegrationFieldOptions
    @Flag(name: [.customShort("W"), .customLong("no-wait")], help: "Do not wait for the integration's first activities.") var noWait = false
    func run() async throws {
        let client = try Session.client()
        var body = try fields.body()
        body["type"] = .string(type)
        let reply = try await client.post(try await integrationPath(common, client), .object(body))
        let entity = reply["_embedded"]?["entity"] ?? .null
        print("Added the \(type) integration \(Output.text(entity["id"])).")
        if let hook = entity["_links"]?["#hook"]?["href"]?.stringValue {
            print("Its hook URL (registered with the provider when the token allows): \(hook)")
        }
        try await followActivities(reply, client: client, wait: !noWait)
    }
}

struct IntegrationGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "integration:get", abstract: "Show an integration's settings (secrets are never shown).")
    @OptionGroup var common: CommonOptions
    @Argument var id: String
    @Option(name: [.customShort("P"), .customLong("property")], help: "Print only this property.") var property: String?
    func run() async throws {
        let client = try Session.client()
        try Output.properties(try await client.get(try await integrationPath(common, client, id)), format: common.format, only: property)
    }
}

struct IntegrationUpdate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "integration:update", abstract: "Change an integration's settings; options not given keep their values.")
    @OptionGroup var common: CommonOptions
    @Argument var id: String
    @OptionGroup var fields: IntegrationFieldOptions
    func run() async throws {
        let client = try Session.client()
        let body = try fields.body()
        guard !body.isEmpty else { throw CLIError("Nothing to change: give at least one setting.") }
        let reply = try await client.patch(try await integrationPath(common, client, id), .object(body))
        print("Updated the integration \(id): \(body.keys.sorted().joined(separator: ", ")).")
        try await followActivities(reply, client: client, wait: false)
    }
}

struct IntegrationDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "integration:delete", abstract: "Remove an integration (environments it made stay).")
    @OptionGroup var common: CommonOptions
    @Argument var id: String
    func run() async throws {
        let client = try Session.client()
        _ = try await client.delete(try await integrationPath(common, client, id))
        print("Deleted the integration \(id).")
    }
}

struct IntegrationActivityList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "integration:activity:list", abstract: "List an integration's activities (its changes and deliveries), newest first.",
                                                    aliases: ["integration:activities"])
    @OptionGroup var common: CommonOptions
    @Argument var id: String
    @Option(name: .customLong("type")) var types: [String] = []
    @Option var limit: Int = 10
    func run() async throws {
        let client = try Session.client()
        let pid = try await Session.projectId(common, client)
        var q = ["integration=\(Session.segment(id))", "count=\(limit)"]
        q += types.map { "type[]=\($0)" }
        let list = try await client.get("/projects/\(pid)/activities?" + q.joined(separator: "&")).arrayValue ?? []
        Output.print(["ID", "Created", "Type", "Description", "State", "Result"],
                     list.map { [Output.text($0["id"]), Output.text($0["created_at"]), Output.text($0["type"]), Output.text($0["text"]),
                                 Output.text($0["state"]), Output.text($0["result"])] },
                     format: common.format, json: .array(list))
    }
}
