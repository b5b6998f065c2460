import Foundation
import Synchronization

/// The accounts sshd sees in its own mount namespace: the host's `/etc/passwd` and `/etc/group` plus one account per
/// SSH user name Grove serves, each with a uid of its own from a range no host account uses. sshd runs a login's
/// helpers as that uid, which is how the bridge knows which user name a helper (or a tunnel's connection) speaks for.
/// The files are rewritten in place (the same inode stays bound over `/etc/passwd`) when the names change.
final class OpenSSHAccounts: Sendable {
    /// Grove's uids lie above every host account's (below 2^31, which some tools read as signed). Each server takes
    /// a block of its own at random, so servers sharing a host (tests do) rarely share uids: a tunnel's uid names an
    /// account of the server whose forwarder it reaches.
    static let firstUID: uid_t = 2_000_000_000
    static let blockSize: uid_t = 10_000
    static let blocks: uid_t = 14_000
    static let authorizerName = "grove-ssh"
    /// The first uid of this server's block; the authorizer (sshd's `AuthorizedKeysCommandUser`) has it, accounts follow.
    let baseUID: uid_t
    var authorizerUID: uid_t { baseUID }

    let passwdPath: String
    let groupPath: String
    private let hostPasswd: [String]
    private let hostGroup: [String]
    private let hostNames: Set<String>
    private struct State {
        var uids: [String: uid_t] = [:]
        var names: [uid_t: String] = [:]
        var next: uid_t = 0
        var current: Set<String> = []
        var written = false
    }
    private let state = Mutex(State())

    init(directory: String, block: uid_t = uid_t.random(in: 0..<OpenSSHAccounts.blocks)) {
        baseUID = Self.firstUID + block * Self.blockSize
        passwdPath = (directory as NSString).appendingPathComponent("passwd")
        groupPath = (directory as NSString).appendingPathComponent("group")
        func lines(_ path: String) -> [String] {
            (try? String(contentsOfFile: path, encoding: .utf8))?.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") && $0.contains(":") } ?? []
        }
        hostPasswd = lines("/etc/passwd").filter { !$0.hasPrefix(Self.authorizerName + ":") }
        hostGroup = lines("/etc/group").filter { !$0.hasPrefix(Self.authorizerName + ":") }
        hostNames = Set(hostPasswd.compactMap { $0.split(separator: ":").first.map(String.init) })
    }

    /// A name sshd may carry: what Grove's targets and project ids are made of, nothing a passwd line could misread.
    static func acceptable(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.utf8.count <= 200, first != "-", first != "." else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" || $0 == "." }
    }

    func uid(of name: String) -> uid_t? {
        state.withLock { $0.current.contains(name) ? $0.uids[name] : nil }
    }

    func name(of uid: uid_t) -> String? {
        state.withLock { s in s.names[uid].flatMap { s.current.contains($0) ? $0 : nil } }
    }

    /// A shell target (`<project>-<environment>--<app>...`) rather than a repository (`<project>`).
    func isTarget(_ name: String) -> Bool { name.contains("--") }

    /// Makes `names` the served accounts; writes the files when they changed (or were never written).
    func update(_ names: Set<String>) throws {
        let wanted = Set(names.filter { Self.acceptable($0) && !hostNames.contains($0) && $0 != Self.authorizerName })
        let base = baseUID
        let entries: [(String, uid_t)]? = state.withLock { s in
            guard !s.written || wanted != s.current else { return nil }
            if s.next == 0 { s.next = base + 1 }
            // Names beyond the block get no account (a server with more than ten thousand targets at once).
            for name in wanted.sorted() where s.uids[name] == nil && s.next < base + Self.blockSize {
                s.uids[name] = s.next
                s.names[s.next] = name
                s.next += 1
            }
            s.current = wanted.filter { s.uids[$0] != nil }
            s.written = true
            return wanted.sorted().compactMap { n in s.uids[n].map { (n, $0) } }
        }
        guard let entries else { return }
        let gid = baseUID
        var passwd = hostPasswd
        passwd.append("\(Self.authorizerName):x:\(baseUID):\(gid)::/nonexistent:/usr/sbin/nologin")
        passwd += entries.map { "\($0.0):x:\($0.1):\(gid)::/:/bin/sh" }
        let group = hostGroup + ["\(Self.authorizerName):x:\(gid):"]
        try Self.rewrite(passwdPath, passwd.joined(separator: "\n") + "\n")
        try Self.rewrite(groupPath, group.joined(separator: "\n") + "\n")
    }

    /// Truncates and writes `path` in one write, keeping its inode (it is bind-mounted).
    static func rewrite(_ path: String, _ text: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SSHRefusal("cannot write \(path)") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { buf -> Int in
                guard let base = buf.baseAddress else { return -1 }
                return write(fd, base + offset, bytes.count - offset)
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw SSHRefusal("cannot write \(path)") }
            offset += n
        }
    }
}
