import Foundation

/// Monotonic queue positions: microseconds since the epoch, never repeating within a process.
public final class SequenceClock: @unchecked Sendable {
    public static let shared = SequenceClock()
    private let lock = NSLock()
    private var last: Int64 = 0

    public func next() -> Int64 {
        lock.lock()
        defer { lock.unlock() }
        let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
        last = max(now, last + 1)
        return last
    }
}
