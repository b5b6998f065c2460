import Foundation
import GroveModel
import Logging

/// Opens the store a `--database-url` names: `sqlite:PATH` or `postgres://...`.
public enum StoreFactory {
    public static func open(url: String, logger: Logger, sealer: SecretSealer? = nil, records: RecordMemo = RecordMemo()) async throws -> SQLStore {
        let db: any SQLDatabase
        if url.hasPrefix("sqlite:") {
            var path = String(url.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path = String(path.dropFirst(2)) }
            guard !path.isEmpty else { throw StoreError.invalidURL(url) }
            let dir = (path as NSString).deletingLastPathComponent
            if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            db = try await SQLiteDatabase.open(path: path, logger: logger)
        } else if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            db = try await PostgresDatabase.connect(url: url, logger: logger)
        } else {
            throw StoreError.invalidURL("\(url) (expected sqlite:PATH or postgres://user:pass@host:port/db)")
        }
        try await Migrations.apply(to: db)
        return SQLStore(db: db, sealer: sealer, records: records)
    }
}
