import Crypto
import Foundation
import GroveCredentials
import GroveModel

/// What a provider's delivery means to the project, whatever the provider.
struct SourceEvent: Sendable, Equatable {
    enum Kind: String, Sendable { case push, pullRequest = "pull_request", ping }
    enum PullAction: String, Sendable { case open, update, close }
    var kind: Kind
    /// Push: the branch and its new commit (nil when deleted).
    var branch: String?
    var commit: String?
    /// Pull requests: number, what happened, whether a draft, the branch it targets.
    var number: Int?
    var action: PullAction?
    var draft = false
    var base: String?
    /// Pull requests: the branch the changes come from (Bitbucket Cloud has no pull request refs).
    var head: String?

    var parameters: JSONObject {
        var o = JSONObject([("event", .string(kind.rawValue))])
        if let branch { o["branch"] = .string(branch) }
        if let commit { o["commit"] = .string(commit) }
        if let number { o["number"] = .int(Int64(number)) }
        if let action { o["action"] = .string(action.rawValue) }
        if kind == .pullRequest { o["draft"] = .bool(draft) }
        if let base { o["base"] = .string(base) }
        if let head { o["head"] = .string(head) }
        return o
    }

    init(kind: Kind, branch: String? = nil, commit: String? = nil, number: Int? = nil, action: PullAction? = nil, draft: Bool = false, base: String? = nil) {
        self.kind = kind; self.branch = branch; self.commit = commit; self.number = number; self.action = action; self.draft = draft; self.base = base
    }

    init?(parameters p: JSON) {
        guard let k = p["event"]?.stringValue.flatMap(Kind.init(rawValue:)) else { return nil }
        kind = k
        branch = p["branch"]?.stringValue
        commit = p["commit"]?.stringValue
        number = p["number"]?.intValue.map { Int($0) }
        action = p["action"]?.stringValue.flatMap(PullAction.init(rawValue:))
        draft = p["draft"]?.boolValue ?? false
        base = p["base"]?.stringValue
        head = p["head"]?.stringValue
    }
}

/// A delivery that is not genuine (or not readable), with the reason kept for the server log.
struct HookRefusal: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// How each provider signs its deliveries, shapes its payloads, names its clone URLs, takes commit statuses and
/// registers webhooks (GitHub REST v3, GitLab REST v4, Bitbucket Cloud 2.0, Bitbucket Server 1.0).
enum SourceProvider {
    static let zero = String(repeating: "0", count: 40)

    // MARK: deliveries

    /// Checks the delivery's signature (or token) with the hook secret and returns the provider's delivery id.
    static func verify(_ type: String, secret: String, headers: (String) -> String?, body: [UInt8]) throws -> String {
        func hmacHeader(_ name: String) throws {
            guard let header = headers(name), header.hasPrefix("sha256=") else { throw HookRefusal("no \(name) signature") }
            let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
            let expected = "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
            guard constantTimeEqual(expected, header.lowercased()) else { throw HookRefusal("\(name) does not match the body") }
        }
        let idHeader: String
        switch type {
        case "github":
            try hmacHeader("X-Hub-Signature-256")
            idHeader = "X-GitHub-Delivery"
        case "gitlab":
            guard let token = headers("X-Gitlab-Token"), constantTimeEqual(token, secret) else {
                throw HookRefusal("X-Gitlab-Token missing or wrong")
            }
            idHeader = headers("X-Gitlab-Event-UUID") != nil ? "X-Gitlab-Event-UUID" : "Idempotency-Key"
        case "bitbucket":
            try hmacHeader("X-Hub-Signature")
            idHeader = "X-Request-UUID"
        case "bitbucket_server":
            try hmacHeader("X-Hub-Signature")
            idHeader = "X-Request-Id"
        default:
            throw HookRefusal("\(type) integrations take no deliveries")
        }
        guard let id = headers(idHeader), !id.isEmpty, id.count <= 128 else { throw HookRefusal("no \(idHeader) delivery id") }
        return id
    }

    /// The event a (verified) delivery describes; nil for events the platform ignores.
    static func parse(_ type: String, headers: (String) -> String?, body: [UInt8]) throws -> SourceEvent? {
        guard let json = try? JSON.parse(body), case .object = json else { throw HookRefusal("the body is not a JSON object") }
        func branch(_ ref: String?) -> String? {
            guard let ref, ref.hasPrefix("refs/heads/") else { return nil }
            return String(ref.dropFirst(11))
        }
        func sha(_ s: String?) -> String? { s.flatMap { $0 == zero || $0.isEmpty ? nil : $0 } }
        switch type {
        case "github":
            switch headers("X-GitHub-Event") ?? "" {
            case "ping": return SourceEvent(kind: .ping)
            case "push":
                guard let b = branch(json["ref"]?.stringValue) else { return nil }
                return SourceEvent(kind: .push, branch: b, commit: json["deleted"]?.boolValue == true ? nil : sha(json["after"]?.stringValue))
            case "pull_request":
                let pr = json["pull_request"]
                guard let n = (json["number"] ?? pr?["number"])?.intValue else { throw HookRefusal("pull_request without a number") }
                let action: SourceEvent.PullAction?
                switch json["action"]?.stringValue ?? "" {
                case "opened", "reopened", "ready_for_review", "converted_to_draft": action = .open
                case "synchronize", "edited": action = .update
                case "closed": action = .close
                default: action = nil
                }
                guard let action else { return nil }
                return SourceEvent(kind: .pullRequest, commit: pr?["head"]?["sha"]?.stringValue, number: Int(n), action: action,
                                   draft: pr?["draft"]?.boolValue ?? false, base: pr?["base"]?["ref"]?.stringValue)
            default: return nil
            }
        case "gitlab":
            switch json["object_kind"]?.stringValue ?? "" {
            case "push":
                guard let b = branch(json["ref"]?.stringValue) else { return nil }
                return SourceEvent(kind: .push, branch: b, commit: sha(json["after"]?.stringValue))
            case "merge_request":
                let attrs = json["object_attributes"]
                guard let n = attrs?["iid"]?.intValue else { throw HookRefusal("merge_request without an iid") }
                let action: SourceEvent.PullAction?
                switch attrs?["action"]?.stringValue ?? "" {
                case "open", "reopen": action = .open
                case "update": action = .update
                case "close", "merge": action = .close
                default: action = nil
                }
                guard let action else { return nil }
                let draft = attrs?["draft"]?.boolValue ?? attrs?["work_in_progress"]?.boolValue ?? false
                return SourceEvent(kind: .pullRequest, commit: attrs?["last_commit"]?["id"]?.stringValue, number: Int(n), action: action,
                                   draft: draft, base: attrs?["target_branch"]?.stringValue)
            default: return nil
            }
        case "bitbucket":
            let key = headers("X-Event-Key") ?? ""
            if key == "repo:push" {
                // The first change names the branch; a deleted branch has no `new`.
                guard let change = json["push"]?["changes"]?.arrayValue?.first else { return nil }
                if let new = change["new"], !new.isNull {
                    guard new["type"]?.stringValue == "branch", let name = new["name"]?.stringValue else { return nil }
                    return SourceEvent(kind: .push, branch: name, commit: new["target"]?["hash"]?.stringValue)
                }
                guard let name = change["old"]?["name"]?.stringValue else { return nil }
                return SourceEvent(kind: .push, branch: name)
            }
            guard key.hasPrefix("pullrequest:"), let pr = json["pullrequest"], let n = pr["id"]?.intValue else { return nil }
            let action: SourceEvent.PullAction? = ["pullrequest:created": .open, "pullrequest:updated": .update,
                                                   "pullrequest:fulfilled": .close, "pullrequest:rejected": .close][key]
            guard let action else { return nil }
            var e = SourceEvent(kind: .pullRequest, commit: pr["source"]?["commit"]?["hash"]?.stringValue, number: Int(n), action: action,
                                base: pr["destination"]?["branch"]?["name"]?.stringValue)
            e.head = pr["source"]?["branch"]?["name"]?.stringValue
            return e
        case "bitbucket_server":
            let key = headers("X-Event-Key") ?? ""
            if key == "diagnostics:ping" { return SourceEvent(kind: .ping) }
            if key == "repo:refs_changed" {
                guard let change = json["changes"]?.arrayValue?.first, let b = branch(change["refId"]?.stringValue) else { return nil }
                return SourceEvent(kind: .push, branch: b, commit: change["type"]?.stringValue == "DELETE" ? nil : sha(change["toHash"]?.stringValue))
            }
            guard key.hasPrefix("pr:"), let pr = json["pullRequest"], let n = pr["id"]?.intValue else { return nil }
            let action: SourceEvent.PullAction? = ["pr:opened": .open, "pr:from_ref_updated": .update, "pr:modified": .update,
                                                   "pr:merged": .close, "pr:declined": .close, "pr:deleted": .close][key]
            guard let action else { return nil }
            return SourceEvent(kind: .pullRequest, commit: pr["fromRef"]?["latestCommit"]?.stringValue, number: Int(n), action: action,
                               draft: pr["draft"]?.boolValue ?? false, base: branch(pr["toRef"]?["id"]?.stringValue))
        default:
            return nil
        }
    }

    // MARK: the provider's side

    static func trimmed(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }

    /// Bitbucket Cloud has no per-integration URL: where its API and git are (`grove serve --bitbucket-api-url`, `--bitbucket-url`).
    struct Endpoints: Sendable {
        var bitbucketAPI = "https://api.bitbucket.org/2.0"
        var bitbucket = "https://bitbucket.org"
    }

    /// Where the provider's REST API is.
    static func apiBase(_ i: Integration, _ e: Endpoints = Endpoints()) -> String {
        switch i.type {
        case "github": return trimmed(i.string("base_url") ?? "https://api.github.com")
        case "gitlab": return trimmed(i.string("base_url") ?? "https://gitlab.com") + "/api/v4"
        case "bitbucket": return trimmed(e.bitbucketAPI)
        default: return trimmed(i.string("url") ?? "") + "/rest/api/1.0"
        }
    }

    /// The repository's smart-HTTP clone URL.
    static func cloneURL(_ i: Integration, _ e: Endpoints = Endpoints()) -> String {
        switch i.type {
        case "github":
            guard let base = i.string("base_url") else { return "https://github.com/\(i.string("repository") ?? "").git" }
            // GitHub Enterprise: https://host/api/v3 for the API, https://host/owner/repo.git for git.
            var web = trimmed(base)
            if web.hasSuffix("/api/v3") { web = String(web.dropLast(7)) }
            return "\(web)/\(i.string("repository") ?? "").git"
        case "gitlab": return trimmed(i.string("base_url") ?? "https://gitlab.com") + "/\(i.string("project") ?? "").git"
        case "bitbucket": return trimmed(e.bitbucket) + "/\(i.string("repository") ?? "").git"
        default: return trimmed(i.string("url") ?? "") + "/scm/\(i.string("project") ?? "")/\(i.string("repository") ?? "").git"
        }
    }

    /// The remote ref holding a pull request's code.
    static func pullRef(_ i: Integration, _ n: Int) -> String {
        switch i.type {
        case "github": return i.bool("build_pull_requests_post_merge") ? "refs/pull/\(n)/merge" : "refs/pull/\(n)/head"
        case "gitlab": return "refs/merge-requests/\(n)/head"
        case "bitbucket": return "refs/pull-requests/\(n)/from"
        default: return "refs/pull-requests/\(n)/from"
        }
    }

    /// The Authorization header value for git and the API.
    static func gitAuthorization(_ i: Integration, _ secrets: JSONObject) -> String? {
        func basic(_ user: String, _ password: String) -> String { "Basic " + Data("\(user):\(password)".utf8).base64EncodedString() }
        let token = secrets["token"]?.stringValue
        switch i.type {
        case "github": return token.map { basic("x-access-token", $0) }
        case "gitlab": return token.map { basic("oauth2", $0) }
        case "bitbucket_server": return token.map { basic(i.string("username") ?? "", $0) }
        default:
            guard let key = i.settings["app_credentials"]?["key"]?.stringValue, let secret = secrets["app_credentials"]?["secret"]?.stringValue else { return nil }
            return basic(key, secret)
        }
    }

    static func apiHeaders(_ i: Integration, _ secrets: JSONObject) -> [(String, String)] {
        var h: [(String, String)] = [("Content-Type", "application/json"), ("Accept", "application/json"), ("User-Agent", "Grove")]
        let token = secrets["token"]?.stringValue
        switch i.type {
        case "github": if let token { h.append(("Authorization", "Bearer " + token)) }
        case "gitlab": if let token { h.append(("PRIVATE-TOKEN", token)) }
        default: if let a = gitAuthorization(i, secrets) { h.append(("Authorization", a)) }
        }
        return h
    }

    /// How git and the API authenticate for this integration. Bitbucket Cloud first trades the OAuth consumer's key and
    /// secret for an access token (client credentials grant); the others use their stored token as is.
    static func credentials(_ i: Integration, _ secrets: JSONObject, endpoints: Endpoints, policy: OutboundPolicy) async throws
        -> (git: String?, api: [(String, String)]) {
        guard i.type == "bitbucket" else { return (gitAuthorization(i, secrets), apiHeaders(i, secrets)) }
        guard let basic = gitAuthorization(i, secrets) else { return (nil, apiHeaders(i, JSONObject())) }
        let r = try await OutboundHTTP.send(url: trimmed(endpoints.bitbucket) + "/site/oauth2/access_token",
                                            headers: [("Authorization", basic), ("Content-Type", "application/x-www-form-urlencoded")],
                                            body: Array("grant_type=client_credentials".utf8), policy: policy)
        guard r.ok, let token = (try? JSON.parse(r.body))?["access_token"]?.stringValue else {
            throw HookRefusal("Bitbucket refused the OAuth consumer's credentials (HTTP \(r.status))")
        }
        let git = "Basic " + Data("x-token-auth:\(token)".utf8).base64EncodedString()
        return (git, [("Content-Type", "application/json"), ("Accept", "application/json"), ("User-Agent", "Grove"), ("Authorization", "Bearer " + token)])
    }

    static func encodedProject(_ i: Integration) -> String {
        (i.string("project") ?? "").addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? ""
    }

    /// The request that sets a commit's status: `state` is pending, success or failure.
    static func statusRequest(_ i: Integration, commit: String, state: String, targetURL: String?, description: String,
                              endpoints: Endpoints = Endpoints()) -> (url: String, body: JSON)? {
        let base = apiBase(i, endpoints)
        switch i.type {
        case "github":
            var o = JSONObject([("state", .string(state)), ("description", .string(description)), ("context", "grove")])
            if let targetURL { o["target_url"] = .string(targetURL) }
            return ("\(base)/repos/\(i.string("repository") ?? "")/statuses/\(commit)", .object(o))
        case "gitlab":
            var o = JSONObject([("state", .string(state == "failure" ? "failed" : state == "pending" ? "running" : state)),
                                ("description", .string(description)), ("name", "grove")])
            if let targetURL { o["target_url"] = .string(targetURL) }
            return ("\(base)/projects/\(encodedProject(i))/statuses/\(commit)", .object(o))
        case "bitbucket":
            let o = JSONObject([("state", .string(state == "pending" ? "INPROGRESS" : state == "success" ? "SUCCESSFUL" : "FAILED")),
                                ("key", "grove"), ("description", .string(description)), ("url", .string(targetURL ?? ""))])
            return ("\(base)/repositories/\(i.string("repository") ?? "")/commit/\(commit)/statuses/build", .object(o))
        default:
            let o = JSONObject([("state", .string(state == "pending" ? "INPROGRESS" : state == "success" ? "SUCCESSFUL" : "FAILED")),
                                ("key", "grove"), ("description", .string(description)), ("url", .string(targetURL ?? ""))])
            return (trimmed(i.string("url") ?? "") + "/rest/build-status/1.0/commits/\(commit)", .object(o))
        }
    }

    /// The request that registers Grove's hook URL (with its secret) at the provider.
    static func hookRequest(_ i: Integration, hookURL: String, secret: String, endpoints: Endpoints = Endpoints()) -> (url: String, body: JSON) {
        let base = apiBase(i, endpoints)
        switch i.type {
        case "github":
            return ("\(base)/repos/\(i.string("repository") ?? "")/hooks",
                    ["name": "web", "active": true, "events": ["push", "pull_request"],
                     "config": ["url": .string(hookURL), "content_type": "json", "secret": .string(secret), "insecure_ssl": "0"]])
        case "gitlab":
            return ("\(base)/projects/\(encodedProject(i))/hooks",
                    ["url": .string(hookURL), "token": .string(secret), "push_events": true, "merge_requests_events": true,
                     "enable_ssl_verification": true])
        case "bitbucket":
            return ("\(base)/repositories/\(i.string("repository") ?? "")/hooks",
                    ["description": "Grove", "url": .string(hookURL), "active": true, "secret": .string(secret),
                     "events": ["repo:push", "pullrequest:created", "pullrequest:updated", "pullrequest:fulfilled", "pullrequest:rejected"]])
        default:
            return ("\(base)/projects/\(i.string("project") ?? "")/repos/\(i.string("repository") ?? "")/webhooks",
                    ["name": "Grove", "url": .string(hookURL), "active": true, "configuration": ["secret": .string(secret)],
                     "events": ["repo:refs_changed", "pr:opened", "pr:from_ref_updated", "pr:merged", "pr:declined", "pr:deleted"]])
        }
    }
}
