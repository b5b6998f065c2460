import Foundation
import GroveModel

/// Decoded records keyed by their type and stored JSON text. Decoding is a pure function of both, so an entry is never
/// stale and needs no invalidation; a list whose rows did not change since the last read decodes nothing. Any store
/// of the process may share one.
public struct RecordMemo: Sendable {
    struct Key: Hashable, Sendable {
        let type: ObjectIdentifier
        let text: String

        // Byte for byte: String's == would call canonically equivalent texts (NFC and NFD) the same record.
        static func == (a: Key, b: Key) -> Bool {
            guard a.type == b.type else { return false }
            let contiguous = a.text.utf8.withContiguousStorageIfAvailable { x in
                b.text.utf8.withContiguousStorageIfAvailable { y in
                    // memcmp: the generic elementsEqual walks byte by byte and was a tenth of an uncached list's CPU.
                    guard x.count == y.count else { return false }
                    guard let xa = x.baseAddress, let ya = y.baseAddress else { return true }
                    return memcmp(xa, ya, x.count) == 0
                }
            }
            if let contiguous, let same = contiguous { return same }
            return a.text.utf8.elementsEqual(b.text.utf8)
        }

        // Equality compares the whole text; the hash reads its length, both ends and every 16th byte between, which
        // tells records apart at a fraction of the cost of hashing every byte of every row of a list.
        func hash(into h: inout Hasher) {
            h.combine(type)
            let sampled: Void? = text.utf8.withContiguousStorageIfAvailable { b in
                h.combine(b.count)
                let ends = min(b.count, 48)
                h.combine(bytes: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: b[0..<ends])))
                h.combine(bytes: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: b[(b.count - ends)...])))
                var i = ends, acc: UInt64 = 0
                while i < b.count - ends {
                    acc = (acc &<< 5) &+ (acc &>> 59) ^ UInt64(b[i])
                    i += 16
                }
                h.combine(acc)
            }
            if sampled == nil { h.combine(text) }
        }
    }

    private let memo: BoundedMemo<Key, any Sendable>

    /// `budget`: bytes of stored text a generation holds (the memo keeps at most about twice that); 0 turns it off.
    public init(budget: Int = 8 << 20) { memo = BoundedMemo(budget: budget) }

    public var isEnabled: Bool { memo.isEnabled }

    public func decode<T: Decodable & Sendable>(_ type: T.Type, from text: String) throws -> T {
        guard memo.isEnabled else { return try JSONValueDecoder.decode(T.self, from: text.utf8) }
        let value = try memo.value(for: Key(type: ObjectIdentifier(T.self), text: text), cost: text.utf8.count + 64) {
            try JSONValueDecoder.decode(T.self, from: text.utf8)
        }
        if let typed = value as? T { return typed }
        return try JSONValueDecoder.decode(T.self, from: text.utf8)
    }
}
