import Foundation
@testable import GroveOrchestrator
import GroveModel
import GroveStore
import Logging
import Testing

@Suite("Automated backup scheduling")
struct BackupSchedulerTests {
    @Test func schedulersSharingAStoreQueueOneBackupPerSlot() async throws {
        let f = try await DeployerFixture.make()
        defer { Task { await f.close() } }
        var project = try #require(try await f.store.project(id: f.projectId))
        project.settings["data_retention"] = ["production": ["max_backups": 4, "default_config": ["manual_count": 1, "schedule": [["interval": "1h", "count": 2]]]]]
        try await f.store.updateProject(project)
        // Two processes' schedulers look at the same moment: both find the slot due and no open backup.
        let a = BackupScheduler(store: f.store, logger: Logger(label: "a")), b = BackupScheduler(store: f.store, logger: Logger(label: "b"))
        let later = Date().addingTimeInterval(3 * 3600)
        async let one: Void = a.tick(now: later)
        async let two: Void = b.tick(now: later)
        _ = await (one, two)
        await b.tick(now: later)
        var filter = ActivityFilter(environmentId: "main")
        filter.types = ["environment.backup"]
        let queued = try await f.store.activities(projectId: f.projectId, filter: filter)
        #expect(queued.count == 1, "\(queued.map(\.id))")
        #expect(queued.first?.parameters["automated"]?.boolValue == true)
        // Once it ran, the next slot queues the next one.
        var done = try #require(queued.first)
        done.finish(.success, at: Timestamp.now())
        try await f.store.updateActivity(done)
        await a.tick(now: later.addingTimeInterval(3600))
        #expect(try await f.store.activities(projectId: f.projectId, filter: filter).count == 2)
    }
}
