import GroveModel
import GroveStore

/// The states of a project's environments as a stream of server-sent events: one event whenever a status or the
/// running-activity flag changes, so open pages update their badges without reloading. It asks the API only while
/// a browser is reading (pull-based) and ends after a while; `EventSource` reconnects by itself.
actor EnvironmentStates {
    let ctx: PageContext
    let projectId: String
    let path: String
    private var last: String?
    private var deadline: ContinuousClock.Instant
    static let period: Duration = .seconds(2)

    init(_ ctx: PageContext, projectId: String, lifetime: Duration = .seconds(600)) {
        self.ctx = ctx
        self.projectId = projectId
        self.path = "/projects/\(ConsolePath.encode(projectId))/environments"
        self.deadline = .now + lifetime
    }

    private var seenVersion: UInt64?

    /// The next event, or nil when the stream should end (lifetime over, access gone, or the client went away).
    /// The API is asked again only when the project's answer version moved (the stream sleeps until the change version
    /// does; log lines and other projects' writes do not move it, and the list shows neither), or every `period` where
    /// the store has no version.
    func next() async -> String? {
        var lastAsked = ContinuousClock.now - Self.period
        while ContinuousClock.now < deadline, !Task.isCancelled {
            let version = ctx.backend.store.answerVersion(project: projectId)
            let wake = ctx.backend.store.changeVersion
            if version == nil || version != seenVersion || last == nil, version != nil || ContinuousClock.now - lastAsked >= Self.period {
                seenVersion = version
                lastAsked = .now
                let answer = await ctx.get(path)
                guard answer.ok else { return nil }
                let snapshot = Self.snapshot(answer.items)
                if snapshot != last {
                    last = snapshot
                    return "event: states\ndata: \(snapshot)\n\n"
                }
            }
            do {
                try await ctx.backend.store.nextChange(after: wake, settle: .milliseconds(100), timeout: Self.period, fallback: .milliseconds(250))
            } catch { return nil }
        }
        return nil
    }

    /// `{"main": {"status": "active", "busy": false}, ...}` with keys in a stable order.
    static func snapshot(_ environments: [JSON]) -> String {
        let pairs = environments.compactMap { e -> (String, JSON)? in
            guard let id = e["id"]?.stringValue else { return nil }
            return (id, .object(JSONObject([("status", e["status"] ?? .null), ("busy", .bool(e["is_dirty"]?.boolValue == true))])))
        }.sorted { $0.0 < $1.0 }
        return JSON.object(JSONObject(pairs)).serialized()
    }

    nonisolated func stream() -> AsyncStream<String> {
        AsyncStream(unfolding: { await self.next() })
    }
}
