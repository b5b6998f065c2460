import Dispatch

/// Where configuration is parsed and validated: a serial queue of its own, away from Swift's cooperative pool.
/// That pool has one thread per core; a push's configuration is untrusted input, and however bounded, its parsing
/// must never be what keeps the API, the router's control or shutdown from running.
public final class ConfigExecutor: TaskExecutor, Sendable {
    public static let shared = ConfigExecutor()
    private let queue = DispatchQueue(label: "grove.config-parsing", qos: .utility)

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
