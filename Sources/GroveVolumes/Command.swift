import Foundation

/// Runs a short administrative command (btrfs, cp, mount) and collects its output.
enum Command {
    struct Output: Sendable {
        let status: Int32
        let text: String
    }

    static func run(_ exe: String, _ args: [String]) async throws -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
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
