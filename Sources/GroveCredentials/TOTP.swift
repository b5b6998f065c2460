import Crypto
import Foundation

/// Time-based one-time passwords (RFC 6238 over RFC 4226): HMAC-SHA1, 30-second steps, 6 digits, the
/// parameters authenticator apps assume. Secrets travel as unpadded base32.
public struct TOTP: Sendable {
    public let secret: [UInt8]
    public let step: TimeInterval
    public let digits: Int

    public init(secret: [UInt8], step: TimeInterval = 30, digits: Int = 6) {
        self.secret = secret; self.step = step; self.digits = digits
    }

    public init?(base32 text: String) {
        guard let bytes = Base32.decode(text), !bytes.isEmpty else { return nil }
        self.init(secret: bytes)
    }

    /// A new random 160-bit secret (RFC 4226's recommended length).
    public static func generate() -> TOTP {
        var g = SystemRandomNumberGenerator()
        return TOTP(secret: (0..<20).map { _ in UInt8.random(in: 0...255, using: &g) })
    }

    public var base32Secret: String { Base32.encode(secret) }

    public func timeStep(at date: Date) -> Int64 { Int64((date.timeIntervalSince1970 / step).rounded(.down)) }

    public func code(forStep counter: Int64) -> String {
        var big = UInt64(bitPattern: counter).bigEndian
        let message = withUnsafeBytes(of: &big) { Data($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0f)
        let binary = (UInt32(mac[offset] & 0x7f) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        let value = String(binary % modulus)
        return String(repeating: "0", count: digits - value.count) + value
    }

    public func code(at date: Date) -> String { code(forStep: timeStep(at: date)) }

    /// The time step `code` is valid for, allowing one step of clock drift either way; nil when it is wrong.
    public func matchingStep(_ code: String, at date: Date) -> Int64? {
        let trimmed = code.filter { !$0.isWhitespace }
        guard trimmed.count == digits, trimmed.allSatisfy(\.isASCII), trimmed.allSatisfy(\.isNumber) else { return nil }
        let now = timeStep(at: date)
        for s in [now, now - 1, now + 1] where constantTimeEqual(self.code(forStep: s), trimmed) { return s }
        return nil
    }

    /// `otpauth://` URI authenticator apps import.
    public func provisioningURI(issuer: String, account: String) -> String {
        func enc(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~@"))) ?? s }
        return "otpauth://totp/\(enc(issuer)):\(enc(account))?secret=\(base32Secret)&issuer=\(enc(issuer))&algorithm=SHA1&digits=\(digits)&period=\(Int(step))"
    }
}

/// Compares secrets without stopping at the first difference (no timing hint of how much matched).
public func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var diff: UInt8 = 0
    for i in 0..<x.count { diff |= x[i] ^ y[i] }
    return diff == 0
}

/// RFC 4648 base32, upper case, without padding on output; decoding ignores case, spaces and padding.
public enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var buffer: UInt32 = 0, bits = 0
        for b in bytes {
            buffer = (buffer << 8) | UInt32(b); bits += 8
            while bits >= 5 { out.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)]); bits -= 5 }
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer: UInt32 = 0, bits = 0
        for c in text.uppercased().utf8 where c != UInt8(ascii: "=") && c != UInt8(ascii: " ") {
            guard let v = alphabet.firstIndex(of: c) else { return nil }
            buffer = (buffer << 5) | UInt32(v); bits += 5
            if bits >= 8 { out.append(UInt8((buffer >> UInt32(bits - 8)) & 0xff)); bits -= 8 }
        }
        return out
    }
}
