import Crypto
import Foundation
import GroveModel
import GroveStore
import Logging
import Testing

@Suite("Secrets sealed at rest")
struct SecretSealerTests {
    @Test func sealedValuesOpenOnlyWithTheirKey() throws {
        let a = SecretSealer(key: SymmetricKey(size: .bits256)), b = SecretSealer(key: SymmetricKey(size: .bits256))
        let sealed = try a.seal("hunter2")
        #expect(SecretSealer.isSealed(sealed) && !sealed.contains("hunter2"))
        #expect(try a.unseal(sealed) == "hunter2")
        #expect(try a.seal("hunter2") != sealed, "a fresh nonce each time")
        #expect(throws: StoreError.self) { try b.unseal(sealed) }
        #expect(try a.unseal("written before sealing existed") == "written before sealing existed")
        let record = try a.seal(data: Data("{\"env\":1}".utf8))
        #expect(try a.unseal(data: record) == Data("{\"env\":1}".utf8))
    }

    @Test func keysComeFromTheEnvironmentAFileOrAreMadeOnce() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sealer-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let made = try SecretSealer.load(keyFile: nil, dataDir: dir, environment: [:])
        var st = stat()
        #expect(stat(dir + "/secret.key", &st) == 0 && st.st_mode & 0o077 == 0)
        let again = try SecretSealer.load(keyFile: nil, dataDir: dir, environment: [:])
        #expect(try again.unseal(try made.seal("x")) == "x")
        let key = Data((0..<32).map { UInt8($0) }).base64EncodedString()
        let fromEnv = try SecretSealer.load(keyFile: nil, dataDir: dir, environment: ["GROVE_SECRET_KEY": key])
        #expect(throws: StoreError.self) { try fromEnv.unseal(try made.seal("x")) }
        #expect(throws: SecretSealer.KeyError.self) { try SecretSealer.load(keyFile: nil, dataDir: dir, environment: ["GROVE_SECRET_KEY": "short"]) }
        #expect(throws: SecretSealer.KeyError.self) { try SecretSealer.load(keyFile: dir + "/missing", dataDir: dir, environment: [:]) }
    }

    @Test func sensitiveVariablesAreStoredSealed() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString).sqlite").path
        let store = try await StoreFactory.open(url: "sqlite:" + path, logger: Logger(label: "test"), sealer: SecretSealer(key: SymmetricKey(size: .bits256)))
        var v = Variable(projectId: "p", environmentId: nil, name: "API_KEY", value: "plain-secret", createdAt: Timestamp.now())
        v.isSensitive = true
        try await store.insertVariable(v)
        var open = Variable(projectId: "p", environmentId: nil, name: "GREETING", value: "hello", createdAt: Timestamp.now())
        open.isSensitive = false
        try await store.insertVariable(open)
        let rows = try await store.db.query("SELECT data FROM variables ORDER BY name", [])
        let raw = rows.compactMap { $0["data"]?.string }.joined()
        #expect(!raw.contains("plain-secret") && raw.contains("grove-sealed:v1:") && raw.contains("hello"))
        #expect(try await store.variable(projectId: "p", environmentId: nil, name: "API_KEY")?.value == "plain-secret")
        await store.close()
        try? FileManager.default.removeItem(atPath: path)
    }
}
