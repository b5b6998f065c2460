import Foundation

/// Rendered `200` JSON answers to GET requests, per caller and URL, valid while the store's change version stays
/// the same. Every committed write bumps that version (outside writes within the store's poll interval), so an entry
/// never outlives the data it was rendered from by more than that interval.
final class ResponseCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: (version: UInt64, body: [UInt8])] = [:]
    private var entriesVersion: UInt64 = 0
    private let maxEntries: Int

    init(maxEntries: Int = 2048) { self.maxEntries = maxEntries }

    func get(_ key: String, version: UInt64) -> [UInt8]? {
        lock.lock(); defer { lock.unlock() }
        guard let e = entries[key], e.version == version else { return nil }
        return e.body
    }

    func put(_ key: String, version: UInt64, body: [UInt8]) {
        lock.lock(); defer { lock.unlock() }
        // Entries of older versions are dead; drop them all when the version moves on or the cache is full.
        if version != entriesVersion || entries.count >= maxEntries {
            entries.removeAll(keepingCapacity: true)
            entriesVersion = version
        }
        entries[key] = (version, body)
    }
}
