import Crypto
import Foundation
@testable import GroveAPI
import GroveModel
import Testing

@Suite("Integration deliveries: outbound targets, provider signatures and payloads")
struct IntegrationDeliveryTests {
    @Test(arguments: [[127, 0, 0, 1], [10, 0, 0, 5], [172, 16, 0, 1], [172, 31, 255, 255], [192, 168, 0, 1], [169, 254, 169, 254],
                      [100, 64, 0, 1], [0, 0, 0, 0], [224, 0, 0, 1], [255, 255, 255, 255], [192, 0, 2, 1], [203, 0, 113, 9]] as [[UInt8]])
    func privateIPv4(_ a: [UInt8]) { #expect(OutboundPolicy.isPrivate(a)) }

    @Test(arguments: [[93, 184, 215, 14], [8, 8, 8, 8], [172, 32, 0, 1], [1, 1, 1, 1]] as [[UInt8]])
    func publicIPv4(_ a: [UInt8]) { #expect(!OutboundPolicy.isPrivate(a)) }

    @Test func ipv6() {
        func v6(_ prefix: [UInt8], _ tail: [UInt8] = []) -> [UInt8] { prefix + [UInt8](repeating: 0, count: 16 - prefix.count - tail.count) + tail }
        #expect(OutboundPolicy.isPrivate(v6([], [1])), "::1")
        #expect(OutboundPolicy.isPrivate(v6([0xFE, 0x80], [1])), "fe80::1")
        #expect(OutboundPolicy.isPrivate(v6([0xFD, 0x00], [1])), "fd00::1")
        #expect(OutboundPolicy.isPrivate(v6([], [0xFF, 0xFF, 127, 0, 0, 1])), "::ffff:127.0.0.1")
        #expect(!OutboundPolicy.isPrivate(v6([0x26, 0x06, 0x28, 0x00], [1])), "2606:2800::1")
    }

    @Test func urlsAreCheckedBeforeAnyRequest() throws {
        let strict = OutboundPolicy(allowPrivateTargets: false)
        #expect(throws: OutboundPolicy.Refusal.self) { try strict.check(url: "http://127.0.0.1:8000/") }
        #expect(throws: OutboundPolicy.Refusal.self) { try strict.check(url: "http://[::1]/") }
        #expect(throws: OutboundPolicy.Refusal.self) { try strict.check(url: "file:///etc/passwd") }
        #expect(throws: OutboundPolicy.Refusal.self) { try strict.check(url: "gopher://93.184.215.14/") }
        #expect(throws: OutboundPolicy.Refusal.self) { try strict.check(url: "http://u:p@93.184.215.14/") }
        _ = try strict.check(url: "https://93.184.215.14/hook")
        _ = try OutboundPolicy(allowPrivateTargets: true).check(url: "http://127.0.0.1:8000/")
    }

    @Test("pins: the name's checked addresses with the URL's port; none for a literal address; a private name is refused")
    func pins() throws {
        let open = OutboundPolicy(allowPrivateTargets: true)
        let pins = try open.pins(url: "http://localhost:8080/templates/site.git")
        #expect(pins.contains("localhost:8080:127.0.0.1"), "\(pins)")
        #expect(pins.allSatisfy { $0.hasPrefix("localhost:8080:") })
        #expect(try open.pins(url: "https://localhost/x.git").allSatisfy { $0.hasPrefix("localhost:443:") })
        #expect(try open.pins(url: "http://127.0.0.1:9/x.git").isEmpty)
        #expect(throws: OutboundPolicy.Refusal.self) { try OutboundPolicy(allowPrivateTargets: false).pins(url: "http://localhost:8080/x.git") }
    }

    func sign(_ key: String, _ body: [UInt8]) -> String {
        "sha256=" + HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(key.utf8))).map { String(format: "%02x", $0) }.joined()
    }

    @Test func githubSignaturesAndEvents() throws {
        let body = Array(#"{"ref":"refs/heads/main","after":"abc","deleted":false}"#.utf8)
        let good = ["X-Hub-Signature-256": sign("k", body), "X-GitHub-Delivery": "d1", "X-GitHub-Event": "push"]
        #expect(try SourceProvider.verify("github", secret: "k", headers: { good[$0] }, body: body) == "d1")
        #expect(throws: HookRefusal.self) { try SourceProvider.verify("github", secret: "other", headers: { good[$0] }, body: body) }
        #expect(throws: HookRefusal.self) { try SourceProvider.verify("github", secret: "k", headers: { good[$0] }, body: body + [0x20]) }
        let noId = good.filter { $0.key != "X-GitHub-Delivery" }
        #expect(throws: HookRefusal.self) { try SourceProvider.verify("github", secret: "k", headers: { noId[$0] }, body: body) }
        #expect(try SourceProvider.parse("github", headers: { good[$0] }, body: body) == SourceEvent(kind: .push, branch: "main", commit: "abc"))
        let tag = Array(#"{"ref":"refs/tags/v1","after":"abc"}"#.utf8)
        #expect(try SourceProvider.parse("github", headers: { good[$0] }, body: tag) == nil)
        let draft = Array(#"{"action":"synchronize","number":7,"pull_request":{"draft":true,"head":{"sha":"f00"},"base":{"ref":"main"}}}"#.utf8)
        let pr = try SourceProvider.parse("github", headers: { ["X-GitHub-Event": "pull_request"][$0] }, body: draft)
        #expect(pr == SourceEvent(kind: .pullRequest, commit: "f00", number: 7, action: .update, draft: true, base: "main"))
    }

    @Test func gitlabAndBitbucketDeliveries() throws {
        let mr = Array(#"{"object_kind":"merge_request","object_attributes":{"iid":4,"action":"merge","target_branch":"main","last_commit":{"id":"c1"}}}"#.utf8)
        let h = ["X-Gitlab-Token": "tok", "X-Gitlab-Event-UUID": "u1"]
        #expect(try SourceProvider.verify("gitlab", secret: "tok", headers: { h[$0] }, body: mr) == "u1")
        #expect(throws: HookRefusal.self) { try SourceProvider.verify("gitlab", secret: "tok2", headers: { h[$0] }, body: mr) }
        #expect(try SourceProvider.parse("gitlab", headers: { h[$0] }, body: mr)?.action == .close)
        let push = Array(#"{"changes":[{"refId":"refs/heads/dev","toHash":"0000000000000000000000000000000000000000","type":"DELETE"}]}"#.utf8)
        let bh = ["X-Hub-Signature": sign("s", push), "X-Request-Id": "r1", "X-Event-Key": "repo:refs_changed"]
        #expect(try SourceProvider.verify("bitbucket_server", secret: "s", headers: { bh[$0] }, body: push) == "r1")
        #expect(try SourceProvider.parse("bitbucket_server", headers: { bh[$0] }, body: push) == SourceEvent(kind: .push, branch: "dev", commit: nil))
        let cloud = Array(#"{"pullrequest":{"id":2,"source":{"branch":{"name":"feat"},"commit":{"hash":"h"}},"destination":{"branch":{"name":"main"}}}}"#.utf8)
        var e = try #require(try SourceProvider.parse("bitbucket", headers: { ["X-Event-Key": "pullrequest:created"][$0] }, body: cloud))
        #expect(e.head == "feat" && e.number == 2 && e.action == .open)
        e.head = nil
        #expect(throws: HookRefusal.self) { try SourceProvider.parse("github", headers: { _ in "push" }, body: Array("not json".utf8)) }
    }

    @Test func detachedJWSVerifies() {
        let body = Array(#"{"id":"a"}"#.utf8)
        let jws = WebhookRunner.detachedJWS(body, key: "secret")
        let parts = jws.components(separatedBy: ".")
        #expect(parts.count == 3 && parts[1].isEmpty)
        let mac = HMAC<SHA256>.authenticationCode(for: Array((parts[0] + ".").utf8) + body, using: SymmetricKey(data: Data("secret".utf8)))
        #expect(parts[2] == WebhookRunner.base64url(Array(mac)))
    }

    @Test func syslogFrames() {
        let at = Date(timeIntervalSince1970: 1_700_000_000)
        let r = LogRecord(timestamp: at, message: "hello", project: "p1", environment: "main", source: "app")
        let f = LogFormats.syslog(r, format: "rfc5424", facility: 16, token: "TOK", authMode: "structured_data", extra: JSONObject([("k", .string("a\"b]"))]))
        #expect(f == #"<134>1 2023-11-14T22:13:20.000Z main-p1 app - - [TOK@41058][grove@32473 project="p1" environment="main" k="a\"b\]"] hello"#, "\(f)")
        let old = LogFormats.syslog(r, format: "rfc3164", facility: 1, token: "TOK", authMode: "prefix", extra: JSONObject())
        #expect(old == "<14>Nov 14 22:13:20 main-p1 app: TOK hello", "\(old)")
        var e = r
        e.source = "error"
        #expect(LogFormats.syslog(e, format: "rfc3164", facility: 1, token: nil, authMode: "prefix", extra: JSONObject()).hasPrefix("<11>"))
        #expect(LogFormats.field("a b\u{7}c", max: 10) == "abc" && LogFormats.field("", max: 3) == "-")
    }

    @Test func logFilesAreReadInWholeLines() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lf-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "one\ntwo\r\nthr".write(toFile: path, atomically: true, encoding: .utf8)
        let (lines, consumed) = try #require(LogForwarder.read(path, from: 0, limit: 1024))
        #expect(lines == ["one", "two"] && consumed == 9)
        #expect(LogForwarder.read(path, from: 9, limit: 1024) == nil, "a partial line waits for its end")
        let (cut, n) = try #require(LogForwarder.read(path, from: 0, limit: 2))
        #expect(cut == ["on"] && n == 2, "a line longer than a batch is cut, not stuck")
    }
}
