import GroveOrchestrator
import Synchronization

/// Work that follows each activity's own, before the activity is recorded as finished: the OpenSSH front's accounts
/// are brought in step with what the activity changed (a new project, environment or deployment), so a client that
/// sees the activity complete can log in to what it made at once.
final class ActivityEpilogue: Sendable {
    private let hook = Mutex<(@Sendable () async -> Void)?>(nil)

    func set(_ work: @escaping @Sendable () async -> Void) { hook.withLock { $0 = work } }

    /// `runners`, each followed by the hook (those that only record a change run as they are).
    func wrap(_ runners: [String: any ActivityRunner]) -> [String: any ActivityRunner] {
        runners.mapValues { $0.recordOnly ? $0 : Followed(inner: $0, epilogue: self) }
    }

    func run() async {
        if let work = hook.withLock({ $0 }) { await work() }
    }

    struct Followed: ActivityRunner {
        let inner: any ActivityRunner
        let epilogue: ActivityEpilogue
        var resumable: Bool { inner.resumable }
        var recordOnly: Bool { inner.recordOnly }

        func run(_ context: ActivityContext) async throws {
            do {
                try await inner.run(context)
            } catch {
                await epilogue.run()
                throw error
            }
            await epilogue.run()
        }
    }
}
