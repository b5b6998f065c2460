import GroveDriver
import GroveModel

/// When a restart becomes a crash loop worth telling people about, and how often they are told.
struct HealthWatch {
    /// Restarts of one instance within `window` that make a crash loop.
    static let crashes = 3
    static let window: Duration = .seconds(300)
    /// One alert per subject per `quiet` at most.
    static let quiet: Duration = .seconds(600)

    var restarts: [String: [ContinuousClock.Instant]] = [:]
    var alerted: [String: ContinuousClock.Instant] = [:]

    /// Records a restart; true when it completes a crash loop not yet alerted.
    mutating func restart(_ subject: String, at now: ContinuousClock.Instant = .now) -> Bool {
        var times = (restarts[subject] ?? []).filter { now - $0 < Self.window }
        times.append(now)
        restarts[subject] = times
        guard times.count >= Self.crashes else { return false }
        return shouldAlert(subject, at: now)
    }

    mutating func shouldAlert(_ subject: String, at now: ContinuousClock.Instant = .now) -> Bool {
        if let last = alerted[subject], now - last < Self.quiet { return false }
        alerted[subject] = now
        return true
    }
}

extension Deployer {
    func instanceRestarted(_ spec: InstanceSpec, error: String?) {
        let what = spec.kind == "web" ? "application \(spec.app)" : "\(spec.kind.replacingOccurrences(of: "worker:", with: "worker ")) of \(spec.app)"
        guard healthWatch.restart("\(spec.environment)/\(spec.app)/\(spec.kind)") else { return }
        healthSink.yield(HealthEvent(projectId: spec.environment.projectId, environmentId: spec.environment.environmentId, kind: .crashLoop,
                                     subject: spec.kind == "web" ? spec.app : "\(spec.app):\(spec.kind)",
                                     message: "The \(what) keeps crashing: \(HealthWatch.crashes) restarts within \(HealthWatch.window.components.seconds / 60) minutes (\(error ?? "it exited")).",
                                     createdAt: Timestamp.now()))
    }

    func serviceWentDown(_ d: ServiceDown) {
        let full = d.kind == .diskFull
        guard healthWatch.shouldAlert("\(d.environment)/service/\(d.service)/\(full ? "disk" : "down")") else { return }
        healthSink.yield(HealthEvent(projectId: d.environment.projectId, environmentId: d.environment.environmentId, kind: full ? .diskFull : .serviceDown,
                                     subject: d.service, message: full ? "The service \(d.service) is out of space: \(d.detail)." : "The service \(d.service) went down: \(d.detail).",
                                     createdAt: Timestamp.now()))
    }
}
