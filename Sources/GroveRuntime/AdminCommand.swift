import Foundation

/// Runs a short administrative command (btrfs, cp, initdb, psql, ...) to completion and collects its output.
public enum AdminCommand {
    public struct Output: Sendable {
        public let status: Int32
        /// Standard output and error together, trimmed.
        public let text: String
    }

    public static func run(_ argv: [String], environment: [String: String]? = nil) async throws -> Output {
        guard let exe = argv.first else { throw RuntimeError("no command to run") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = Array(argv.dropFirst())
        if let environment { p.environment = environment }
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        p.standardInput = FileHandle.nullDevice
        return try await withCheckedThrowingContinuation { c in
            p.terminationHandler = { proc in
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                c.resume(returning: Output(status: proc.terminationStatus, text: String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
            }
            do { try p.run() } catch { c.resume(throwing: error) }
        }
    }
}
