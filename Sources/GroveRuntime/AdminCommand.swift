import Foundation
import GroveProcess

/// Runs a short administrative command (btrfs, cp, initdb, psql, ...) to completion and collects its output.
public enum AdminCommand {
    public struct Output: Sendable {
        public let status: Int32
        /// Standard output and error together, trimmed.
        public let text: String
    }

    public static func run(_ argv: [String], environment: [String: String]? = nil) async throws -> Output {
        guard !argv.isEmpty else { throw RuntimeError("no command to run") }
        let out: Subprocess.Output
        do { out = try await Subprocess.run(argv, environment: environment, mergeErrors: true) } catch let e as Subprocess.SpawnError {
            throw RuntimeError(e.description)
        }
        return Output(status: out.status, text: String(decoding: out.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
