import Crypto
import Foundation

/// Encrypts secrets before they reach the store (sensitive variable values, the token signing key, certificate
/// keys) with AES-256-GCM under a key kept apart from the store: a file in the data directory by default, or one
/// the operator supplies (a file, or `GROVE_SECRET_KEY`) when the store is a shared PostgreSQL server.
/// A database copy alone then reveals no secret.
public struct SecretSealer: Sendable {
    /// The key's bytes (SymmetricKey itself is not Sendable).
    private let keyBytes: Data
    var key: SymmetricKey { SymmetricKey(data: keyBytes) }
    static let prefix = "grove-sealed:v1:"

    public struct KeyError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(key: SymmetricKey) { keyBytes = key.withUnsafeBytes { Data($0) } }

    /// The key from `GROVE_SECRET_KEY` (base64 of 32 bytes), else from `keyFile`, else from `<dataDir>/secret.key`,
    /// which is created (mode 0600) on first use. A named key that cannot be read stops the server: a new random key
    /// would make every stored secret unreadable.
    public static func load(keyFile: String?, dataDir: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SecretSealer {
        if let text = environment["GROVE_SECRET_KEY"], !text.isEmpty {
            return try SecretSealer(key: decode(text, source: "GROVE_SECRET_KEY"))
        }
        if let keyFile {
            guard let data = FileManager.default.contents(atPath: keyFile) else { throw KeyError(description: "cannot read the secret key file \(keyFile)") }
            return try SecretSealer(key: decode(String(decoding: data, as: UTF8.self), source: keyFile))
        }
        let path = (dataDir as NSString).appendingPathComponent("secret.key")
        if let data = FileManager.default.contents(atPath: path) {
            return try SecretSealer(key: decode(String(decoding: data, as: UTF8.self), source: path))
        }
        let key = SymmetricKey(size: .bits256)
        let text = key.withUnsafeBytes { Data($0).base64EncodedString() } + "\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw KeyError(description: "cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count, fsync(fd) == 0 else { throw KeyError(description: "cannot write \(path)") }
        return SecretSealer(key: key)
    }

    static func decode(_ text: String, source: String) throws -> SymmetricKey {
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32 else {
            throw KeyError(description: "\(source) must hold 32 random bytes in base64 (e.g. `head -c 32 /dev/urandom | base64`)")
        }
        return SymmetricKey(data: data)
    }

    public static func isSealed(_ value: String) -> Bool { value.hasPrefix(prefix) }

    public func seal(_ plain: String) throws -> String {
        let box = try AES.GCM.seal(Data(plain.utf8), using: key)
        guard let combined = box.combined else { throw KeyError(description: "cannot seal a value") }
        return Self.prefix + combined.base64EncodedString()
    }

    /// The plain value; values stored before sealing existed pass through unchanged.
    public func unseal(_ stored: String) throws -> String {
        guard Self.isSealed(stored) else { return stored }
        guard let data = Data(base64Encoded: String(stored.dropFirst(Self.prefix.count))) else {
            throw StoreError.engine("a sealed value is damaged")
        }
        do {
            return String(decoding: try AES.GCM.open(AES.GCM.SealedBox(combined: data), using: key), as: UTF8.self)
        } catch {
            throw StoreError.engine("a sealed value cannot be opened with this secret key (was the key file replaced?)")
        }
    }

    /// Sealed bytes for files outside the store (deployment records).
    public func seal(data: Data) throws -> Data {
        guard let combined = try AES.GCM.seal(data, using: key).combined else { throw KeyError(description: "cannot seal a record") }
        return Data(Self.prefix.utf8) + combined
    }

    /// Plain bytes of a record written by `seal(data:)`; records written before sealing existed pass through.
    public func unseal(data: Data) throws -> Data {
        let p = Data(Self.prefix.utf8)
        guard data.starts(with: p) else { return data }
        return try AES.GCM.open(AES.GCM.SealedBox(combined: data.dropFirst(p.count)), using: key)
    }
}
