#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Tells when a SQLite database in WAL mode may have a new commit: every commit, from any process, writes the `-wal`
/// file, and inotify reports the write. The database then checks `PRAGMA data_version` once per wakeup instead of
/// on a timer, so an idle server does no work. A thread of its own blocks in `read` on the inotify descriptor (no CPU
/// while nothing is written); `stop` removes the watch, whose `IN_IGNORED` event ends that thread.
final class WALWatcher: Sendable {
    /// Moves on each batch of writes to the file.
    let signals = ChangeCounter()
    private let fd: Int32
    private let wd: Int32

    /// nil where inotify is unavailable (the caller then polls). Watches the directory, not the file: SQLite creates
    /// the `-wal` file with the first write.
    init?(databasePath: String) {
        #if canImport(Glibc)
        let url = URL(fileURLWithPath: databasePath)
        let directory = url.deletingLastPathComponent().path
        let walName = Array((url.lastPathComponent + "-wal").utf8)
        let fd = inotify_init1(Int32(IN_CLOEXEC))
        guard fd >= 0 else { return nil }
        let wd = inotify_add_watch(fd, directory, UInt32(IN_MODIFY | IN_CREATE))
        guard wd >= 0 else {
            Glibc.close(fd)
            return nil
        }
        self.fd = fd
        self.wd = wd
        let signals = self.signals
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 8192)
            reading: while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { break }
                // Events are `inotify_event` headers (wd, mask, cookie, len) followed by `len` bytes of NUL-padded name.
                var offset = 0, written = false
                while offset + 16 <= n {
                    let mask = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self) }
                    let len = Int(buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self) })
                    if mask & UInt32(IN_IGNORED) != 0 { break reading }
                    let name = buffer[min(n, offset + 16)..<min(n, offset + 16 + len)].prefix { $0 != 0 }
                    if name.elementsEqual(walName) { written = true }
                    offset += 16 + len
                }
                if written { signals.bump() }
            }
            Glibc.close(fd)
        }
        thread.name = "grove-wal-watch"
        thread.start()
        #else
        return nil
        #endif
    }

    func stop() {
        #if canImport(Glibc)
        inotify_rm_watch(fd, wd)
        #endif
    }
}
