import Foundation
import GroveModel
import GroveStore
import Logging

/// Queues automated backups: for every active environment whose type has a `data_retention` schedule, a live
/// `environment.backup` activity once per slot of the smallest interval (see `BackupRetention.isDue`).
/// The backup runner then applies the retention policy, so old automated backups expire as new ones land.
public actor BackupScheduler {
    let store: any Store
    let logger: Logger
    let period: Duration
    private var loop: Task<Void, Never>?

    /// `period`: how often policies are checked (a minute by default; tests use a second).
    public init(store: any Store, logger: Logger, period: Duration = .seconds(60)) {
        self.store = store
        self.logger = logger
        self.period = period
    }

    public func start() {
        loop = Task { [weak self, period] in
            while !Task.isCancelled {
                try? await Task.sleep(for: period)
                guard let self, !Task.isCancelled else { return }
                await self.tick(now: Date())
            }
        }
    }

    public func stop() { loop?.cancel() }

    func tick(now: Date) async {
        do {
            for project in try await store.projects(organizationId: nil) {
                for env in try await store.environments(projectId: project.id) where env.status == .active {
                    guard let policy = BackupRetention.policy(settings: project.settings, type: env.type), !policy.schedule.isEmpty else { continue }
                    try await queueIfDue(project: project, environment: env, policy: policy, now: now)
                }
            }
        } catch {
            logger.error("automated backups: \(error)")
        }
    }

    private func queueIfDue(project: Project, environment env: Environment, policy: BackupRetention, now: Date) async throws {
        var filter = ActivityFilter(environmentId: env.id)
        filter.types = ["environment.backup"]
        filter.states = [.pending, .inProgress]
        let open = try await store.activities(projectId: project.id, filter: filter)
        if open.contains(where: { $0.parameters["automated"]?.boolValue == true }) { return }
        let last = try await store.backups(projectId: project.id, environmentId: env.id)
            .filter(\.automated).compactMap { Timestamp.parse($0.createdAt) }.max()
        guard policy.isDue(now: now, lastAutomated: last, environmentCreated: Timestamp.parse(env.createdAt) ?? now),
              let slot = policy.latestSlot(before: now) else { return }
        let id = Identifier.lowercaseAlphanumeric(26)
        // One activity per slot, whatever number of processes schedule: its id is the slot's, so a second insert conflicts.
        let a = Activity(id: Identifier.derived(from: "automated-backup/\(project.id)/\(env.id)/\(Int64(slot.timeIntervalSince1970))"), projectId: project.id, environments: [env.id], type: "environment.backup", userId: nil,
                         description: "Grove created an automated backup of <environment data-id=\"\(env.id)\">\(Self.escape(env.title))</environment>",
                         text: "Grove created an automated backup of \(env.title)",
                         parameters: .object(JSONObject([("backup_name", .string(id)), ("safe", .bool(false)), ("automated", .bool(true)),
                                                         ("environment", .string(env.id))])),
                         seq: SequenceClock.shared.next(), createdAt: Timestamp.now())
        do { try await store.insertActivity(a) } catch StoreError.conflict { return }
        logger.info("queued automated backup \(id) of \(project.id)/\(env.id)")
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
