import Synchronization
import GroveModel
import GroveStore

/// Carries out one activity type. Runners must be idempotent when `resumable` is true:
/// after a restart an interrupted activity of that type runs again from the start.
public protocol ActivityRunner: Sendable {
    var resumable: Bool { get }
    /// True for activities that only log a change already in the store (variables, settings): they touch no
    /// runtime, so they run in a lane of their own and never hold an environment's deployments behind them.
    var recordOnly: Bool { get }
    func run(_ context: ActivityContext) async throws
}

extension ActivityRunner {
    public var recordOnly: Bool { false }
}

/// Thrown when a user cancelled the activity; the worker records it as cancelled.
public struct ActivityCancelled: Error {}

/// A failure whose message is meant for the activity log as is.
public struct ActivityFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}

/// What a runner may do to its activity: log, report progress, check for cancellation. Runners may log from
/// several tasks at once: the log sequence is taken under a lock, so no two lines share a number.
public final class ActivityContext: Sendable {
    public let store: any Store
    private struct State {
        var activity: Activity
        var logSeq: Int64
    }
    private let state: Mutex<State>
    private let stepDelay: Duration

    init(store: any Store, activity: Activity, lastLogSeq: Int64, stepDelay: Duration) {
        self.store = store
        self.state = Mutex(State(activity: activity, logSeq: lastLogSeq))
        self.stepDelay = stepDelay
    }

    /// The activity as this runner last changed it.
    public var activity: Activity { state.withLock { $0.activity } }

    /// Appends a line to the activity log (a newline is added when missing).
    public func log(_ message: String) async throws {
        let (id, seq) = state.withLock { s -> (String, Int64) in
            s.logSeq += 1
            return (s.activity.id, s.logSeq)
        }
        let text = message.hasSuffix("\n") ? message : message + "\n"
        try await store.appendLog(ActivityLogItem(activityId: id, seq: seq, timestamp: Timestamp.now(), message: text))
    }

    public func progress(_ percent: Int) async throws {
        let a = state.withLock { s -> Activity in
            s.activity.completionPercent = min(99, max(s.activity.completionPercent, percent))
            s.activity.updatedAt = Timestamp.now()
            return s.activity
        }
        try await store.updateActivity(a)
    }

    /// Throws `ActivityCancelled` when a user asked to cancel.
    public func checkCancelled() async throws {
        try Task.checkCancellation()
        if try await store.isCancelRequested(activityId: activity.id) { throw ActivityCancelled() }
    }

    /// Logs a step, pauses for the configured step delay, reports progress and honours cancellation.
    public func step(_ message: String, percent: Int) async throws {
        try await checkCancelled()
        try await log(message)
        if stepDelay > .zero { try await Task.sleep(for: stepDelay) }
        try await progress(percent)
        try await checkCancelled()
    }

    func update(_ a: Activity) { state.withLock { $0.activity = a } }
}
