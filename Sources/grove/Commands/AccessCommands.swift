import ArgumentParser
import Foundation
import GroveClient
import GroveModel

/// Emails for user ids, through `/ref/users` (one request).
func userEmails(_ ids: [String], _ client: APIClient) async throws -> [String: String] {
    guard !ids.isEmpty else { return [:] }
    let refs = try await client.get("/ref/users?in=" + Array(Set(ids)).sorted().joined(separator: ","))
    var out: [String: String] = [:]
    for id in ids { if let e = refs[id]?["email"]?.stringValue { out[id] = e } }
    return out
}

/// The project's user-access entry for an email address.
func projectAccess(_ email: String, pid: String, _ client: APIClient) async throws -> JSON {
    let items = try await client.get("/projects/\(pid)/user-access")["items"]?.arrayValue ?? []
    let emails = try await userEmails(items.compactMap { $0["user_id"]?.stringValue }, client)
    guard let item = items.first(where: { emails[$0["user_id"]?.stringValue ?? ""]?.lowercased() == email.lowercased() }) else {
        throw CLIError("\(email) has no access to project \(pid); add it with `grove user:add \(email)`.")
    }
    return item
}

/// `-r admin`, `-r viewer`, `-r development:contributor`, or per-type shorthand `-r production:v`.
func permissions(_ roles: [String]) throws -> [String] {
    let short = ["a": "admin", "c": "contributor", "v": "viewer"]
    let expanded = roles.flatMap { $0.split(separator: ",").map(String.init) }.map { r -> String in
        let parts = r.split(separator: ":").map(String.init)
        guard parts.count == 2 else { return short[r] ?? r }
        return parts[0] + ":" + (short[parts[1]] ?? parts[1])
    }
    if case .failure(let e) = ProjectAccessLevel.parse(permissions: expanded) {
        throw CLIError("'\(e.permission)' is not a role: use admin, viewer or TYPE:ROLE (TYPE production, staging, development; ROLE admin, contributor, viewer).")
    }
    return expanded
}

struct UserList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "user:list", abstract: "List the project's users and their permissions.", aliases: ["users"])
    @OptionGroup var common: CommonOptions
    func run() async throws {
        let client = try Session.client()
        let pid = try await Session.projectId(common, client)
        let items = try await client.get("/projects/\(pid)/user-access")["items"]?.arrayValue ?? []
        let emails = try await userEmails(items.compactMap { $0["user_id"]?.stringValue }, client)
        Output.print(["Email", "ID", "Permissions", "Granted"],
                     items.map { [emails[Output.text($0["user_id"])] ?? "", Output.text($0["user_id"]),
                                  ($0["permissions"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", "), Output.text($0["granted_at"])] },
                     format: common.format, json: .array(items))
    }
}

struct UserAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "user:add", abstract: "Give someone access to the project by email: an existing user at once, anyone else by invitation.")
    @OptionGroup var common: CommonOptions
    @Argument var email: String
    @Option(name: [.customShort("r"), .customLong("role")], help: "admin, viewer, or TYPE:ROLE (repeatable; default viewer).") var roles: [String] = []
    @Flag(help: "Replace a pending invitation.") var force = false
    func run() async throws {
        let client = try Session.client()
        let pid = try await Session.projectId(common, client)
        let perms = try permissions(roles.isEmpty ? ["viewer"] : roles)
        var body = JSONObject([("email", .string(email)), ("permissions", JSON(perms))])
        if force { body["force"] = true }
        let inv = try await client.post("/projects/\(pid)/invitations", .object(body))
        if inv["state"]?.stringValue == "accepted" {
            print("Added \(email) to project \(pid) (\(perms.joined(separator: ", "))).")
        } else {
            print("Invited \(email) to project \(pid) (\(perms.joined(separator: ", "))); the invitation expires at \(Output.text(inv["expires_at"])).")
        }
    }
}

struct UserGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "user:get", abstract: "Show a user's permissions on the project.")
    @OptionGroup var common: CommonOptions
    @Argument var email: String
    func run() async throws {
        let client = try Session.client()
        let item = try await projectAccess(email, pid: try await Session.projectId(common, client), client)
        try Output.properties(item, format: common.format)
    }
}

struct UserUpdate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "user:update", abstract: "Set a user's permissions on the project.", aliases: ["user:role"])
    @OptionGroup var common: CommonOptions
    @Argument var email: String
    @Option(name: [.customShort("r"), .customLong("role")], help: "admin, viewer, or TYPE:ROLE (repeatable).") var roles: [String]
    func run() async throws {
        let client = try Session.client()
        let pid = try await Session.projectId(common, client)
        let item = try await projectAccess(email, pid: pid, client)
        let perms = try permissions(roles)
        _ = try await client.patch("/projects/\(pid)/user-access/\(Output.text(item["user_id"]))", .object(JSONObject([("permissions", JSON(perms))])))
        print("\(email) now has \(perms.joined(separator: ", ")) on project \(pid).")
    }
}

struct UserDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "user:delete", abstract: "Remove a user's access to the project.")
    @OptionGroup var common: CommonOptions
    @Argument var email: String
    func run() async throws {
        let client = try Session.client()
        let pid = try await Session.projectId(common, client)
        let item = try await projectAccess(email, pid: pid, client)
        _ = try await client.delete("/projects/\(pid)/user-access/\(Output.text(item["user_id"]))")
        print("Removed \(email) from project \(pid).")
    }
}

struct TeamCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "team:create", abstract: "Create a team in an organization with project permissions for the projects it gets.")
    @Option(name: [.short, .long]) var org: String?
    @Argument var label: String
    @Option(name: [.customShort("r"), .customLong("role")], help: "admin, viewer, or TYPE:ROLE (repeatable; default viewer).") var roles: [String] = []
    func run() async throws {
        let client = try Session.client()
        let ref = try await organizationId(org, client)
        let team = try await client.post("/teams", .object(JSONObject([("organization_id", .string(ref)), ("label", .string(label)),
                                                                       ("project_permissions", JSON(try permissions(roles.isEmpty ? ["viewer"] : roles)))])))
        print("Created team \(label) (\(Output.text(team["id"]))).")
    }
}

struct TeamList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "team:list", abstract: "List the teams of your organizations.", aliases: ["teams"])
    @Option(name: [.short, .long]) var org: String?
    @Option var format: OutputFormat = .table
    func run() async throws {
        let client = try Session.client()
        var path = "/teams"
        if let org { path += "?filter[organization_id]=" + (try await organizationId(org, client)) }
        let items = try await client.get(path)["items"]?.arrayValue ?? []
        Output.print(["ID", "Label", "Permissions", "Members", "Projects"],
                     items.map { [Output.text($0["id"]), Output.text($0["label"]), ($0["project_permissions"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", "),
                                  Output.text($0["counts"]?["member_count"]), Output.text($0["counts"]?["project_count"])] },
                     format: format, json: .array(items))
    }
}

/// An organization's id from `--org` (id or name), or your first organization's.
func organizationId(_ org: String?, _ client: APIClient) async throws -> String {
    let ref = try await Session.organizationRef(org, client)
    return ref.hasPrefix("name=") ? Output.text(try await client.get("/organizations/\(Session.segment(ref))")["id"]) : ref
}

/// A team by id or label.
func teamId(_ ref: String, _ client: APIClient) async throws -> String {
    let items = try await client.get("/teams")["items"]?.arrayValue ?? []
    guard let t = items.first(where: { $0["id"]?.stringValue == ref || $0["label"]?.stringValue == ref }), let id = t["id"]?.stringValue else {
        throw CLIError("No team \(ref); see `grove team:list`.")
    }
    return id
}

struct TeamUserAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "team:user:add", abstract: "Add a user (by email) to a team.")
    @Argument var team: String
    @Argument var email: String
    func run() async throws {
        let client = try Session.client()
        let tid = try await teamId(team, client)
        let user: JSON
        do { user = try await client.get("/users/email=\(email)") } catch let e as ClientError where e.status == 404 {
            throw CLIError("No user \(email) in your organizations; invite them with `grove organization:user:add \(email)`.")
        }
        _ = try await client.post("/teams/\(tid)/members", .object(JSONObject([("user_id", .string(Output.text(user["id"])))])))
        print("Added \(email) to team \(team).")
    }
}

struct TeamProjectAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "team:project:add", abstract: "Give a team access to a project (with the team's permissions).")
    @OptionGroup var common: CommonOptions
    @Argument var team: String
    func run() async throws {
        let client = try Session.client()
        let tid = try await teamId(team, client)
        let pid = try await Session.projectId(common, client)
        _ = try await client.post("/projects/\(pid)/team-access", .array([.object(JSONObject([("team_id", .string(tid))]))]))
        print("Team \(team) now has access to project \(pid).")
    }
}

struct OrganizationUserAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "organization:user:add", abstract: "Invite someone (by email) to an organization; an existing user joins at once.")
    @Option(name: [.short, .long]) var org: String?
    @Argument var email: String
    @Option(name: .customLong("permission"), help: "admin, billing, members, plans, projects:create, projects:list (repeatable).") var permissions: [String] = []
    @Flag(help: "Replace a pending invitation.") var force = false
    func run() async throws {
        let client = try Session.client()
        let ref = try await Session.organizationRef(org, client)
        var body = JSONObject([("email", .string(email)), ("permissions", JSON(permissions))])
        if force { body["force"] = true }
        let inv = try await client.post("/organizations/\(Session.segment(ref))/invitations", .object(body))
        print(inv["state"]?.stringValue == "accepted" ? "Added \(email) to the organization." : "Invited \(email) to the organization.")
    }
}

struct OrganizationUserList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "organization:user:list", abstract: "List an organization's members.", aliases: ["organization:users"])
    @Option(name: [.short, .long]) var org: String?
    @Option var format: OutputFormat = .table
    func run() async throws {
        let client = try Session.client()
        let ref = try await Session.organizationRef(org, client)
        let items = try await client.get("/organizations/\(Session.segment(ref))/members")["items"]?.arrayValue ?? []
        let emails = try await userEmails(items.compactMap { $0["user_id"]?.stringValue }, client)
        Output.print(["Email", "ID", "Owner", "Permissions"],
                     items.map { [emails[Output.text($0["user_id"])] ?? "", Output.text($0["user_id"]), Output.text($0["owner"]),
                                  ($0["permissions"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ")] },
                     format: format, json: .array(items))
    }
}

struct SSHKeyAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ssh-key:add", abstract: "Add an SSH public key to your account (default ~/.ssh/id_ed25519.pub).")
    @Argument var path: String?
    @Option var title: String?
    func run() async throws {
        let home = FileManager.default.homeDirectoryForCurrentUser.path
        let file = path ?? ["id_ed25519.pub", "id_ecdsa.pub", "id_rsa.pub"].map { home + "/.ssh/" + $0 }.first { FileManager.default.fileExists(atPath: $0) } ?? ""
        guard let value = try? String(contentsOfFile: file, encoding: .utf8) else { throw CLIError("Cannot read a public key at \(file.isEmpty ? "~/.ssh" : file).") }
        var body = JSONObject([("value", .string(value))])
        if let title { body["title"] = .string(title) }
        let key = try await Session.client().post("/ssh_keys", .object(body))
        print("Added SSH key \(Output.text(key["key_id"])) (\(Output.text(key["fingerprint"]))).")
    }
}

struct SSHKeyList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ssh-key:list", abstract: "List your SSH keys.", aliases: ["ssh-keys"])
    @Option var format: OutputFormat = .table
    func run() async throws {
        let keys = try await Session.client().get("/me")["ssh_keys"]?.arrayValue ?? []
        Output.print(["ID", "Title", "Fingerprint"], keys.map { [Output.text($0["key_id"]), Output.text($0["title"]), Output.text($0["fingerprint"])] },
                     format: format, json: .array(keys))
    }
}

struct SSHKeyDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ssh-key:delete", abstract: "Delete one of your SSH keys.")
    @Argument var id: String
    func run() async throws {
        _ = try await Session.client().delete("/ssh_keys/\(Session.segment(id))")
        print("Deleted SSH key \(id).")
    }
}

struct AuthMFA: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth:mfa",
        abstract: "Set up two-factor authentication (TOTP): shows a secret for your authenticator app, then confirms a code.")
    @Option(help: "Confirm this pending secret (from a previous run) ...") var secret: String?
    @Option(help: "... with the current code from your authenticator app.") var code: String?
    @Flag(help: "Withdraw two-factor authentication.") var disable = false
    @Flag(name: .customLong("new-recovery-codes"), help: "Replace your recovery codes.") var newCodes = false
    func run() async throws {
        let client = try Session.client()
        if disable {
            _ = try await client.delete("/users/me/totp")
            print("Two-factor authentication withdrawn.")
            return
        }
        if newCodes {
            printCodes(try await client.post("/users/me/codes"))
            return
        }
        var pending = secret
        if pending == nil {
            let e = try await client.get("/users/me/totp")
            pending = e["secret"]?.stringValue
            print("Add this secret to your authenticator app: \(Output.text(e["secret"]))")
            print("(or import \(Output.text(e["provisioning_uri"])))")
        }
        guard let pending else { throw CLIError("The server gave no secret.") }
        var passcode = code
        if passcode == nil {
            guard isatty(0) == 1 else {
                print("Confirm with: grove auth:mfa --secret \(pending) --code <current code>")
                return
            }
            Swift.print("Current code: ", terminator: "")
            passcode = readLine()
        }
        let reply = try await client.post("/users/me/totp", .object(JSONObject([("secret", .string(pending)), ("passcode", .string(passcode ?? ""))])))
        print("Two-factor authentication is on: password logins now need the current code (totp); API tokens keep working.")
        printCodes(reply)
    }

    func printCodes(_ reply: JSON) {
        print("Recovery codes (each works once; keep them safe):")
        for c in reply["recovery_codes"]?.arrayValue ?? [] { print("  " + Output.text(c)) }
    }
}
