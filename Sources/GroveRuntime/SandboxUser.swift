import Foundation
import Logging

/// The unprivileged account tenant code runs as (Platform.sh's `web` user). Grove, running as root, makes a system
/// account `grove-web` on first start; processes switch to it inside their sandbox with `setpriv`, with no
/// supplementary groups and no way back to privileges (`no_new_privs`: setuid programs do not elevate).
public struct SandboxUser: Sendable, Equatable {
    public let name: String
    public let uid: uid_t
    public let gid: gid_t

    public init(name: String, uid: uid_t, gid: gid_t) { self.name = name; self.uid = uid; self.gid = gid }

    public static let accountName = "grove-web"

    /// The tenant account when Grove runs as root (made if missing); nil otherwise.
    public static func tenant(logger: Logger) -> SandboxUser? {
        guard geteuid() == 0 else { return nil }
        // Several servers starting at once (tests) race to make the account: whoever loses finds it made, or retries
        // when /etc/passwd was locked by the winner.
        for attempt in 0..<5 {
            if let u = lookup(accountName) { return u }
            _ = try? Exec.runSync("/usr/sbin/useradd", ["--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
                                                        "--shell", "/usr/sbin/nologin", accountName], env: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
            if let u = lookup(accountName) { return u }
            usleep(useconds_t(100_000 * (attempt + 1)))
        }
        // No useradd (a minimal image): a numeric id no account on this host holds.
        logger.warning("sandbox: cannot create the \(accountName) account; tenant code runs as uid 64100 without an account name")
        return SandboxUser(name: "uid 64100", uid: 64100, gid: 64100)
    }

    static func lookup(_ name: String) -> SandboxUser? {
        guard let pw = getpwnam(name) else { return nil }
        return SandboxUser(name: name, uid: pw.pointee.pw_uid, gid: pw.pointee.pw_gid)
    }

    /// The argv prefix that runs the rest as this user.
    public var dropArguments: [String] {
        ["/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "--no-new-privs", "--"]
    }

    /// Hands a tree the host prepared (a fresh checkout, a build directory) to this user. Links are changed
    /// themselves, never followed.
    public func own(_ path: String) async throws {
        let out = try await AdminCommand.run(ownArguments(path))
        guard out.status == 0 else { throw RuntimeError("cannot hand \(path) to \(name): \(out.text)") }
    }

    /// chown of a whole tree that changes links themselves and never follows them.
    func ownArguments(_ path: String) -> [String] { ["/bin/chown", "-R", "-P", "-h", "\(uid):\(gid)", path] }
}
