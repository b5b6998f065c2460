import Foundation
import GroveModel
import Testing

@Suite("Backup retention policies")
struct BackupRetentionTests {
    static func policy(_ json: String) throws -> BackupRetention {
        try BackupRetention.parse(try JSON.parse(json)).get()
    }

    @Test func parsesIntervalsAndRejectsBadPolicies() throws {
        #expect(BackupRetention.interval("6h") == 21600)
        #expect(BackupRetention.interval("1w") == 604_800)
        #expect(BackupRetention.interval("1M") == 2_592_000)
        for bad in ["", "d", "0d", "-1d", "1x", "1.5d", "3 days"] { #expect(BackupRetention.interval(bad) == nil, "\(bad)") }
        let p = try Self.policy(#"{"max_backups": 12, "default_config": {"manual_count": 3, "schedule": [{"interval": "1w", "count": 4}, {"interval": "1d", "count": 7}]}}"#)
        #expect(p.maxBackups == 12 && p.manualCount == 3 && p.schedule.map(\.spec) == ["1d", "1w"])
        #expect(p.summary == "3 manual, 7 every 1d, 4 every 1w, at most 12")
        for bad in [#"[]"#, #"{"default_config": {"manual_count": 1, "schedule": []}}"#,
                    #"{"max_backups": 2, "default_config": {"manual_count": -1, "schedule": []}}"#,
                    #"{"max_backups": 2, "default_config": {"manual_count": 1, "schedule": [{"interval": "1d", "count": 0}]}}"#,
                    #"{"max_backups": 2, "default_config": {"manual_count": 1}}"#] {
            #expect(throws: RetentionError.self) { try Self.policy(bad) }
        }
    }

    @Test func dueOncePerSlotAndNotBeforeTheEnvironmentExisted() throws {
        let p = try Self.policy(#"{"max_backups": 5, "default_config": {"manual_count": 1, "schedule": [{"interval": "1d", "count": 2}]}}"#)
        let day = 86400.0
        let slot = Date(timeIntervalSince1970: 100 * day + 4 * 3600)  // 04:00 UTC
        #expect(p.latestSlot(before: slot.addingTimeInterval(3600)) == slot)
        // Created before the slot, never backed up: due. Created after it: waits for tomorrow.
        #expect(p.isDue(now: slot.addingTimeInterval(60), lastAutomated: nil, environmentCreated: slot.addingTimeInterval(-60)))
        #expect(!p.isDue(now: slot.addingTimeInterval(120), lastAutomated: nil, environmentCreated: slot.addingTimeInterval(60)))
        #expect(!p.isDue(now: slot.addingTimeInterval(7200), lastAutomated: slot.addingTimeInterval(30), environmentCreated: .distantPast))
        #expect(p.isDue(now: slot.addingTimeInterval(day + 1), lastAutomated: slot.addingTimeInterval(30), environmentCreated: .distantPast))
        let none = try Self.policy(#"{"max_backups": 5, "default_config": {"manual_count": 1, "schedule": []}}"#)
        #expect(!none.isDue(now: slot, lastAutomated: nil, environmentCreated: .distantPast))
    }

    @Test func keepsTheNewestOfEachIntervalTheNewestManualOnesAndAtMostMax() throws {
        let p = try Self.policy(#"{"max_backups": 6, "default_config": {"manual_count": 2, "schedule": [{"interval": "1d", "count": 3}, {"interval": "1w", "count": 3}]}}"#)
        let day = 86400.0
        let t0 = Date(timeIntervalSince1970: 1_000 * day)
        // Daily automated backups for 10 days (a0 oldest … a9 newest), a few seconds late each time.
        var entries = (0..<10).map { BackupRetention.Entry(id: "a\($0)", created: t0.addingTimeInterval(Double($0) * day + Double($0 % 3)), automated: true) }
        entries += (0..<3).map { BackupRetention.Entry(id: "m\($0)", created: t0.addingTimeInterval(Double($0) * day + 100), automated: false) }
        let expired = p.expired(entries)
        // Daily: a9 a8 a7. Weekly (weeks counted from 04:00 UTC of epoch day 0): a9, a8 (the newest of days
        // 1002–1008), a1 (the newest of the week before). Manual: m2 m1. Six, as max_backups allows.
        let kept = Set(entries.map(\.id)).subtracting(expired)
        #expect(kept == ["a9", "a8", "a7", "a1", "m2", "m1"], "\(kept.sorted())")
        // A tighter max drops the oldest automated ones first.
        var tight = p
        tight.maxBackups = 4
        #expect(Set(entries.map(\.id)).subtracting(tight.expired(entries)) == ["a9", "a8", "m2", "m1"])
        tight.maxBackups = 1
        #expect(Set(entries.map(\.id)).subtracting(tight.expired(entries)) == ["m2"])
    }
}
