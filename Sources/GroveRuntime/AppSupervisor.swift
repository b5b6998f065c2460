import Foundation
import Logging

/// Keeps long-running application processes (web and workers) alive: a process that exits is started
/// again after a backoff that doubles up to 30 s, and every exit is written to its log.
public actor AppSupervisor {
    public struct Spec: Sendable {
        public var argv: [String]
        public var env: [String: String]
        public var cwd: String?
        public var logPath: String
        public init(argv: [String], env: [String: String], cwd: String?, logPath: String) {
            self.argv = argv; self.env = env; self.cwd = cwd; self.logPath = logPath
        }
    }

    /// One supervised process; it lives only in `instances`, so the actor alone changes it.
    struct Instance {
        let spec: Spec
        var pid: pid_t
        var restarts = 0
        var monitor: Task<Void, Never>?
    }

    private var instances: [String: Instance] = [:]
    let logger: Logger

    /// Told every time a supervised process exits: its key, exit status and how often it has exited so far.
    let onExit: (@Sendable (_ key: String, _ status: Int32, _ exits: Int) -> Void)?

    public init(logger: Logger, onExit: (@Sendable (_ key: String, _ status: Int32, _ exits: Int) -> Void)? = nil) {
        self.logger = logger
        self.onExit = onExit
    }

    /// Starts `spec` under `key` (replacing nothing: keys are unique per deployment generation).
    public func start(_ key: String, _ spec: Spec) throws {
        let pid = try Exec.spawn(spec.argv, env: spec.env, cwd: spec.cwd, logPath: spec.logPath)
        instances[key] = Instance(spec: spec, pid: pid)
        instances[key]?.monitor = Task { await self.watch(key) }
    }

    /// Restarts the process whenever it exits, until `stop` removes it.
    private func watch(_ key: String) async {
        var backoff: Duration = .seconds(1)
        while let pid = instances[key]?.pid {
            let status = await Exec.wait(pid)
            guard let inst = instances[key], !Task.isCancelled else { return }
            instances[key]?.restarts += 1
            Self.note(inst.spec.logPath, "grove: the process exited with status \(status); restarting in \(backoff.components.seconds) s")
            logger.warning("process exited", metadata: ["instance": "\(key)", "status": "\(status)", "restarts": "\(inst.restarts + 1)"])
            onExit?(key, status, inst.restarts + 1)
            try? await Task.sleep(for: backoff)
            guard instances[key] != nil, !Task.isCancelled else { return }
            backoff = min(backoff * 2, .seconds(30))
            do { instances[key]?.pid = try Exec.spawn(inst.spec.argv, env: inst.spec.env, cwd: inst.spec.cwd, logPath: inst.spec.logPath) } catch {
                Self.note(inst.spec.logPath, "grove: cannot restart: \(error)")
                return
            }
        }
    }

    /// The process currently running under `key`.
    public func pid(_ key: String) -> pid_t? { instances[key]?.pid }

    /// How often the process has exited since it was started, nil for an unknown key.
    public func restarts(_ key: String) -> Int? { instances[key]?.restarts }

    public func isRunning(_ key: String) -> Bool { instances[key] != nil }

    /// Stops the process group: SIGTERM, then SIGKILL after `grace`.
    public func stop(_ key: String, grace: Duration = .seconds(10)) async {
        // Gone from `instances` first: its watcher sees that and does not restart it.
        guard let inst = instances.removeValue(forKey: key) else { return }
        await Exec.stop(inst.pid, grace: grace)
        inst.monitor?.cancel()
    }

    public func stopAll(grace: Duration = .seconds(5)) async {
        for key in Array(instances.keys) { await stop(key, grace: grace) }
    }

    public var keys: [String] { Array(instances.keys) }

    static func note(_ path: String, _ line: String) {
        guard let h = FileHandle(forWritingAtPath: path) else { return }
        defer { try? h.close() }
        h.seekToEndOfFile()
        h.write(Data((line + "\n").utf8))
    }
}
