import Foundation
import GroveModel
import NIOCore
import Synchronization

/// Rendered `200` JSON answers to GET requests, per caller and URL, valid while the store's answer version stays
/// the same. Every committed write but an activity log line bumps that version (outside writes within the store's poll
/// interval), so an entry never outlives the data it was rendered from by more than that interval; the responder keys
/// answers that show a log on the change version too.
final class ResponseCache: Sendable {
    /// One rendered answer, and its gzip form once a client that accepts gzip has asked for it again. Every entry is of
    /// the cache's one current version (older ones are dropped when it moves), so entries carry none of their own.
    struct Entry {
        var body: ByteBuffer
        var gzipped: ByteBuffer?
    }
    private struct State {
        var entries: [String: Entry] = [:]
        var version: UInt64 = 0
    }
    private let state = Mutex(State())
    private let maxEntries: Int

    init(maxEntries: Int = 2048) { self.maxEntries = maxEntries }

    func get(_ key: String, version: UInt64) -> Entry? {
        state.withLock { s in
            guard s.version == version else { return nil }
            return s.entries[key]
        }
    }

    func put(_ key: String, version: UInt64, body: ByteBuffer) {
        state.withLock { s in
            // Entries of older versions are dead; drop them all when the version moves on or the cache is full.
            if version != s.version || s.entries.count >= maxEntries {
                s.entries.removeAll(keepingCapacity: true)
                s.version = version
            }
            s.entries[key] = Entry(body: body)
        }
    }

    /// The gzip form of an entry: compressed outside the lock the first time, then kept beside the body (as long as the
    /// entry is still the one of this version). nil when the entry is gone or zlib failed.
    func gzipped(_ key: String, version: UInt64, entry: Entry) -> ByteBuffer? {
        if let done = entry.gzipped { return done }
        guard let compressed = ContentEncoding.gzip(entry.body) else { return nil }
        state.withLock { s in
            if s.version == version { s.entries[key]?.gzipped = compressed }
        }
        return compressed
    }
}

/// Access tokens already verified, so a client reusing its token skips the signature check and claim parsing.
/// Expiry is still checked on every use; revocation is checked against the store outside the response cache.
final class VerifiedTokenCache: Sendable {
    private let entries = Mutex<[String: (claims: JSONObject, exp: Int64)]>([:])
    private let maxEntries = 4096

    func claims(for token: String, now: Int64) -> JSONObject? {
        entries.withLock { entries in
            guard let e = entries[token] else { return nil }
            if e.exp <= now { entries[token] = nil; return nil }
            return e.claims
        }
    }

    func put(_ token: String, claims: JSONObject, exp: Int64) {
        entries.withLock { entries in
            if entries.count >= maxEntries { entries.removeAll(keepingCapacity: true) }
            entries[token] = (claims, exp)
        }
    }
}
