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
    /// The host's system directories, bound read-only (symlinks recreated), so `/app` can be a mount point.
    let rootBinds: [String]
    /// The unprivileged user tenant code (builds, apps, workers, crons, hooks, operations) runs as when Grove runs
    /// as root; nil when Grove itself is unprivileged (its processes cannot be more so).
    public let tenant: SandboxUser?
    /// Bytes of the private `/tmp` of each sandbox (nil: bubblewrap too old to limit it).
    public let tmpSize: Int?

    /// bubblewrap's path when the sandbox uses it.
    public var bubblewrapPath: String? { mode == .bubblewrap ? bwrap : nil }

    /// The fixed path applications see as their home inside the sandbox.
    public static let appDir = "/app"

    /// What of the host's root a sandbox sees: the runtimes' system directories. Not `/root`, `/home`, `/srv`,
    /// `/var`, `/opt`, `/mnt`, `/media` or anything else a host keeps (other checkouts, the data directory).
    static let systemDirectories: Set<String> = ["usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc"]
    /// Host secrets under `/etc` that a sandbox sees as empty even though its user could not read most of them.
    static let maskedFiles = ["/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/sudoers", "/etc/machine-id", "/etc/.pwd.lock"]
    static let maskedDirectories = ["/etc/ssh", "/etc/ssl/private", "/etc/sudoers.d", "/etc/grove", "/etc/cron.d"]
    /// Default size of a sandbox's `/tmp`.
    public static let defaultTmpBytes = 1 << 30

    /// Probes bubblewrap once: present and able to create namespaces here.
    /// `hidden`: host directories replaced by an empty tmpfs inside the sandbox (the data directory when it lies under
    /// a system directory); what applications need from it is bound back explicitly.
    public static func detect(logger: Logger, hidden: [String] = []) -> Sandbox {
        let tenant = SandboxUser.tenant(logger: logger)
        for candidate in ["/usr/bin/bwrap", "/bin/bwrap"] where FileManager.default.isExecutableFile(atPath: candidate) {
            if let out = try? Exec.runSync(candidate, ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid", "--die-with-parent", "true"], env: [:]),
               out == 0 {
                let sized = (try? Exec.runSync(candidate, ["--ro-bind", "/", "/", "--size", "1048576", "--tmpfs", "/tmp", "true"], env: [:])) == 0
                logger.info("sandbox: bubblewrap (\(candidate)); tenant code runs in its own namespaces\(tenant.map { " as \($0.name) (uid \($0.uid))" } ?? "")")
                if !sized { logger.notice("sandbox: this bubblewrap cannot size /tmp (needs 0.10); sandboxes' /tmp is bounded by memory only") }
                return Sandbox(mode: .bubblewrap, bwrap: candidate, hidden: hidden, tenant: tenant, tmpSize: sized ? defaultTmpBytes : nil)
            }
            logger.warning("sandbox: \(candidate) cannot create namespaces here; applications run as plain processes")
            return Sandbox(mode: .plain, bwrap: nil, tenant: tenant)
        }
        logger.warning("sandbox: bubblewrap is not installed (apt-get install bubblewrap); applications run as plain processes")
        return Sandbox(mode: .plain, bwrap: nil, tenant: tenant)
    }

    let hidden: [String]

    public init(mode: Mode, bwrap: String?, hidden: [String] = [], tenant: SandboxUser? = nil, tmpSize: Int? = nil) {
        self.mode = mode
        self.bwrap = bwrap
        self.tenant = tenant
        self.tmpSize = tmpSize
        self.hidden = hidden.map { ($0 as NSString).standardizingPath }
        var binds: [String] = []
        let fm = FileManager.default
        for name in ((try? fm.contentsOfDirectory(atPath: "/")) ?? []).sorted() where Self.systemDirectories.contains(name) {
            let path = "/" + name
            if let target = try? fm.destinationOfSymbolicLink(atPath: path) {
                binds += ["--symlink", target, path]
            } else {
                var isDir: ObjCBool = false
                if fm.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue { binds += ["--ro-bind", path, path] }
            }
        }
        for f in Self.maskedFiles where fm.fileExists(atPath: f) { binds += ["--ro-bind", "/dev/null", f] }
        for d in Self.maskedDirectories where fm.fileExists(atPath: d) { binds += ["--tmpfs", d, "--remount-ro", d] }
        // /etc/resolv.conf may point into /run (systemd-resolved); builds need it to reach package registries.
        if let target = try? fm.destinationOfSymbolicLink(atPath: "/etc/resolv.conf"), target.contains("/run/") {
            let real = target.hasPrefix("/") ? target : "/etc/" + target
            if fm.fileExists(atPath: real) { binds += ["--ro-bind", real, real] }
        }
        rootBinds = binds
    }

    /// Where the application directory is, as the process sees it.
    public func appPath(hostPath: String) -> String { mode == .bubblewrap ? Self.appDir : hostPath }

    /// The argv that runs `command` (a shell script) confined to `app` (host path), with `mounts`
    /// (host path -> path inside the app dir) writable. `writableApp` is for builds. `asTenant`: the script runs as
    /// the tenant user (services pass false: their scripts drop to the service's own user themselves).
    /// `ownTerminal`: the process keeps the terminal it is given as its controlling terminal (an SSH session's own
    /// pseudo-terminal, where job control and ^C must work); otherwise it gets a session of its own, so it can never
    /// push input into a terminal it shares with the host.
    public func command(_ script: String, app: String, writableApp: Bool, mounts: [(host: String, inApp: String)] = [],
                        extraBinds: [(host: String, inside: String)] = [], asTenant: Bool = true, ownTerminal: Bool = false) -> [String] {
        wrap(["/bin/bash", "-c", script], app: app, writableApp: writableApp, mounts: mounts, extraBinds: extraBinds, asTenant: asTenant, ownTerminal: ownTerminal)
    }

    /// The argv that runs `program` (an argv) in the sandbox `command` describes.
    public func wrap(_ program: [String], app: String, writableApp: Bool, mounts: [(host: String, inApp: String)] = [],
                     extraBinds: [(host: String, inside: String)] = [], asTenant: Bool = true, ownTerminal: Bool = false) -> [String] {
        guard mode == .bubblewrap, let bwrap else {
            return program
        }
        let drop = asTenant ? tenant.map { $0.dropArguments } ?? [] : []
        var argv = [bwrap] + rootBinds + ["--dev", "/dev", "--proc", "/proc", "--perms", "1777"]
        if let tmpSize { argv += ["--size", String(tmpSize)] }
        argv += ["--tmpfs", "/tmp", "--perms", "1777", "--dir", "/var/tmp", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--hostname", "grove",
                 "--die-with-parent"] + (ownTerminal ? [] : ["--new-session"])
        for h in hidden where FileManager.default.fileExists(atPath: h) && Self.systemDirectories.contains(where: { h.hasPrefix("/" + $0 + "/") }) {
            argv += ["--tmpfs", h]
        }
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
        argv += ["--chdir", Self.appDir] + drop + program
        return argv
    }
}
