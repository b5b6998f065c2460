import Foundation

/// Random identifiers in the shapes Platform.sh uses: short lowercase base32 for projects and activities,
/// UUIDs for users and organizations.
public enum Identifier {
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
    private static let lowerAlnum = Array("abcdefghijklmnopqrstuvwxyz0123456789")

    /// A 13-character id such as `ypalrypnezbye` (projects, activities, subscriptions).
    public static func short(_ length: Int = 13) -> String {
        var g = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet[Int(g.next() % UInt64(alphabet.count))] })
    }

    /// A decimal id such as `482913370` (subscriptions: clients read them as integers).
    public static func numeric() -> String {
        var g = SystemRandomNumberGenerator()
        return String(100_000_000 + g.next() % 900_000_000)
    }

    public static func lowercaseAlphanumeric(_ length: Int) -> String {
        var g = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in lowerAlnum[Int(g.next() % UInt64(lowerAlnum.count))] })
    }

    public static func uuid() -> String { UUID().uuidString.lowercased() }

    /// A 13-character id derived from `seed` (FNV-1a): every process that derives it from the same seed gets the
    /// same id, so inserting a record under it twice is a conflict rather than a duplicate.
    public static func derived(from seed: String, length: Int = 13) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in seed.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        var out = ""
        for _ in 0..<length {
            out.append(alphabet[Int(h % UInt64(alphabet.count))])
            h = (h / UInt64(alphabet.count)) ^ ((h &* 0x9e37_79b9_7f4a_7c15) >> 7)
        }
        return out
    }

    /// A secret with 256 bits of entropy, hex encoded (API tokens, refresh tokens).
    public static func secret(bytes: Int = 32) -> String {
        var g = SystemRandomNumberGenerator()
        var out = ""
        for _ in 0..<bytes {
            let b = UInt8(truncatingIfNeeded: g.next())
            out += String(format: "%02x", b)
        }
        return out
    }
}

/// Timestamps are stored and returned as ISO-8601 UTC strings with microseconds, which sort correctly as text.
public enum Timestamp {
    public static func now() -> String { format(Date()) }

    public static func format(_ date: Date) -> String {
        let t = date.timeIntervalSince1970
        let secs = Int64(t.rounded(.down))
        let micros = Int64(((t - Double(secs)) * 1_000_000).rounded(.down))
        var tm = tm()
        var time = time_t(secs)
        gmtime_r(&time, &tm)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%06lld+00:00",
            Int(tm.tm_year) + 1900, Int(tm.tm_mon) + 1, Int(tm.tm_mday), Int(tm.tm_hour), Int(tm.tm_min), Int(tm.tm_sec), micros)
    }

    /// Canonical stored form of a client timestamp (UTC, microseconds), keeping every fractional digit it had.
    /// A `+hh:mm` offset sent unencoded in a query string arrives as ` hh:mm` (the official CLI pages activities
    /// that way); it is the same instant.
    static func restoringPlus(_ s: String) -> String {
        guard let r = s.range(of: " [0-9]{2}:?[0-9]{2}$", options: .regularExpression) else { return s }
        return s.replacingCharacters(in: r.lowerBound..<s.index(after: r.lowerBound), with: "+")
    }

    public static func normalize(_ raw: String) -> String? {
        let s = restoringPlus(raw)
        var text = s
        var micros = "000000"
        if let dot = s.firstIndex(of: ".") {
            let rest = s[s.index(after: dot)...]
            let digits = rest.prefix { $0.isNumber }
            guard !digits.isEmpty else { return nil }
            micros = String((digits + "000000").prefix(6))
            text = String(s[..<dot]) + String(rest.dropFirst(digits.count))
        }
        // Foundation's parser tolerates trailing junk; the shape is checked first.
        guard text.range(of: "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:?[0-9]{2})$", options: .regularExpression) != nil else { return nil }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        guard let d = f.date(from: text), let m = Int64(micros) else { return nil }
        let whole = Timestamp.format(Date(timeIntervalSince1970: d.timeIntervalSince1970.rounded(.down)))
        return whole.replacingOccurrences(of: ".000000+", with: String(format: ".%06lld+", m))
    }

    /// Parses the ISO-8601 forms clients send (`Z` or `+00:00`, with or without fractions).
    public static func parse(_ raw: String) -> Date? {
        let s = restoringPlus(raw)
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: s) { return d }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: s)
    }
}
