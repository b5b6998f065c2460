import Foundation
import GroveCredentials
import GroveModel
import GroveSSH
import GroveStore
import Logging
import Testing
@testable import GroveAPI

/// Which offered keys log in as whom: account keys, keys Grove certified (until the certificate expires), CA
/// certificates; deactivated users, strangers and other projects are refused alike.
@Suite struct SSHLoginTests {
    @Test func userNamesNameTargets() {
        #expect(SSHTarget("abcdefghijklm-main-x1--app") == SSHTarget(projectId: "abcdefghijklm", machineName: "main-x1", app: "app"))
        #expect(SSHTarget("abcdefghijklm-main-x1--app--queue")?.worker == "queue")
        #expect(SSHTarget("abcdefghijklm-main-x1--app--queue")?.username == "abcdefghijklm-main-x1--app--queue")
        for bad in ["abcdefghijklm", "abcdefghijklm--app", "abcdefghijklm-main--", "-main--app", "abcdefghijklm-main--app--", "a-m--app--w--x",
                    "abcdefghijklm-main--ap p", "abcdefghijklm-ma/in--app", "abcdefghijklm-main--app--wo;rk"] {
            #expect(SSHTarget(bad) == nil, "\(bad)")
        }
        #expect(SSHTarget.projectId(of: "abcdefghijklm") == "abcdefghijklm")
        #expect(SSHTarget.projectId(of: "root@x") == nil && SSHTarget.projectId(of: "") == nil && SSHTarget.projectId(of: "ABC") == nil)
    }

    static func keyLine() -> String {
        var blob: [UInt8] = [0, 0, 0, 11] + Array("ssh-ed25519".utf8) + [0, 0, 0, 32]
        blob += (0..<32).map { _ in UInt8.random(in: 0...255) }
        return "ssh-ed25519 " + Data(blob).base64EncodedString()
    }

    @Test func keysCertificatesAndTheirLimits() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grove-sshlogin-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try await StoreFactory.open(url: "sqlite:" + dir + "/grove.sqlite", logger: Logger(label: "test"))
        defer { Task { await store.close() } }
        let now = Timestamp.now()
        for (id, email) in [("owner", "owner@example.com"), ("stranger", "stranger@example.com"), ("gone", "gone@example.com")] {
            try await store.insertUser(User(id: id, username: id, email: email, createdAt: now))
        }
        var gone = try #require(try await store.user(id: "gone"))
        gone.deactivated = true
        try await store.updateUser(gone)
        try await store.insertOrganization(Organization(id: "org", name: "org", label: "Org", ownerId: "owner", createdAt: now))
        try await store.insertOrganization(Organization(id: "gone-org", name: "gone-org", label: "Gone", ownerId: "gone", createdAt: now))
        try await store.insertProject(Project(id: "abcdefghijklm", organizationId: "org", ownerId: "owner", subscriptionId: "1", title: "P",
                                              defaultBranch: "main", region: "local", createdAt: now))
        try await store.insertProject(Project(id: "zzzzzzzzzzzzz", organizationId: "gone-org", ownerId: "gone", subscriptionId: "2", title: "Q",
                                              defaultBranch: "main", region: "local", createdAt: now))
        let logins = SSHLogins(store: store, logger: Logger(label: "test"))
        let target = "abcdefghijklm-main-x1--app"

        func key(_ line: String) throws -> SSHPublicKey { try SSHPublicKey(line) }
        func attempt(_ line: String, _ user: String = target, cert: SSHCertificateClaims? = nil) throws -> SSHLoginAttempt {
            SSHLoginAttempt(username: user, key: try key(line), certificate: cert)
        }

        // An account key.
        let account = Self.keyLine()
        try await store.insert(SSHKey(keyId: 1, userId: "owner", title: "laptop", value: account, fingerprint: try key(account).fingerprint, createdAt: now))
        let viaKey = await logins.login(try attempt(account))
        #expect(viaKey?.userId == "owner" && viaKey?.viaCertificate == false)
        // Not for a project the user cannot see, nor a name that names nothing.
        #expect(await logins.login(try attempt(account, "zzzzzzzzzzzzz-main-x1--app")) == nil)
        #expect(await logins.login(try attempt(account, "root")) == nil)
        #expect(await logins.login(try attempt(account, "abcdefghijklm-main--")) == nil)

        // A key Grove certified counts while its certificate does, with the second factor it was issued with.
        let certified = Self.keyLine(), expired = Self.keyLine()
        let later = Int64(Date().timeIntervalSince1970) + 600, earlier = Int64(Date().timeIntervalSince1970) - 1
        try await store.put(IssuedSSHCertificate(serial: "1", userId: "owner", fingerprint: try key(certified).fingerprint, validBefore: later, mfa: true, createdAt: now))
        try await store.put(IssuedSSHCertificate(serial: "2", userId: "owner", fingerprint: try key(expired).fingerprint, validBefore: earlier, mfa: false, createdAt: now))
        let viaCert = await logins.login(try attempt(certified))
        #expect(viaCert?.userId == "owner" && viaCert?.viaCertificate == true && viaCert?.extensions[SSHAccessGate.mfaExtension] != nil)
        #expect(await logins.login(try attempt(expired)) == nil)

        // A CA certificate (already verified by the server) names its user; a deactivated user or a stranger is refused.
        let someKey = Self.keyLine()
        #expect(await logins.login(try attempt(someKey, cert: SSHCertificateClaims(keyId: "o", principals: ["owner"], extensions: [:])))?.userId == "owner")
        #expect(await logins.login(try attempt(someKey, cert: SSHCertificateClaims(keyId: "s", principals: ["stranger"], extensions: [:]))) == nil)
        #expect(await logins.login(try attempt(someKey, cert: SSHCertificateClaims(keyId: "g", principals: ["gone"], extensions: [:]))) == nil)
        let goneKey = Self.keyLine()
        try await store.insert(SSHKey(keyId: 2, userId: "gone", title: "old", value: goneKey, fingerprint: try key(goneKey).fingerprint, createdAt: now))
        #expect(await logins.login(try attempt(goneKey, "zzzzzzzzzzzzz-main-x1--app")) == nil)
        // A stranger's key is simply unknown.
        #expect(await logins.login(try attempt(Self.keyLine())) == nil)
    }
}
