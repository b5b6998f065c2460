import Foundation
import GroveModel
import GroveStore
import Logging
import Metrics

/// Runs queued activities: one at a time per environment (or per project for project-level work),
/// in queue order, different environments in parallel. Activities are claimed through the store, so
/// several workers sharing one PostgreSQL database never run the same activity twice.
public actor Orchestrator {
    public struct Options: Sendable {
        /// Pause inside each logged step; lets tests and demos watch queued activities.
        public var stepDelay: Duration = .zero
        /// How often the queue is read when the store cannot tell of changes (PostgreSQL while its change listener
        /// reconnects); otherwise the queue is read when data changed, and at least every `idleRecheck`.
        public var pollInterval: Duration = .milliseconds(100)
        public var idleRecheck: Duration = .seconds(30)
        /// Writes come in bursts (an activity's log lines): after a pass the queue waits this long before the next.
        public var settle: Duration = .milliseconds(50)
        /// Told of each activity as it starts and as it ends (integrations queue their deliveries from here).
        public var observer: (@Sendable (Activity) async -> Void)?
        public init() {}
    }

    let store: any Store
    let logger: Logger
    let runners: [String: any ActivityRunner]
    let options: Options
    private var running: [String: Task<Void, Never>] = [:]  // queue key -> task
    private var loop: Task<Void, Never>?
    private var stopping = false

    /// Types whose runners only record (see `ActivityRunner.recordOnly`).
    let recordTypes: [String]

    public init(store: any Store, runners: [String: any ActivityRunner], options: Options = Options(), logger: Logger) {
        self.store = store
        self.runners = runners
        self.recordTypes = runners.filter { $0.value.recordOnly }.map(\.key).sorted()
        self.options = options
        self.logger = logger
    }

    /// Settles activities a previous process left in progress, then starts taking work.
    public func start() async throws {
        try await recoverInterrupted()
        loop = Task { [weak self] in
            while !Task.isCancelled {
                guard let self else { return }
                // Read before the pass: a write during the pass moves the version and the wait returns at once.
                let version = self.store.changeVersion
                await self.tick()
                if version == nil {
                    try? await Task.sleep(for: self.options.pollInterval)
                } else {
                    await self.store.waitForChange(since: version, timeout: self.options.idleRecheck)
                    try? await Task.sleep(for: self.options.settle)
                }
            }
        }
    }

    /// Stops claiming work and interrupts running activities, leaving them in progress for the next start.
    public func stop() async {
        stopping = true
        loop?.cancel()
        _ = await loop?.value
        let tasks = Array(running.values)
        for t in tasks { t.cancel() }
        for t in tasks { _ = await t.value }
        running.removeAll()
    }

    public var runningCount: Int { running.count }

    /// Looks for pending work now instead of at the next poll (called after this process queued an activity).
    public func nudge() async { await tick() }

    func recoverInterrupted() async throws {
        for var a in try await store.activities(state: .inProgress) {
            let now = Timestamp.now()
            let last = try await store.logItems(activityId: a.id).last?.seq ?? 0
            let ctx = ActivityContext(store: store, activity: a, lastLogSeq: last, stepDelay: .zero)
            if let r = runners[a.type], r.resumable {
                try await ctx.log("The server restarted while this activity ran; it will run again.")
                a.state = .pending
                a.updatedAt = now
                try await store.updateActivity(a)
                logger.info("activity requeued after restart", metadata: ["activity": "\(a.id)", "type": "\(a.type)"])
            } else {
                try await ctx.log("The server restarted while this activity ran; it was interrupted and did not finish.")
                a.finish(.failure, at: now, reason: "interrupted")
                try await store.updateActivity(a)
                logger.warning("activity failed by restart", metadata: ["activity": "\(a.id)", "type": "\(a.type)"])
            }
        }
    }

    private var ticking = false
    private var tickAgain = false

    /// One pass over the queue at a time: a nudge during a pass asks for another pass instead of running
    /// beside it (two passes could both see an environment as free while one is still claiming).
    func tick() async {
        if ticking { tickAgain = true; return }
        ticking = true
        repeat {
            tickAgain = false
            await tickOnce()
        } while tickAgain
        ticking = false
    }

    func tickOnce() async {
        guard !stopping else { return }
        do {
            let pending = try await store.pendingQueueHeads(recordTypes: recordTypes, limit: 1000)
            var seen = Set<String>()
            for a in pending {
                let key = recordTypes.contains(a.type) ? a.queueKey + "#records" : a.type.hasPrefix("integration.") ? a.queueKey + "#integrations" : a.queueKey
                guard seen.insert(key).inserted, running[key] == nil else { continue }
                var claimed = a
                let now = Timestamp.now()
                claimed.state = .inProgress
                claimed.startedAt = now
                claimed.updatedAt = now
                guard try await store.claimActivity(claimed) else { continue }
                let started = claimed
                running[key] = Task { [store, runners, options, logger] in
                    await options.observer?(started)
                    if let ended = await Self.execute(started, store: store, runner: runners[started.type], stepDelay: options.stepDelay, logger: logger) {
                        await options.observer?(ended)
                    }
                    self.finished(key)
                }
            }
        } catch {
            logger.error("activity queue poll failed: \(error)")
        }
    }

    /// A queue freed: its next activity starts now, not at the next poll.
    private func finished(_ key: String) {
        running[key] = nil
        Task { await self.tick() }
    }

    /// Runs one activity to its end; the activity as it ended, nil when shutdown interrupted it.
    @discardableResult
    static func execute(_ activity: Activity, store: any Store, runner: (any ActivityRunner)?, stepDelay: Duration, logger: Logger) async -> Activity? {
        let last = (try? await store.logItems(activityId: activity.id).last?.seq) ?? nil
        let ctx = ActivityContext(store: store, activity: activity, lastLogSeq: last ?? 0, stepDelay: stepDelay)
        logger.info("activity started", metadata: ["activity": "\(activity.id)", "type": "\(activity.type)"])
        var outcome: ActivityResult = .success
        var ended: Activity?
        do {
            guard let runner else { throw ActivityFailure("No runner handles activities of type \(activity.type).") }
            try await runner.run(ctx)
            var a = ctx.activity
            a.finish(.success, at: Timestamp.now())
            try await store.updateActivity(a)
            ended = a
        } catch is ActivityCancelled {
            outcome = .failure
            var a = ctx.activity
            try? await ctx.log("Activity cancelled.")
            a.cancel(at: Timestamp.now())
            try? await store.updateActivity(a)
            ended = a
        } catch where Task.isCancelled {
            // Shutdown: leave it in progress; the next start settles it.
            logger.info("activity interrupted by shutdown", metadata: ["activity": "\(activity.id)"])
            return nil
        } catch {
            outcome = .failure
            var a = ctx.activity
            try? await ctx.log("Error: \(error)")
            a.finish(.failure, at: Timestamp.now(), reason: "error")
            try? await store.updateActivity(a)
            ended = a
        }
        Counter(label: "grove_activities_total", dimensions: [("type", activity.type), ("result", outcome.rawValue)]).increment()
        logger.info("activity finished", metadata: ["activity": "\(activity.id)", "result": "\(outcome.rawValue)"])
        return ended
    }
}
