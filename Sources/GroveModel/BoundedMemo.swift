import Synchronization

/// Remembers the results of a pure function of its key, within a budget (a cost the caller gives per entry, such as
/// the bytes of the key). Entries are keyed by the function's whole input, so one can never be stale: a changed record
/// is a different key. Two generations approximate least-recently-used at O(1): when the young generation fills it
/// becomes the old one (the previous old one is dropped), and a hit in the old generation moves back to the young one.
public final class BoundedMemo<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    // Inlinable, so callers in other modules get code specialized to their key and value types instead of generic
    // dictionary lookups through witness tables.
    @usableFromInline struct Generations {
        @usableFromInline var young: [Key: Value] = [:]
        @usableFromInline var old: [Key: Value] = [:]
        @usableFromInline var youngCost = 0
        @usableFromInline init() {}
    }

    @usableFromInline let state = Mutex(Generations())
    /// Cost a generation holds before it ages; the memo holds at most about twice this.
    public let budget: Int

    /// A budget of 0 turns the memo off: every call computes.
    public init(budget: Int) { self.budget = budget }

    @inlinable public var isEnabled: Bool { budget > 0 }

    /// The remembered value for `key`, or `make()`'s, which is remembered at `cost`.
    @inlinable public func value(for key: Key, cost: Int, make: () throws -> Value) rethrows -> Value {
        guard budget > 0 else { return try make() }
        let found: Value? = state.withLock { s in
            if let v = s.young[key] { return v }
            guard let v = s.old.removeValue(forKey: key) else { return nil }
            Self.insert(&s, key, v, cost, budget)
            return v
        }
        if let found { return found }
        let v = try make()
        state.withLock { Self.insert(&$0, key, v, cost, budget) }
        return v
    }

    public var count: Int { state.withLock { $0.young.count + $0.old.count } }

    @inlinable static func insert(_ s: inout Generations, _ key: Key, _ value: Value, _ cost: Int, _ budget: Int) {
        if s.youngCost + cost > budget {
            s.old = s.young
            s.young = [:]
            s.youngCost = 0
        }
        if s.young.updateValue(value, forKey: key) == nil { s.youngCost += max(cost, 1) }
    }
}
