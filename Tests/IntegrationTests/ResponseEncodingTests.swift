import Foundation
import GroveModel
import Testing

/// Answers served again from the response cache come gzip to clients that ask for it (curl here: it does not decode
/// unless told, so the test sees the bytes on the wire).
@Suite("Cached answers in gzip")
struct ResponseEncodingTests {
    struct Fetched {
        let headers: [String: String]
        let body: String
        var gzip: Bool { headers["content-encoding"] == "gzip" }
    }

    /// One GET with curl: headers lowercased, the body decoded with gzip(1) when it says it is gzip.
    static func fetch(_ url: String, token: String?, accept: String?) throws -> Fetched {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("enc-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var args = ["-sf", "-m", "20", "-D", dir + "/headers", "-o", dir + "/body"]
        if let token { args += ["-H", "Authorization: Bearer \(token)"] }
        if let accept { args += ["-H", "Accept-Encoding: \(accept)"] }
        let (status, out) = try Spawn.run("/usr/bin/curl", args + [url])
        guard status == 0 else { throw TestFailure("curl \(url): \(status) \(out)") }
        var headers: [String: String] = [:]
        let raw = String(decoding: FileManager.default.contents(atPath: dir + "/headers") ?? Data(), as: UTF8.self)
        for line in raw.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        if headers["content-encoding"] == "gzip" {
            let (st, plain) = try Spawn.run("/usr/bin/gzip", ["-dc", dir + "/body"])
            guard st == 0 else { throw TestFailure("not gzip: \(plain)") }
            return Fetched(headers: headers, body: plain)
        }
        return Fetched(headers: headers, body: String(decoding: FileManager.default.contents(atPath: dir + "/body") ?? Data(), as: UTF8.self))
    }

    /// Asks until an answer comes gzip (a background write can move the store's version between two requests, and the
    /// first answer of a version is always sent as rendered).
    static func untilGzip(_ url: String, token: String?, accept: String = "gzip") throws -> Fetched {
        for _ in 0..<30 {
            let f = try fetch(url, token: token, accept: accept)
            if f.gzip { return f }
        }
        throw TestFailure("\(url) never came gzip")
    }

    @Test("a repeated GET comes gzip when accepted, as it is otherwise, and follows writes", arguments: Backend.allCases)
    func cachedAnswersComeGzip(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let http = try await s.login()
        let token = try #require(http.bearer)
        let pid = try #require(try await s.createProject(http)["id"]?.stringValue)
        let list = s.baseURL + "/projects/\(pid)/environments"

        let zipped = try Self.untilGzip(list, token: token)
        #expect(zipped.headers["vary"] == "Accept-Encoding")
        #expect(zipped.headers["content-type"] == "application/json")
        let plain = try Self.fetch(list, token: token, accept: nil)
        #expect(!plain.gzip && plain.headers["vary"] == "Accept-Encoding")
        // The same document either way, and what the API client (which decodes on its own) reads.
        #expect(try JSON.parse(Array(zipped.body.utf8)) == JSON.parse(Array(plain.body.utf8)))
        #expect(try await http.get(list).json == JSON.parse(Array(plain.body.utf8)))
        // A refusal by quality, or only other codings, get the answer as it is.
        for accept in ["gzip;q=0", "br, deflate", "identity", "*;q=0"] {
            let f = try Self.fetch(list, token: token, accept: accept)
            #expect(!f.gzip, "\(accept)")
            #expect(f.body == plain.body)
        }
        // A write moves the version on: the next gzip answer carries the new title.
        #expect(try await http.patch("/projects/\(pid)/environments/main", ["title": "Renamed"]).status == 200)
        let after = try Self.untilGzip(list, token: token)
        #expect(after.body.contains("\"title\":\"Renamed\""))
        #expect(!after.body.contains("\"title\":\"Main\""))
        // Small answers are not worth compressing; errors and unauthenticated answers are never cached.
        let settings = s.baseURL + "/projects/\(pid)/environments/main/settings"
        for _ in 0..<3 { #expect(try !Self.fetch(settings, token: token, accept: "gzip").gzip) }
        let (status, out) = try Spawn.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code} %{content_type}", "-H", "Accept-Encoding: gzip", list])
        #expect(status == 0 && out.hasPrefix("401"), "\(out)")
    }
}
