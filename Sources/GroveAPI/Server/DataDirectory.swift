import Foundation
import Logging

/// The data directory holds the store, the secret key, repositories and every tenant's data: only the user Grove
/// runs as may enter it (0700), and the files Grove writes at its top are 0600.
enum DataDirectory {
    static func prepare(_ path: String, logger: Logger) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var st = stat()
        guard stat(path, &st) == 0 else { return }
        if st.st_mode & 0o077 != 0 {
            logger.notice("data directory \(path) was open to other users; now 0700")
            chmod(path, 0o700)
        }
    }

    /// Files at the top of the data directory (the SQLite store and its journals, keys, tokens) made private.
    static func restrict(_ path: String) throws {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
            let file = (path as NSString).appendingPathComponent(name)
            var st = stat()
            guard lstat(file, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_mode & 0o077 != 0 else { continue }
            chmod(file, st.st_mode & 0o700)
        }
    }
}
