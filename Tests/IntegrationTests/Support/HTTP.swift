import Foundation
import GroveModel
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

struct HTTPResult: Sendable {
    let status: Int
    let headers: [String: String]
    let body: Data
    var json: JSON { (try? JSON.parse(Array(body))) ?? .null }
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// Raw HTTP against a test server, so tests see exact statuses and bodies.
struct HTTP: Sendable {
    let base: String
    var bearer: String?

    func request(_ method: String, _ path: String, json: JSON? = nil, raw: Data? = nil, contentType: String? = nil,
                 headers: [String: String] = [:]) async throws -> HTTPResult {
        let url = URL(string: path.hasPrefix("http") ? path : base + path)!
        var req = URLRequest(url: url)
        req.httpMethod = method
        req.timeoutInterval = 60
        if let bearer { req.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization") }
        if let json {
            req.httpBody = Data(json.serialized().utf8)
            req.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let raw { req.httpBody = raw }
        if let contentType { req.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        for (k, v) in headers { req.setValue(v, forHTTPHeaderField: k) }
        let (data, resp) = try await URLSession.shared.data(for: req)
        let http = resp as! HTTPURLResponse
        var h: [String: String] = [:]
        for (k, v) in http.allHeaderFields { h[String(describing: k).lowercased()] = String(describing: v) }
        return HTTPResult(status: http.statusCode, headers: h, body: data)
    }

    func get(_ p: String) async throws -> HTTPResult { try await request("GET", p) }
    func post(_ p: String, _ j: JSON = [:]) async throws -> HTTPResult { try await request("POST", p, json: j) }
    func patch(_ p: String, _ j: JSON) async throws -> HTTPResult { try await request("PATCH", p, json: j) }
    func delete(_ p: String) async throws -> HTTPResult { try await request("DELETE", p) }
}

extension TestServer {
    /// Exchanges an API token for an access token with the seed's form + Basic request.
    func login(token: String? = nil) async throws -> HTTP {
        let t = token ?? initialToken
        let r = try await HTTP(base: baseURL).request(
            "POST", "/oauth2/token", raw: Data("grant_type=api_token&api_token=\(t)".utf8),
            contentType: "application/x-www-form-urlencoded",
            headers: ["Authorization": "Basic " + Data("platform-api-user:".utf8).base64EncodedString()])
        guard r.status == 200, let access = r.json["access_token"]?.stringValue else { throw TestFailure("login failed: \(r.status) \(r.text)") }
        return HTTP(base: baseURL, bearer: access)
    }

    /// Creates a project through the organization's subscriptions and waits until it is active.
    func createProject(_ http: HTTP, title: String = "Test", defaultBranch: String = "main") async throws -> JSON {
        let orgs = try await http.get("/organizations")
        guard let org = orgs.json["items"]?.arrayValue?.first?["id"]?.stringValue else { throw TestFailure("no organization") }
        let sub = try await http.post("/organizations/\(org)/subscriptions", ["project_title": .string(title), "default_branch": .string(defaultBranch)])
        guard sub.status == 201, let pid = sub.json["project_id"]?.stringValue else { throw TestFailure("subscription failed: \(sub.text)") }
        try await waitFor { try await http.get("/organizations/\(org)/subscriptions/\(sub.json["id"]?.stringValue ?? "")").json["status"]?.stringValue == "active" }
        return try await http.get("/projects/\(pid)").json
    }
}

/// Polls until `condition` holds (60 s at most: CI machines run every suite at once on 2 cores, and a PostgreSQL-backed
/// server creating a project there has been seen to need more than 30 s).
/// The failure names the caller's line: a test holds several waits, and Swift Testing reports only the test's.
func waitFor(timeout: Double = 60, file: StaticString = #fileID, line: UInt = #line, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TestFailure("condition at \(file):\(line) not met within \(timeout) s")
}

/// Waits until an activity (by its self link) is complete or cancelled and returns it.
func waitForActivity(_ http: HTTP, _ activity: JSON) async throws -> JSON {
    guard let href = activity["_links"]?["self"]?["href"]?.stringValue else { throw TestFailure("activity without self link") }
    var last: JSON = .null
    try await waitFor {
        last = try await http.get(href).json
        let st = last["state"]?.stringValue
        return st == "complete" || st == "cancelled"
    }
    return last
}
