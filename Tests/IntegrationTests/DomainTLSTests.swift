import Foundation
import GroveModel
import Testing

@Suite("Domains, certificates and https through the router")
struct DomainTLSTests {
    static let app = """
    name: app
    type: python:3.11
    web:
      commands:
        start: python3 -m http.server $PORT --bind 127.0.0.1
    """

    /// A self-signed certificate and key made by openssl (the oracle), as PEM text.
    func openssl(cn: String, names: [String]) throws -> (cert: String, key: String) {
        let dir = NSTemporaryDirectory() + "grove-cert-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (st, out) = try Spawn.run("/usr/bin/openssl", ["req", "-x509", "-nodes", "-newkey", "rsa:2048", "-days", "30", "-subj", "/CN=\(cn)",
                                                           "-addext", "subjectAltName=" + names.map { "DNS:\($0)" }.joined(separator: ","),
                                                           "-keyout", dir + "/k.pem", "-out", dir + "/c.pem"])
        #expect(st == 0, "\(out)")
        return (try String(contentsOfFile: dir + "/c.pem", encoding: .utf8), try String(contentsOfFile: dir + "/k.pem", encoding: .utf8))
    }

    /// The subject of the certificate the router presents for `host` (SNI).
    func servedSubject(_ s: TestServer, host: String) throws -> String {
        let (_, out) = try Spawn.run("/bin/sh", ["-c", "openssl s_client -connect 127.0.0.1:\(s.routerTLSPort) -servername \(host) </dev/null 2>/dev/null | openssl x509 -noout -subject"])
        return out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("https routes on the TLS port, project and preview domains, user certificates; bad input refused", arguments: [Backend.sqlite])
    func domainsAndCertificates(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let (http, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit([".platform.app.yaml": Self.app, "index.html": "up\n"])
        var (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        // https with the generated self-signed certificate; plain http is redirected there.
        var (code, body) = try s.fetch(host: "main-\(pid).localhost", scheme: "https")
        #expect(code == 200 && body.contains("up"), "\(code): \(body)")
        #expect(try servedSubject(s, host: "main-\(pid).localhost").contains("O = Grove"))
        (code, body) = try s.fetch(pid)
        #expect(code == 200 && body.contains("up"), "\(body)")

        // A project domain redeploys production, which then answers on it and names it in its routes.
        var r = try await http.post("/projects/\(pid)/domains", ["name": "Example.COM"])
        #expect(r.status == 201, "\(r.text)")
        #expect(r.json["_embedded"]?["entity"]?["name"] == "example.com" && r.json["_embedded"]?["entity"]?["is_default"] == true)
        #expect(r.json["_embedded"]?["entity"]?["type"] == "prod")
        var a = try await waitForActivity(http, try #require(r.json["_embedded"]?["activities"]?.arrayValue?.first))
        #expect(a["result"] == "success" && a["type"] == "environment.domain.create", "\(a)")
        (code, body) = try s.fetch(host: "example.com", scheme: "https")
        #expect(code == 200 && body.contains("up"), "\(body)")
        let current = try await http.get("/projects/\(pid)/environments/main/deployments/current").json
        #expect(current["routes"]?["https://example.com:\(s.routerTLSPort)/"]?["primary"] == true, "\(current["routes"] ?? .null)")
        #expect(try await http.get("/projects/\(pid)").json["default_domain"] == "example.com")

        // A certificate for it is served for that host only.
        let (cert, key) = try openssl(cn: "example.com", names: ["example.com", "www.example.com"])
        r = try await http.post("/projects/\(pid)/certificates", ["certificate": .string(cert), "key": .string(key)])
        #expect(r.status == 201, "\(r.text)")
        let certId = try #require(r.json["_embedded"]?["entity"]?["id"]?.stringValue)
        #expect(r.json["_embedded"]?["entity"]?["domains"] == ["example.com", "www.example.com"])
        #expect(r.json["_embedded"]?["entity"]?["key"] == nil)
        #expect(try servedSubject(s, host: "example.com").contains("CN = example.com"))
        #expect(try servedSubject(s, host: "main-\(pid).localhost").contains("O = Grove"))
        let listed = try await http.get("/projects/\(pid)/certificates").json.arrayValue ?? []
        #expect(listed.count == 1 && listed.first?["issuer"]?.arrayValue?.contains { $0["alias"] == "commonName" && $0["value"] == "example.com" } == true)

        // Bad input changes nothing.
        let other = try openssl(cn: "other.example", names: ["other.example"])
        r = try await http.post("/projects/\(pid)/certificates", ["certificate": .string(cert), "key": .string(other.key)])
        #expect(r.status == 400 && r.json["detail"]?["key"] == "does not match the certificate's public key", "\(r.text)")
        r = try await http.post("/projects/\(pid)/certificates", ["certificate": .string(cert), "key": .string(key)])
        #expect(r.status == 409)
        r = try await http.post("/projects/\(pid)/domains", ["name": "bad_domain"])
        #expect(r.status == 400 && r.json["detail"]?["name"] != nil, "\(r.text)")
        r = try await http.post("/projects/\(pid)/domains", ["name": "example.com"])
        #expect(r.status == 409)
        r = try await http.post("/projects/\(pid)/domains", ["name": "shop.localhost"])
        #expect(r.status == 400)
        #expect(try await http.get("/projects/\(pid)/domains").json.arrayValue?.count == 1)

        // A preview environment's domain must replace a production one, and then serves it.
        (st, out) = try tree.push(["-o", "environment.status=active", "HEAD:refs/heads/dev"])
        #expect(st == 0, "\(out)")
        r = try await http.post("/projects/\(pid)/environments/dev/domains", ["name": "dev.example.com"])
        #expect(r.status == 400 && r.json["detail"]?["replacement_for"] != nil, "\(r.text)")
        r = try await http.post("/projects/\(pid)/environments/dev/domains", ["name": "dev.example.com", "replacement_for": "example.com"])
        #expect(r.status == 201, "\(r.text)")
        a = try await waitForActivity(http, try #require(r.json["_embedded"]?["activities"]?.arrayValue?.first))
        #expect(a["result"] == "success", "\(a)")
        (code, body) = try s.fetch(host: "dev.example.com", scheme: "https")
        #expect(code == 200 && body.contains("up"), "\(body)")
        #expect(try await http.get("/projects/\(pid)/environments/dev/domains/dev.example.com").json["replacement_for"] == "example.com")
        // The replaced production domain cannot go while the replacement exists.
        r = try await http.delete("/projects/\(pid)/domains/example.com")
        #expect(r.status == 400, "\(r.text)")

        // CLI: lists and removals.
        let env = ["GROVE_API_URL": s.baseURL, "GROVE_TOKEN": s.initialToken, "GROVE_CONFIG_DIR": s.dataDir + "-cli"]
        var (cs, co) = try CLI.run(["domain:list", "-p", pid, "--format", "csv"], env: env)
        #expect(cs == 0 && co.contains("example.com,prod,true"), "\(co)")
        (cs, co) = try CLI.run(["certificate:list", "-p", pid, "--format", "csv"], env: env)
        #expect(cs == 0 && co.contains("example.com www.example.com") == false && co.contains(String(certId.prefix(12))), "\(co)")
        (cs, co) = try CLI.run(["domain:delete", "-p", pid, "-e", "dev", "dev.example.com"], env: env)
        #expect(cs == 0, "\(co)")
        (cs, co) = try CLI.run(["certificate:delete", "-p", pid, String(certId.prefix(8))], env: env)
        #expect(cs == 0, "\(co)")
        #expect(try servedSubject(s, host: "example.com").contains("O = Grove"))
        (cs, co) = try CLI.run(["domain:delete", "-p", pid, "example.com"], env: env)
        #expect(cs == 0, "\(co)")
        (code, _) = try s.fetch(host: "example.com", scheme: "https")
        #expect(code == 404)
    }
}
