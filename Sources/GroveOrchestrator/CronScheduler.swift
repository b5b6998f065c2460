import Foundation
import GroveConfig
import GroveModel
import GroveStore
import Logging

/// Fires deployed applications' crons: at every minute it queues an `environment.cron` activity for each
/// cron whose schedule matches (in the application's timezone), unless the previous run is still queued or
/// running. The activity queue then runs them one at a time per environment, behind deployments.
public actor CronScheduler {
    let store: any Store
    let deployer: Deployer
    let logger: Logger
    private var loop: Task<Void, Never>?

    public init(store: any Store, deployer: Deployer, logger: Logger) {
        self.store = store
        self.deployer = deployer
        self.logger = logger
    }

    public func start() {
        loop = Task { [weak self] in
            while !Task.isCancelled {
                let now = Date()
                let next = (now.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60
                try? await Task.sleep(for: .milliseconds(Int((next - now.timeIntervalSince1970) * 1000) + 50))
                guard let self, !Task.isCancelled else { return }
                await self.tick(at: Date(timeIntervalSince1970: next))
            }
        }
    }

    public func stop() { loop?.cancel() }

    func tick(at minute: Date) async {
        for (projectId, envId, cron) in await deployer.scheduledCrons() {
            guard Self.due(cron, at: minute) else { continue }
            do {
                var filter = ActivityFilter(environmentId: envId)
                filter.types = ["environment.cron"]
                filter.states = [.pending, .inProgress]
                let open = try await store.activities(projectId: projectId, filter: filter)
                if open.contains(where: { $0.parameters["cron"]?.stringValue == cron.name && $0.parameters["application"]?.stringValue == cron.app }) { continue }
                let a = Activity(projectId: projectId, environments: [envId], type: "environment.cron", userId: nil,
                                 description: "Cron <em>\(cron.name)</em> of <application>\(cron.app)</application> ran",
                                 text: "Cron \(cron.name) of \(cron.app) ran",
                                 parameters: .object(JSONObject([("application", .string(cron.app)), ("cron", .string(cron.name)), ("spec", .string(cron.spec)),
                                                                 ("commands", .object(JSONObject([("start", .string(cron.start))]))),
                                                                 ("timeout", .int(Int64(cron.timeout)))])),
                                 seq: SequenceClock.shared.next(), createdAt: Timestamp.now())
                try await store.insertActivity(a)
            } catch {
                logger.error("cannot queue cron \(cron.name): \(error)")
            }
        }
    }

    /// Whether `cron` fires at `minute` in its application's timezone; `H` is derived from the cron's name.
    static func due(_ cron: Deployer.Cron, at minute: Date) -> Bool {
        var seed = 0
        for b in (cron.app + "/" + cron.name).utf8 { seed = (seed &* 31 &+ Int(b)) & 0x7fffffff }
        guard let spec = try? CronSpec(cron.spec, seed: seed) else { return false }
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: cron.timezone) ?? TimeZone(identifier: "UTC") ?? cal.timeZone
        let c = cal.dateComponents([.minute, .hour, .day, .month, .weekday], from: minute)
        return spec.matches(minute: c.minute ?? 0, hour: c.hour ?? 0, day: c.day ?? 1, month: c.month ?? 1, weekday: (c.weekday ?? 1) - 1)
    }
}

/// `environment.cron`: one run of a cron command, logged; a failing command fails the activity.
public struct CronRunner: ActivityRunner {
    let deployer: Deployer?
    public var resumable: Bool { false }
    public func run(_ ctx: ActivityContext) async throws {
        let p = ctx.activity.parameters
        guard let deployer, let env = ctx.activity.environments.first, let app = p["application"]?.stringValue,
              let command = p["commands"]?["start"]?.stringValue else { throw ActivityFailure("The cron activity is incomplete.") }
        try await ctx.log("Running cron \(p["cron"]?.stringValue ?? "") of \(app): \(command)")
        let status = try await deployer.runCron(projectId: ctx.activity.projectId, environmentId: env, app: app, command: command,
                                                timeout: Int(p["timeout"]?.intValue ?? 86400)) { try await ctx.log($0) }
        if status == 124 { throw ActivityFailure("The cron ran longer than its timeout and was stopped.") }
        if status != 0 { throw ActivityFailure("The cron command exited with status \(status).") }
        try await ctx.log("Cron finished.")
    }
}
