/// How waiters on stored state (activity logs, a push's output, the queue) sleep: until the store's change version
/// moves instead of on a timer, so a client watching a build costs nothing while nothing is written.
extension Store {
    /// Returns when data changed after `version` (read before the caller last looked) and `settle` has passed, so a
    /// burst of writes (an activity's log lines) is read in one pass; at the latest after `timeout`. Where the store
    /// cannot tell of changes (`version` nil) it sleeps `fallback`. Throws only when the task is cancelled.
    public func nextChange(after version: UInt64?, settle: Duration = .milliseconds(20), timeout: Duration = .seconds(5),
                           fallback: Duration = .milliseconds(250)) async throws {
        if version == nil {
            try await Task.sleep(for: fallback)
            return
        }
        await waitForChange(since: version, timeout: timeout)
        try await Task.sleep(for: settle)
    }
}
