import Foundation
import Logging

/// How application processes are confined. With bubblewrap they get their own mount and PID namespaces:
/// the host root read-only, the application read-only at `/app` (writable while building), writable
/// mounts, a private `/tmp`. Without it (no `bwrap`, or namespaces refused) they run as plain processes,
/// and `grove serve` says so once.
public struct Sandbox: Sendable {
    public enum Mode: String, Sendable { case bubblewrap, plain }

    public let mode: Mode
    let bwrap: String?
    /// The host's top-level directories, bound read-only (symlinks recreated), so `/app` can be a mount point.
    let rootBinds: [String]

    /// bubblewrap's path when the sandbox uses it.
    public var bubblewrapPath: String? { mode == .bubblewrap ? bwrap : nil }

    /// The fixed path applications see as their home inside the sandbox.
    public static let appDir = "/app"

    /// Probes bubblewrap once: present and able to create namespaces here.
    /// `hidden`: host directories replaced by an empty tmpfs inside the sandbox (the data directory: its database
    /// holds the signing secret and other projects' data); what applications need from it is bound back explicitly.
    public static func detect(logger: Logger, hidden: [String] = []) -> Sandbox {
        for candidate in ["/usr/bin/bwrap", "/bin/bwrap"] where FileManager.default.isExecutableFile(atPath: candidate) {
            if let out = try? Exec.runSync(candidate, ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid", "--die-with-parent", "true"], env: [:]),
               out == 0 {
                logger.info("sandbox: bubblewrap (\(candidate)); applications run in their own namespaces")
                return Sandbox(mode: .bubblewrap, bwrap: candidate, hidden: hidden)
            }
            logger.warning("sandbox: \(candidate) cannot create namespaces here; applications run as plain processes")
            return Sandbox(mode: .plain, bwrap: nil)
        }
        logger.warning("sandbox: bubblewrap is not installed (apt-get install bubblewrap); applications run as plain processes")
        return Sandbox(mode: .plain, bwrap: nil)
    }

    let hidden: [String]

    public init(mode: Mode, bwrap: String?, hidden: [String] = []) {
        self.mode = mode
        self.bwrap = bwrap
        self.hidden = hidden.map { ($0 as NSString).standardizingPath }
        var binds: [String] = []
        let fm = FileManager.default
        for name in ((try? fm.contentsOfDirectory(atPath: "/")) ?? []).sorted() where !["proc", "dev", "tmp", "app", "lost+found"].contains(name) {
            let path = "/" + name
            if let target = try? fm.destinationOfSymbolicLink(atPath: path) {
                binds += ["--symlink", target, path]
            } else {
                var isDir: ObjCBool = false
                if fm.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue { binds += ["--ro-bind", path, path] }
            }
        }
        rootBinds = binds
    }

    /// Where the application directory is, as the process sees it.
    public func appPath(hostPath: String) -> String { mode == .bubblewrap ? Self.appDir : hostPath }

    /// The argv that runs `command` (a shell script) confined to `app` (host path), with `mounts`
    /// (host path -> path inside the app dir) writable. `writableApp` is for builds.
    public func command(_ script: String, app: String, writableApp: Bool, mounts: [(host: String, inApp: String)] = [],
                        extraBinds: [(host: String, inside: String)] = []) -> [String] {
        guard mode == .bubblewrap, let bwrap else {
            return ["/bin/bash", "-c", script]
        }
        var argv = [bwrap] + rootBinds + ["--dev", "/dev", "--proc", "/proc", "--perms", "1777", "--tmpfs", "/tmp",
                    "--unshare-pid", "--die-with-parent", "--new-session"]
        for h in hidden where FileManager.default.fileExists(atPath: h) && !h.hasPrefix("/tmp/") { argv += ["--tmpfs", h] }
        argv += [writableApp ? "--bind" : "--ro-bind", app, Self.appDir]
        for m in mounts { argv += ["--bind", m.host, Self.appDir + "/" + m.inApp] }
        for b in extraBinds {
            // Directories bubblewrap makes on the way to a bind are private (0700); services dropping to their own
            // user must be able to walk them.
            var path = ""
            for part in b.inside.split(separator: "/").dropLast() {
                path += "/" + part
                argv += ["--perms", "0755", "--dir", path]
            }
            argv += ["--bind", b.host, b.inside]
        }
        argv += ["--chdir", Self.appDir, "/bin/bash", "-c", script]
        return argv
    }
}
