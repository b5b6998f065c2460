import Foundation
import Synchronization

/// Monotonic queue positions: microseconds since the epoch, never repeating within a process.
public final class SequenceClock: Sendable {
    public static let shared = SequenceClock()
    private let last = Mutex<Int64>(0)

    public func next() -> Int64 {
        let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
        return last.withLock { last in
            last = max(now, last + 1)
            return last
        }
    }
}
