import Foundation
import GroveProcess

/// git and other short programs run to completion with `input` on stdin, stdout and stderr collected.
public enum ChildProcess {
    public typealias Output = Subprocess.Output
    public typealias SpawnError = Subprocess.SpawnError

    public static func run(_ exe: String, _ args: [String], environment: [String: String], input: [UInt8] = []) async throws -> Output {
        try await Subprocess.run([exe] + args, environment: environment, input: input)
    }

    /// A started child with pipes on its stdin, stdout and stderr (our ends).
    struct Piped {
        let pid: pid_t
        let stdin: Int32
        let stdout: Int32
        let stderr: Int32
    }

    /// All three standard streams on pipes; a child that stops reading surfaces as a write error, not a SIGPIPE.
    static func spawnPiped(_ exe: String, _ args: [String], environment: [String: String]) throws -> Piped {
        var o = Subprocess.Options(environment: environment)
        o.stdin = .pipe
        o.stdout = .pipe
        o.stderr = .pipe
        _ = Subprocess.ignoreBrokenPipes
        let child = try Subprocess.spawn([exe] + args, o)
        guard let i = child.stdin, let out = child.stdout, let err = child.stderr else { throw Subprocess.SpawnError("pipes missing") }
        return Piped(pid: child.pid, stdin: i, stdout: out, stderr: err)
    }

    static func readAll(_ fd: Int32) -> [UInt8] { Subprocess.readAll(fd) }
}
