import Foundation
import GroveCredentials
import Testing

@Suite("TOTP codes and SSH public keys")
struct CredentialsTests {
    /// RFC 6238 appendix B, SHA-1 rows (8 digits there; the 6-digit code is the last 6 digits of the same value).
    @Test(arguments: [(Int64(59), "94287082"), (1_111_111_109, "07081804"), (1_111_111_111, "14050471"), (1_234_567_890, "89005924"),
                      (2_000_000_000, "69279037")])
    func rfc6238Vectors(_ time: Int64, _ expected: String) {
        let t = TOTP(secret: Array("12345678901234567890".utf8), digits: 8)
        #expect(t.code(at: Date(timeIntervalSince1970: TimeInterval(time))) == expected)
        let six = TOTP(secret: Array("12345678901234567890".utf8))
        #expect(six.code(at: Date(timeIntervalSince1970: TimeInterval(time))) == String(expected.suffix(6)))
    }

    @Test func base32RoundTripAndDriftWindow() throws {
        #expect(Base32.encode(Array("12345678901234567890".utf8)) == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
        #expect(Base32.decode("gezd gnbv gy3t qojq gezd gnbv gy3t qojq") == Array("12345678901234567890".utf8))
        #expect(Base32.decode("not base32!") == nil)
        let t = TOTP.generate()
        let now = Date()
        #expect(TOTP(base32: t.base32Secret)?.secret == t.secret)
        #expect(t.matchingStep(t.code(at: now), at: now) == t.timeStep(at: now))
        #expect(t.matchingStep(t.code(at: now.addingTimeInterval(-30)), at: now) != nil)
        #expect(t.matchingStep(t.code(at: now.addingTimeInterval(-95)), at: now) == nil)
        #expect(t.matchingStep("12345", at: now) == nil && t.matchingStep("abcdef", at: now) == nil)
        #expect(t.provisioningURI(issuer: "Grove", account: "a@b.c").hasPrefix("otpauth://totp/Grove:a@b.c?secret=\(t.base32Secret)"))
    }

    /// Keys made by ssh-keygen: parsed, and fingerprinted exactly as `ssh-keygen -l` prints.
    @Test(arguments: [["-t", "ed25519"], ["-t", "rsa", "-b", "2048"], ["-t", "ecdsa", "-b", "384"]])
    func sshKeysMatchSshKeygen(_ args: [String]) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sshkey-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(run("/usr/bin/ssh-keygen", args + ["-q", "-N", "", "-C", "me@laptop", "-f", dir + "/k"]).status == 0)
        let line = try String(contentsOfFile: dir + "/k.pub", encoding: .utf8)
        let key = try SSHPublicKey(line)
        #expect(key.comment == "me@laptop")
        let printed = run("/usr/bin/ssh-keygen", ["-l", "-f", dir + "/k.pub"]).output
        #expect(printed.split(separator: " ").dropFirst().first.map(String.init) == key.fingerprint, "\(printed)")
        #expect(printed.hasPrefix("\(key.bits) "), "\(printed)")
    }

    /// Certificates the authority signs read back with ssh-keygen -L: type, key id, serial, principals, validity,
    /// extensions and the signing CA, for each key type users hold.
    @Test(arguments: [["-t", "ed25519"], ["-t", "rsa", "-b", "2048"], ["-t", "ecdsa", "-b", "256"]])
    func certificatesReadBackWithSshKeygen(_ args: [String]) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sshcert-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(run("/usr/bin/ssh-keygen", args + ["-q", "-N", "", "-C", "me@laptop", "-f", dir + "/k"]).status == 0)
        let key = try SSHPublicKey(try String(contentsOfFile: dir + "/k.pub", encoding: .utf8))
        let (ca, seed) = SSHCertificateAuthority.generate()
        #expect(try SSHCertificateAuthority(seed: seed).publicKeyLine(comment: "") == ca.publicKeyLine(comment: ""))
        let start = Date(timeIntervalSince1970: 1_900_000_000)
        let cert = try ca.sign(key, .init(keyId: "ada@example.com", principals: ["user-1"], validAfter: start, validBefore: start.addingTimeInterval(3600),
                                          extensions: ["permit-pty": "", "permit-port-forwarding": "", "grove-mfa@grove": ""], serial: 42))
        #expect(cert.hasPrefix(key.algorithm + "-cert-v01@openssh.com "))
        try cert.write(toFile: dir + "/k-cert.pub", atomically: true, encoding: .utf8)
        let shown = run("/usr/bin/ssh-keygen", ["-L", "-f", dir + "/k-cert.pub"]).output
        #expect(shown.contains("user certificate"), "\(shown)")
        #expect(shown.contains("Key ID: \"ada@example.com\""), "\(shown)")
        #expect(shown.contains("Serial: 42"), "\(shown)")
        #expect(shown.contains("user-1"), "\(shown)")
        #expect(shown.contains("permit-pty") && shown.contains("permit-port-forwarding") && shown.contains("grove-mfa@grove"), "\(shown)")
        let caKey = try SSHPublicKey(ca.publicKeyLine(comment: "grove"))
        #expect(shown.contains("Signing CA: ED25519 \(caKey.fingerprint)"), "\(shown)")
        #expect(shown.contains(key.fingerprint), "\(shown)")
    }

    /// What the OpenSSH front reads from a certificate sshd hands it: the certified key, principals and extensions, for
    /// every key type; and a certificate of another authority, a tampered one, an expired one or a host certificate
    /// (from ssh-keygen itself) refused.
    @Test(arguments: [["-t", "ed25519"], ["-t", "rsa", "-b", "2048"], ["-t", "ecdsa", "-b", "384"]])
    func certificatesAreReadAndChecked(_ args: [String]) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sshcert-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(run("/usr/bin/ssh-keygen", args + ["-q", "-N", "", "-C", "me@laptop", "-f", dir + "/k"]).status == 0)
        let key = try SSHPublicKey(try String(contentsOfFile: dir + "/k.pub", encoding: .utf8))
        let (ca, _) = SSHCertificateAuthority.generate()
        let now = Date()
        let line = try ca.sign(key, .init(keyId: "ada@example.com", principals: ["user-1"], validAfter: now.addingTimeInterval(-60),
                                          validBefore: now.addingTimeInterval(3600), extensions: ["permit-pty": "", "grove-mfa@grove": ""], serial: 7))
        let blob = try #require(Data(base64Encoded: String(line.split(separator: " ")[1]))).map { $0 }
        let cert = try SSHCertificate(blob: blob, authority: ca.publicKeyBlob, now: now)
        #expect(cert.key.canonical == key.canonical && cert.keyId == "ada@example.com" && cert.principals == ["user-1"])
        #expect(cert.extensions == ["permit-pty": "", "grove-mfa@grove": ""])
        // Another authority, a flipped byte in the signed part, expired, not yet valid, truncated.
        #expect(throws: SSHKeyError.self) { try SSHCertificate(blob: blob, authority: SSHCertificateAuthority.generate().0.publicKeyBlob, now: now) }
        var tampered = blob
        tampered[tampered.count / 2] ^= 1
        #expect(throws: SSHKeyError.self) { try SSHCertificate(blob: tampered, authority: ca.publicKeyBlob, now: now) }
        #expect(throws: SSHKeyError.self) { try SSHCertificate(blob: blob, authority: ca.publicKeyBlob, now: now.addingTimeInterval(7200)) }
        #expect(throws: SSHKeyError.self) { try SSHCertificate(blob: blob, authority: ca.publicKeyBlob, now: now.addingTimeInterval(-600)) }
        #expect(throws: SSHKeyError.self) { try SSHCertificate(blob: Array(blob.prefix(blob.count - 10)), authority: ca.publicKeyBlob, now: now) }
        #expect(throws: SSHKeyError.self) { try SSHCertificate(blob: [], authority: ca.publicKeyBlob, now: now) }
        // A host certificate ssh-keygen signs with its own Ed25519 authority: not a user certificate, not ours.
        #expect(run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", dir + "/ca"]).status == 0)
        #expect(run("/usr/bin/ssh-keygen", ["-q", "-s", dir + "/ca", "-h", "-I", "host", "-n", "user-1", dir + "/k.pub"]).status == 0)
        let hostLine = try String(contentsOfFile: dir + "/k-cert.pub", encoding: .utf8)
        let hostBlob = try #require(Data(base64Encoded: String(hostLine.split(separator: " ")[1]))).map { $0 }
        let otherCA = try SSHPublicKey(try String(contentsOfFile: dir + "/ca.pub", encoding: .utf8))
        #expect(throws: SSHKeyError("certificate is not a user certificate")) { try SSHCertificate(blob: hostBlob, authority: otherCA.blob, now: now) }
        // The same authority signing a user certificate: read like Grove's own.
        #expect(run("/usr/bin/ssh-keygen", ["-q", "-s", dir + "/ca", "-I", "bob", "-n", "user-2", "-V", "-1m:+1h", dir + "/k.pub"]).status == 0)
        let userLine = try String(contentsOfFile: dir + "/k-cert.pub", encoding: .utf8)
        let userBlob = try #require(Data(base64Encoded: String(userLine.split(separator: " ")[1]))).map { $0 }
        let theirs = try SSHCertificate(blob: userBlob, authority: otherCA.blob, now: now)
        #expect(theirs.keyId == "bob" && theirs.principals == ["user-2"] && theirs.key.canonical == key.canonical)
    }

    @Test(arguments: ["", "ssh-ed25519", "ssh-dss AAAAB3NzaC1kc3MAAACBAP", "ssh-ed25519 !!!notbase64",
                      "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIBg2hYOQTtgH1ukJFo6rOWAR2Vj8k5xKq8f3X1k6y0Aq",
                      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBg2hYOQTtgH1ukJFo6rOWAR2Vj8k5xKq8f3X1k6y0A="])
    func malformedKeysAreRefused(_ line: String) {
        #expect(throws: SSHKeyError.self) { try SSHPublicKey(line) }
    }

    func run(_ exe: String, _ args: [String]) -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        do { try p.run() } catch { return (-1, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
