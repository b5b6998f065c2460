import Synchronization

/// A number that moves with every committed write the database learns of (its own, and other processes' through the
/// SQLite version poll or PostgreSQL notifications), and a way to sleep until it moves: the activity queue waits
/// here instead of polling the store.
final class ChangeCounter: Sendable {
    private struct State {
        var value: UInt64 = 0
        var nextWaiter = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    var value: UInt64 { state.withLock { $0.value } }

    func bump() {
        let woken = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.value &+= 1
            defer { s.waiters.removeAll() }
            return Array(s.waiters.values)
        }
        for w in woken { w.resume() }
    }

    /// Returns once the value differs from `version`, or the task is cancelled.
    func wait(past version: UInt64) async {
        let id = state.withLock { s -> Int in
            s.nextWaiter &+= 1
            return s.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.value != version || Task.isCancelled { return true }
                    s.waiters[id] = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Waits past `version` for at most `timeout`.
    func wait(past version: UInt64, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.wait(past: version) }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }
}
