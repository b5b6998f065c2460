import Foundation

/// A project's backup policy for one environment type, read from the `data_retention` setting:
/// `{type: {max_backups, default_config: {manual_count, schedule: [{interval, count}]}}}`.
/// Schedule entries both drive automated backups (one per smallest interval) and decide which automated
/// backups are kept (the newest of each interval, `count` of them).
public struct BackupRetention: Sendable, Equatable {
    public struct Slot: Sendable, Equatable {
        public var interval: TimeInterval
        public var count: Int
        /// The interval as written (`1d`).
        public var spec: String
        public init(interval: TimeInterval, count: Int, spec: String) { self.interval = interval; self.count = count; self.spec = spec }
    }

    public var maxBackups: Int
    public var manualCount: Int
    public var schedule: [Slot]

    public init(maxBackups: Int, manualCount: Int, schedule: [Slot]) {
        self.maxBackups = maxBackups; self.manualCount = manualCount; self.schedule = schedule
    }

    /// The policy for `type` in a project's settings; nil when the type has none.
    public static func policy(settings: JSONObject, type: EnvironmentType) -> BackupRetention? {
        guard let node = settings["data_retention"]?[type.rawValue], case .success(let r) = parse(node) else { return nil }
        return r
    }

    /// Validates one type's policy as a client sends it.
    public static func parse(_ node: JSON) -> Result<BackupRetention, RetentionError> {
        guard case .object(let o) = node else { return .failure(RetentionError("must be an object")) }
        guard let max = o["max_backups"]?.intValue, max >= 0 else { return .failure(RetentionError("max_backups must be a non-negative integer")) }
        guard case .object(let config)? = o["default_config"] else { return .failure(RetentionError("default_config must be an object")) }
        guard let manual = config["manual_count"]?.intValue, manual >= 0 else { return .failure(RetentionError("default_config.manual_count must be a non-negative integer")) }
        guard let entries = config["schedule"]?.arrayValue else { return .failure(RetentionError("default_config.schedule must be a list")) }
        var slots: [Slot] = []
        for (i, e) in entries.enumerated() {
            guard let spec = e["interval"]?.stringValue, let seconds = interval(spec) else {
                return .failure(RetentionError("default_config.schedule[\(i)].interval must be a number followed by s, m, h, d, w, M or y (e.g. 1d)"))
            }
            guard let count = e["count"]?.intValue, count > 0 else {
                return .failure(RetentionError("default_config.schedule[\(i)].count must be a positive integer"))
            }
            slots.append(Slot(interval: seconds, count: Int(count), spec: spec))
        }
        return .success(BackupRetention(maxBackups: Int(max), manualCount: Int(manual), schedule: slots.sorted { $0.interval < $1.interval }))
    }

    /// `6h`, `1d`, `1w`, `1M` (30 days), `1y` (365 days); `s` and `m` (minutes) for short test schedules.
    public static func interval(_ spec: String) -> TimeInterval? {
        guard let unit = spec.last, let n = Int(spec.dropLast()), n > 0 else { return nil }
        let seconds: Double
        switch unit {
        case "s": seconds = 1
        case "m": seconds = 60
        case "h": seconds = 3600
        case "d": seconds = 86400
        case "w": seconds = 7 * 86400
        case "M": seconds = 30 * 86400
        case "y": seconds = 365 * 86400
        default: return nil
        }
        return Double(n) * seconds
    }

    static let anchor = 4 * 3600.0

    /// Automated backups happen at multiples of the smallest interval counted from 04:00 UTC
    /// (Platform.sh's nightly slot). Returns the latest slot at or before `now`.
    public func latestSlot(before now: Date) -> Date? {
        guard let step = schedule.first?.interval else { return nil }
        let t = now.timeIntervalSince1970 - Self.anchor
        return Date(timeIntervalSince1970: (t / step).rounded(.down) * step + Self.anchor)
    }

    /// Whether an automated backup is due: a slot has passed since both the newest automated backup and
    /// the moment the environment came to be (so a new environment waits for the next slot).
    public func isDue(now: Date, lastAutomated: Date?, environmentCreated: Date) -> Bool {
        guard let slot = latestSlot(before: now) else { return false }
        return slot > max(lastAutomated ?? .distantPast, environmentCreated)
    }

    /// `2 manual, 2 every 1d, at most 12`, for activity logs.
    public var summary: String {
        (["\(manualCount) manual"] + schedule.map { "\($0.count) every \($0.spec)" } + ["at most \(maxBackups)"]).joined(separator: ", ")
    }

    /// How long an automated backup may be kept at most: the longest interval times its count.
    public var automatedLifetime: TimeInterval { schedule.map { $0.interval * Double($0.count) }.max() ?? 0 }

    public struct Entry: Sendable, Equatable {
        public var id: String
        public var created: Date
        public var automated: Bool
        public init(id: String, created: Date, automated: Bool) { self.id = id; self.created = created; self.automated = automated }
    }

    /// The backups this policy no longer keeps: automated ones no schedule slot holds, manual ones beyond
    /// `manual_count` (oldest first), then the oldest of all while more than `max_backups` remain.
    public func expired(_ backups: [Entry]) -> Set<String> {
        let newestFirst = backups.sorted { $0.created > $1.created }
        var keep = Set<String>()
        let automated = newestFirst.filter(\.automated)
        for slot in schedule {
            // The newest backup of each of the `count` latest intervals (counted from the 04:00 UTC anchor) that have one.
            var buckets = Set<Int64>()
            for b in automated where buckets.count < slot.count {
                let bucket = Int64(((b.created.timeIntervalSince1970 - Self.anchor) / slot.interval).rounded(.down))
                if buckets.insert(bucket).inserted { keep.insert(b.id) }
            }
        }
        for b in newestFirst.filter({ !$0.automated }).prefix(manualCount) { keep.insert(b.id) }
        var kept = newestFirst.filter { keep.contains($0.id) }
        while kept.count > maxBackups, let oldest = kept.last(where: \.automated) ?? kept.last {
            kept.removeAll { $0.id == oldest.id }
        }
        let survivors = Set(kept.map(\.id))
        return Set(backups.map(\.id).filter { !survivors.contains($0) })
    }
}

public struct RetentionError: Error, Sendable, Equatable {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
}
