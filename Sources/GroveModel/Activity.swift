/// A long operation, recorded before it runs and updated as it progresses.
public struct Activity: Codable, Sendable, Equatable {
    public var id: String
    public var projectId: String
    public var environments: [String]
    public var type: String
    public var state: ActivityState
    public var result: ActivityResult?
    public var completionPercent: Int
    public var description: String
    public var text: String
    public var parameters: JSON
    public var payload: JSON
    public var userId: String?
    public var failureReason: String?
    public var cancelRequested: Bool
    /// Queue order; activities on one environment run in ascending `seq`.
    public var seq: Int64
    public var createdAt: String
    public var updatedAt: String
    public var startedAt: String?
    public var completedAt: String?
    public var cancelledAt: String?

    public init(id: String = Identifier.short(), projectId: String, environments: [String], type: String, userId: String?,
                description: String, text: String, parameters: JSON = .object(JSONObject()), payload: JSON = .object(JSONObject()),
                seq: Int64, createdAt: String) {
        self.id = id; self.projectId = projectId; self.environments = environments; self.type = type; self.state = .pending
        self.result = nil; self.completionPercent = 0; self.description = description; self.text = text
        self.parameters = parameters; self.payload = payload; self.userId = userId; self.failureReason = nil
        self.cancelRequested = false; self.seq = seq; self.createdAt = createdAt; self.updatedAt = createdAt
    }

    /// The lock an activity holds while it runs: its environment, or the whole project for project-level work.
    public var queueKey: String { projectId + "/" + (environments.first ?? "") }

    public mutating func finish(_ result: ActivityResult, at now: String, reason: String? = nil) {
        state = .complete; self.result = result; completionPercent = 100; completedAt = now; updatedAt = now
        if result == .failure { failureReason = reason ?? "error" }
    }

    public mutating func cancel(at now: String) {
        state = .cancelled; result = .failure; completionPercent = 100; cancelledAt = now; completedAt = now; updatedAt = now
        failureReason = "cancelled"
    }
}

/// One line of an activity's log, as streamed on its `log` link.
public struct ActivityLogItem: Codable, Sendable, Equatable {
    public var activityId: String
    public var seq: Int64
    public var timestamp: String
    public var message: String
    public init(activityId: String, seq: Int64, timestamp: String, message: String) {
        self.activityId = activityId; self.seq = seq; self.timestamp = timestamp; self.message = message
    }
    /// Stable across reconnects so clients can de-duplicate.
    public var itemId: String { "\(activityId)-\(seq)" }
}
