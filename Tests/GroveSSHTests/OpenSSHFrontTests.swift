import Foundation
import GroveCredentials
@testable import GroveSSH
import Testing

@Suite("OpenSSH front: accounts, host key and configuration")
struct OpenSSHFrontTests {
    func scratch() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("openssh-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func run(_ argv: [String]) -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        do { try p.run() } catch { return (-1, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Names that could bend a passwd line, clash with the host's accounts or the authorizer never become accounts;
    /// a name keeps its uid across updates and loses its account (both ways) when it goes.
    @Test func accountsAreCheckedStableAndWrittenInPlace() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let accounts = OpenSSHAccounts(directory: dir)
        let hostile = ["root", "grove-ssh", "a:b", "a\nb", "../up", "-rf", ".hidden", "", "é", String(repeating: "a", count: 201), "a b", "a/b"]
        try accounts.update(Set(["p1", "p1-main-abc--app"] + hostile))
        let first = try String(contentsOfFile: accounts.passwdPath, encoding: .utf8)
        let ours = first.split(separator: "\n").filter { ($0.split(separator: ":").dropFirst(2).first).flatMap { UInt32($0) }.map { $0 >= accounts.baseUID } ?? false }
        #expect(ours.map { String($0.prefix { $0 != ":" }) }.sorted() == ["grove-ssh", "p1", "p1-main-abc--app"], "\(ours)")
        #expect(first.split(separator: "\n").filter { $0.hasPrefix("root:") }.count == (FileManager.default.fileExists(atPath: "/etc/passwd") ? 1 : 0))
        for name in hostile where name != "root" && name != "grove-ssh" { #expect(accounts.uid(of: name) == nil, "\(name)") }
        let app = try #require(accounts.uid(of: "p1-main-abc--app"))
        #expect(accounts.name(of: app) == "p1-main-abc--app" && accounts.isTarget("p1-main-abc--app") && !accounts.isTarget("p1"))
        #expect(accounts.uid(of: "p1") != app && accounts.name(of: accounts.authorizerUID) == nil)
        let inode = try FileManager.default.attributesOfItem(atPath: accounts.passwdPath)[.systemFileNumber] as? UInt64

        try accounts.update(["p1-main-abc--app", "p2"])
        #expect(accounts.uid(of: "p1-main-abc--app") == app)
        #expect(accounts.uid(of: "p1") == nil && accounts.name(of: app) == "p1-main-abc--app")
        let p2 = try #require(accounts.uid(of: "p2"))
        #expect(p2 != app)
        let second = try String(contentsOfFile: accounts.passwdPath, encoding: .utf8)
        #expect(second.contains("p2:x:\(p2):") && !second.contains("\np1:"))
        #expect(try FileManager.default.attributesOfItem(atPath: accounts.passwdPath)[.systemFileNumber] as? UInt64 == inode)
        #expect(try String(contentsOfFile: accounts.groupPath, encoding: .utf8).contains("grove-ssh:x:\(accounts.baseUID):"))
    }

    /// The host key sshd reads is the built-in server's: ssh-keygen derives the same public key from the file.
    @Test func hostKeyFileIsTheSameKey() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let key = try SSHHostKey.loadOrCreate(at: dir + "/seed")
        let path = dir + "/host_ed25519_key"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(key.openSSHPrivateKeyFile.utf8), attributes: [.posixPermissions: 0o600]))
        let derived = run(["/usr/bin/ssh-keygen", "-y", "-f", path])
        #expect(derived.status == 0 && derived.output.hasPrefix(key.publicKeyLine), "\(derived.output)")
    }

    /// sshd itself accepts the configuration Grove writes (when sshd is installed here).
    @Test(.enabled(if: geteuid() == 0 && FileManager.default.isExecutableFile(atPath: OpenSSHServer.sshd)
                   && FileManager.default.isExecutableFile(atPath: OpenSSHServer.bwrap)))
    func sshdAcceptsTheConfiguration() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let key = try SSHHostKey.loadOrCreate(at: dir + "/seed")
        let keyPath = dir + "/host_ed25519_key"
        #expect(FileManager.default.createFile(atPath: keyPath, contents: Data(key.openSSHPrivateKeyFile.utf8), attributes: [.posixPermissions: 0o600]))
        let config = dir + "/sshd_config"
        try OpenSSHServer.config(listen: "127.0.0.1:2222", hostKey: keyPath).write(toFile: config, atomically: true, encoding: .utf8)
        // In the namespace the server gives it: Grove's accounts, an empty privilege-separation directory.
        let accounts = OpenSSHAccounts(directory: dir)
        try accounts.update(["p1"])
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        chmod(dir, 0o755)
        let checked = run([OpenSSHServer.bwrap, "--dev-bind", "/", "/", "--ro-bind", accounts.passwdPath, "/etc/passwd", "--ro-bind", accounts.groupPath, "/etc/group",
                           "--bind", dir + "/empty", "/run/sshd", OpenSSHServer.sshd, "-t", "-f", config])
        #expect(checked.status == 0, "\(checked.output)")
    }
}
