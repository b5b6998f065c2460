import Foundation

/// Cron schedules as Platform.sh accepts them: five fields (minute hour day-of-month month day-of-week) with
/// `*`, lists, ranges, steps, month/day names and `H` (a stable per-job value), or `@hourly`-style shortcuts.
public struct CronSpec: Sendable, Equatable {
    /// Allowed values per field, after `H` was replaced by the job's stable value.
    public let minutes: Set<Int>, hours: Set<Int>, days: Set<Int>, months: Set<Int>, weekdays: Set<Int>
    /// Whether day-of-month / day-of-week were restricted (cron ORs them when both are).
    let daysRestricted: Bool, weekdaysRestricted: Bool

    static let shortcuts = ["@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
                            "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"]
    static let ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
    static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// Why `spec` is not a valid schedule, or nil.
    public static func problem(_ spec: String) -> String? {
        do { _ = try CronSpec(spec, seed: 0); return nil } catch { return "\(error)" }
    }

    struct Invalid: Error, CustomStringConvertible { let description: String }

    /// `seed` picks the values `H` stands for (Platform.sh derives it from the job name).
    public init(_ spec: String, seed: Int) throws {
        let text = Self.shortcuts[spec.trimmingCharacters(in: .whitespaces).lowercased()] ?? spec
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw Invalid(description: "\(spec) must have five fields (minute hour day month weekday) or be @hourly, @daily, ...")
        }
        var sets: [Set<Int>] = []
        for (i, f) in fields.enumerated() { sets.append(try Self.field(f, index: i, seed: seed)) }
        minutes = sets[0]; hours = sets[1]; days = sets[2]; months = sets[3]
        weekdays = Set(sets[4].map { $0 == 7 ? 0 : $0 })
        daysRestricted = fields[2] != "*"
        weekdaysRestricted = fields[4] != "*"
    }

    static func value(_ s: String, index: Int) -> Int? {
        if let i = Int(s) { return i }
        let l = s.lowercased()
        if index == 3, let m = monthNames.firstIndex(of: l) { return m + 1 }
        if index == 4, let d = dayNames.firstIndex(of: l) { return d }
        return nil
    }

    static func field(_ f: String, index: Int, seed: Int) throws -> Set<Int> {
        let (lo, hi) = ranges[index]
        let names = ["minute", "hour", "day of month", "month", "day of week"]
        var out = Set<Int>()
        for part in f.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            var body = part, step = 1
            if let slash = part.firstIndex(of: "/") {
                guard let s = Int(part[part.index(after: slash)...]), s > 0 else {
                    throw Invalid(description: "\(f): the step in the \(names[index]) field must be a positive number")
                }
                step = s
                body = String(part[..<slash])
            }
            var a = lo, b = hi
            if body == "*" {
            } else if body.hasPrefix("H") {
                // H or H(a-b): one stable value in the range.
                if body.count > 1 {
                    let inner = body.dropFirst().trimmingCharacters(in: CharacterSet(charactersIn: "()"))
                    let ab = inner.split(separator: "-").compactMap { Int($0) }
                    guard ab.count == 2, ab[0] >= lo, ab[1] <= hi, ab[0] <= ab[1] else { throw Invalid(description: "\(f): H(a-b) needs a range inside \(lo)-\(hi)") }
                    a = ab[0]; b = ab[1]
                }
                let span = b - a + 1
                let h = a + abs(seed) % span
                if part.contains("/") { a = h % step + a } else { a = h; b = h }
            } else if let dash = body.firstIndex(of: "-") {
                guard let x = value(String(body[..<dash]), index: index), let y = value(String(body[body.index(after: dash)...]), index: index) else {
                    throw Invalid(description: "\(f): \(body) is not a range in the \(names[index]) field")
                }
                a = x; b = y
            } else {
                guard let x = value(body, index: index) else { throw Invalid(description: "\(f): \(body) is not valid in the \(names[index]) field") }
                a = x; b = part.contains("/") ? hi : x
            }
            guard a >= lo, b <= hi, a <= b else { throw Invalid(description: "\(f): the \(names[index]) field allows \(lo)-\(hi)") }
            out.formUnion(stride(from: a, through: b, by: step))
        }
        return out
    }

    /// Whether the schedule fires at this minute.
    public func matches(minute: Int, hour: Int, day: Int, month: Int, weekday: Int) -> Bool {
        guard minutes.contains(minute), hours.contains(hour), months.contains(month) else { return false }
        let d = days.contains(day), w = weekdays.contains(weekday)
        if daysRestricted && weekdaysRestricted { return d || w }
        return d && w
    }
}
