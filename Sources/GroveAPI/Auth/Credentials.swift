import Crypto
import _CryptoExtras
import Foundation
import GroveModel

/// Hashing and signing: API and refresh tokens hashed with SHA-256, passwords with scrypt, access tokens as HS256 JWTs.
public enum Credentials {
    public static func sha256Hex(_ s: String) -> String {
        SHA256.hash(data: Data(s.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    // scrypt parameters: N=2^15, r=8, p=1, ~32 MiB and tens of milliseconds per check.
    static let scryptRounds = 1 << 15

    public static func hashPassword(_ password: String) throws -> String {
        var g = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &g) }
        let key = try KDF.Scrypt.deriveKey(from: Data(password.utf8), salt: Data(salt), outputByteCount: 32,
                                           rounds: scryptRounds, blockSize: 8, parallelism: 1)
        let hash = key.withUnsafeBytes { Data($0) }
        return "scrypt$\(scryptRounds)$8$1$\(Data(salt).base64EncodedString())$\(hash.base64EncodedString())"
    }

    public static func verifyPassword(_ password: String, hash stored: String) -> Bool {
        let parts = stored.split(separator: "$").map(String.init)
        guard parts.count == 6, parts[0] == "scrypt", let n = Int(parts[1]), let r = Int(parts[2]), let p = Int(parts[3]),
              let salt = Data(base64Encoded: parts[4]), let expected = Data(base64Encoded: parts[5]) else { return false }
        guard let key = try? KDF.Scrypt.deriveKey(from: Data(password.utf8), salt: salt, outputByteCount: expected.count,
                                                  rounds: n, blockSize: r, parallelism: p) else { return false }
        let got = key.withUnsafeBytes { Data($0) }
        // Constant-time comparison.
        guard got.count == expected.count else { return false }
        var diff: UInt8 = 0
        for (a, b) in zip(got, expected) { diff |= a ^ b }
        return diff == 0
    }
}

/// Minimal HS256 JSON Web Tokens.
public struct JWTSigner: Sendable {
    let secret: Data
    var key: SymmetricKey { SymmetricKey(data: secret) }

    public init(secret: String) { self.secret = Data(secret.utf8) }

    public func sign(_ claims: JSONObject) -> String {
        let header = Self.b64url(Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let payload = Self.b64url(Data(JSON.object(claims).serialized().utf8))
        let input = header + "." + payload
        let mac = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: key)
        return input + "." + Self.b64url(Data(mac))
    }

    /// Returns the claims when the signature is valid and the token has not expired.
    public func verify(_ token: String, now: Date = Date()) -> JSONObject? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let sig = Self.unb64url(String(parts[2])) else { return nil }
        let input = parts[0] + "." + parts[1]
        guard HMAC<SHA256>.isValidAuthenticationCode(sig, authenticating: Data(input.utf8), using: key) else { return nil }
        guard let payload = Self.unb64url(String(parts[1])), case .object(let claims)? = try? JSON.parse(Array(payload)) else { return nil }
        guard let exp = claims["exp"]?.intValue, Double(exp) > now.timeIntervalSince1970 else { return nil }
        return claims
    }

    static func b64url(_ d: Data) -> String {
        d.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func unb64url(_ s: String) -> Data? {
        var t = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while t.count % 4 != 0 { t += "=" }
        return Data(base64Encoded: t)
    }
}
