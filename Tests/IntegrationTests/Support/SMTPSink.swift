import Foundation

/// A local SMTP server that keeps every message it receives in one file (Tests/Fixtures/smtp-sink.py); each message
/// is written with its `RCPT:` lines and ends with `--END--`.
struct SMTPSink {
    let dir: String
    let port: String
    let child: Spawned

    static func start() async throws -> SMTPSink {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let child = try Spawn.start("/usr/bin/python3", [Paths.root.appendingPathComponent("Tests/Fixtures/smtp-sink.py").path, dir + "/mail", dir + "/port"])
        do {
            return SMTPSink(dir: dir, port: try await child.announced(dir + "/port"), child: child)
        } catch {
            child.signal(SIGKILL)
            _ = child.wait()
            throw error
        }
    }

    /// Everything received so far.
    var text: String { (try? String(contentsOfFile: dir + "/mail", encoding: .utf8)) ?? "" }
    var messages: [String] { text.components(separatedBy: "--END--") }

    func stop() {
        child.signal(SIGKILL)
        _ = child.wait()
        try? FileManager.default.removeItem(atPath: dir)
    }
}
