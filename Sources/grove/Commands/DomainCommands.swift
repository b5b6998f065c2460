import ArgumentParser
import Foundation
import GroveClient
import GroveModel

/// Where domain commands read and write: the project's domains, or a preview environment's with `-e`.
func domainCollection(_ common: CommonOptions, _ client: APIClient) async throws -> String {
    let project = try await Session.project(common, client)
    let pid = Output.text(project["id"])
    guard let env = common.environment else { return "/projects/\(pid)/domains" }
    return "/projects/\(pid)/environments/\(Session.segment(env))/domains"
}

/// Prints and follows the activities a change started (a redeploy of the environment).
func followActivities(_ reply: JSON, client: APIClient, wait: Bool) async throws {
    for a in reply["_embedded"]?["activities"]?.arrayValue ?? [] where wait { try await Session.wait(for: a, client: client) }
}

struct DomainAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "domain:add", abstract: "Add a domain to the project, or with -e to a preview environment (--replace names the production domain it stands for).")
    @OptionGroup var common: CommonOptions
    @Argument var name: String
    @Option(name: .customLong("replace"), help: "The production domain this preview domain replaces.") var replace: String?
    @Flag(name: .customLong("default"), help: "Make it the project's default domain.") var makeDefault = false
    @Option(name: .customLong("cert"), help: "A PEM certificate file to add with it.") var cert: String?
    @Option(name: .customLong("key"), help: "The certificate's PEM private key file.") var key: String?
    @Option(name: .customLong("chain"), help: "A PEM chain file (repeatable).") var chain: [String] = []
    @Flag(name: [.customShort("W"), .customLong("no-wait")], help: "Do not wait for the redeploy.") var noWait = false
    func run() async throws {
        let client = try Session.client()
        if let cert {
            guard let key else { throw CLIError("--cert needs --key.") }
            try await addCertificate(common, client, cert: cert, key: key, chain: chain)
        }
        var body = JSONObject([("name", .string(name))])
        if let replace { body["replacement_for"] = .string(replace) }
        if makeDefault { body["is_default"] = true }
        let reply = try await client.post(try await domainCollection(common, client), .object(body))
        print("Added domain \(name).")
        try await followActivities(reply, client: client, wait: !noWait)
    }
}

struct DomainList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "domain:list", abstract: "List the project's domains, or a preview environment's with -e.", aliases: ["domains"])
    @OptionGroup var common: CommonOptions
    func run() async throws {
        let client = try Session.client()
        let list = try await client.get(try await domainCollection(common, client)).arrayValue ?? []
        Output.print(["Name", "Type", "Default", "Replaces"],
                     list.map { [Output.text($0["name"]), Output.text($0["type"]), Output.text($0["is_default"]), Output.text($0["replacement_for"])] },
                     format: common.format, json: .array(list))
    }
}

struct DomainDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "domain:delete", abstract: "Remove a domain.")
    @OptionGroup var common: CommonOptions
    @Argument var name: String
    @Flag(name: [.customShort("W"), .customLong("no-wait")]) var noWait = false
    func run() async throws {
        let client = try Session.client()
        let reply = try await client.delete(try await domainCollection(common, client) + "/" + Session.segment(name))
        print("Deleted domain \(name).")
        try await followActivities(reply, client: client, wait: !noWait)
    }
}

func addCertificate(_ common: CommonOptions, _ client: APIClient, cert: String, key: String, chain: [String]) async throws {
    func read(_ path: String) throws -> String {
        guard let s = try? String(contentsOfFile: path, encoding: .utf8) else { throw CLIError("Cannot read \(path).") }
        return s
    }
    let pid = try await Session.projectId(common, client)
    let body = JSONObject([("certificate", .string(try read(cert))), ("key", .string(try read(key))), ("chain", .array(try chain.map { .string(try read($0)) }))])
    let reply = try await client.post("/projects/\(pid)/certificates", .object(body))
    let entity = reply["_embedded"]?["entity"]
    print("Added certificate \(Output.text(entity?["id"]).prefix(12)) for \((entity?["domains"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ")).")
}

struct CertificateAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "certificate:add", abstract: "Add a TLS certificate; the router serves it for the https hosts it covers.")
    @OptionGroup var common: CommonOptions
    @Option(name: .customLong("cert"), help: "PEM certificate file.") var cert: String
    @Option(name: .customLong("key"), help: "PEM private key file.") var key: String
    @Option(name: .customLong("chain"), help: "PEM chain file (repeatable).") var chain: [String] = []
    func run() async throws {
        try await addCertificate(common, try Session.client(), cert: cert, key: key, chain: chain)
    }
}

struct CertificateList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "certificate:list", abstract: "List the project's TLS certificates.", aliases: ["certificates", "certs"])
    @OptionGroup var common: CommonOptions
    func run() async throws {
        let client = try Session.client()
        let pid = try await Session.projectId(common, client)
        let list = try await client.get("/projects/\(pid)/certificates").arrayValue ?? []
        Output.print(["ID", "Domains", "Expires", "Issuer"],
                     list.map { c in
                         [String(Output.text(c["id"]).prefix(12)), (c["domains"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", "),
                          Output.text(c["expires_at"]),
                          (c["issuer"]?.arrayValue ?? []).first { $0["alias"] == "commonName" }.map { Output.text($0["value"]) } ?? ""]
                     },
                     format: common.format, json: .array(list))
    }
}

struct CertificateDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "certificate:delete", abstract: "Remove a TLS certificate (by id or id prefix).")
    @OptionGroup var common: CommonOptions
    @Argument var id: String
    func run() async throws {
        let client = try Session.client()
        let pid = try await Session.projectId(common, client)
        let ids = (try await client.get("/projects/\(pid)/certificates").arrayValue ?? []).compactMap { $0["id"]?.stringValue }.filter { $0.hasPrefix(id) }
        guard ids.count == 1, let full = ids.first else { throw CLIError(ids.isEmpty ? "No certificate \(id)." : "\(id) matches several certificates.") }
        try await client.delete("/projects/\(pid)/certificates/\(full)")
        print("Deleted certificate \(full.prefix(12)).")
    }
}
