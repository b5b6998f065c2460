import Foundation
import Testing
@testable import GroveTLS

/// Certificates made by `openssl` (the oracle) must be read the way openssl reads them.
@Suite struct CertificateBundleTests {
    struct Made { let cert: String; let key: String }

    func openssl(_ args: [String], in dir: URL) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = args
        p.currentDirectoryURL = dir
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "openssl \(args.joined(separator: " "))")
    }

    func make(_ keyArgs: [String], subject: String, san: String?, days: Int = 30) throws -> Made {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var args = ["req", "-x509", "-nodes", "-days", "\(days)", "-subj", subject, "-keyout", "k.pem", "-out", "c.pem"] + keyArgs
        if let san { args += ["-addext", "subjectAltName=\(san)"] }
        try openssl(args, in: dir)
        return Made(cert: try String(contentsOf: dir.appendingPathComponent("c.pem"), encoding: .utf8),
                    key: try String(contentsOf: dir.appendingPathComponent("k.pem"), encoding: .utf8))
    }

    @Test func rsaCertificateWithAlternativeNames() throws {
        let m = try make(["-newkey", "rsa:2048"], subject: "/O=Example Org/CN=example.com", san: "DNS:example.com,DNS:*.example.com")
        let b = try CertificateBundle(certificate: m.cert, key: m.key, chain: [])
        #expect(b.domains == ["example.com", "*.example.com"])
        #expect(b.issuer.contains(.init(oid: "2.5.4.3", alias: "commonName", value: "example.com")))
        #expect(b.issuer.contains(.init(oid: "2.5.4.10", alias: "organizationName", value: "Example Org")))
        #expect(b.isRoot)
        #expect(b.id.count == 64)
        #expect(b.expiresAt > Date().addingTimeInterval(29 * 86_400))
        #expect(b.covers("www.example.com") && b.covers("example.com") && !b.covers("a.b.example.com") && !b.covers("example.org"))
    }

    @Test func ecCertificateFallsBackToCommonName() throws {
        let m = try make(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"], subject: "/CN=shop.example.org", san: nil)
        let b = try CertificateBundle(certificate: m.cert, key: m.key, chain: [m.cert])
        #expect(b.domains == ["shop.example.org"])
    }

    @Test func keyOfAnotherCertificateIsRefused() throws {
        let a = try make(["-newkey", "rsa:2048"], subject: "/CN=a.example", san: nil)
        let b = try make(["-newkey", "rsa:2048"], subject: "/CN=b.example", san: nil)
        #expect(throws: CertificateError.invalid("key", "does not match the certificate's public key")) {
            try CertificateBundle(certificate: a.cert, key: b.key, chain: [])
        }
    }

    @Test func garbageIsRefusedByField() throws {
        let a = try make(["-newkey", "rsa:2048"], subject: "/CN=a.example", san: nil)
        #expect(throws: CertificateError.invalid("certificate", "is not a PEM-encoded X.509 certificate")) {
            try CertificateBundle(certificate: "hello", key: a.key, chain: [])
        }
        #expect(throws: CertificateError.invalid("key", "is not a PEM-encoded private key (RSA, EC or PKCS#8, unencrypted)")) {
            try CertificateBundle(certificate: a.cert, key: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", chain: [])
        }
        #expect(throws: CertificateError.invalid("chain", "entry 0 is not a PEM-encoded X.509 certificate")) {
            try CertificateBundle(certificate: a.cert, key: a.key, chain: ["nope"])
        }
    }

    @Test func expiredCertificateIsRefused() throws {
        let m = try make(["-newkey", "rsa:2048"], subject: "/CN=old.example", san: nil, days: 1)
        #expect(throws: CertificateError.self) {
            try CertificateBundle(certificate: m.cert, key: m.key, chain: [], now: Date().addingTimeInterval(3 * 86_400))
        }
    }

    @Test func selfSignedCertificateReadsBackAndOpensslAgrees() throws {
        let (cert, key) = try SelfSignedCertificate.generate(commonName: "grove router", names: ["localhost", "*.localhost"])
        let b = try CertificateBundle(certificate: cert, key: key, chain: [])
        #expect(b.domains == ["localhost", "*.localhost"])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try cert.write(to: dir.appendingPathComponent("c.pem"), atomically: true, encoding: .utf8)
        try openssl(["x509", "-in", "c.pem", "-noout", "-checkend", "86400"], in: dir)
    }
}
