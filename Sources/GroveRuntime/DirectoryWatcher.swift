import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Calls `onChange` when files in watched directories are written, created or moved in (inotify). A thread of its
/// own blocks in `poll` on the inotify descriptor and a stop pipe, so waiting for log lines costs no CPU.
public final class DirectoryWatcher: Sendable {
    private let fd: Int32
    private let stopPipe: (read: Int32, write: Int32)
    private let watches = Mutex<[String: Int32]>([:])
    private let onChange: @Sendable () -> Void

    public init?(onChange: @escaping @Sendable () -> Void) {
        let fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { return nil }
        var p: [Int32] = [0, 0]
        guard pipe(&p) == 0 else { close(fd); return nil }
        self.fd = fd
        self.stopPipe = (p[0], p[1])
        self.onChange = onChange
        let thread = Thread { [self] in self.loop() }
        thread.name = "grove-directory-watcher"
        thread.start()
    }

    /// Watches exactly `directories` from now on (those missing are skipped until they exist).
    public func watch(_ directories: Set<String>) {
        watches.withLock { current in
            for (dir, wd) in current where !directories.contains(dir) {
                inotify_rm_watch(fd, wd)
                current[dir] = nil
            }
            for dir in directories where current[dir] == nil {
                let wd = inotify_add_watch(fd, dir, UInt32(IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE))
                if wd >= 0 { current[dir] = wd }
            }
        }
    }

    public func stop() {
        var b: UInt8 = 1
        _ = write(stopPipe.write, &b, 1)
    }

    private func loop() {
        var buffer = [UInt8](repeating: 0, count: 8192)
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: stopPipe.read, events: Int16(POLLIN), revents: 0)]
        while true {
            fds[0].revents = 0
            fds[1].revents = 0
            let n = poll(&fds, 2, -1)
            if n < 0 && errno == EINTR { continue }
            if n < 0 || fds[1].revents != 0 { break }
            var changed = false
            while read(fd, &buffer, buffer.count) > 0 { changed = true }
            if changed { onChange() }
        }
        close(fd)
        close(stopPipe.read)
        close(stopPipe.write)
    }
}
