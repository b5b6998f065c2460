/// Something wrong with a running environment that its project's health integrations are told of.
public struct HealthEvent: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        /// An application or worker keeps exiting and being restarted.
        case crashLoop = "app.crash_loop"
        /// A managed service's engine exited.
        case serviceDown = "service.down"
        /// A managed service's disk is (nearly) full: its next writes fail.
        case diskFull = "disk.full"
    }
    public var projectId: String
    public var environmentId: String
    public var kind: Kind
    /// The application, worker or service concerned.
    public var subject: String
    public var message: String
    public var createdAt: String
    public var severity: String { kind == .crashLoop ? "error" : "critical" }

    public init(projectId: String, environmentId: String, kind: Kind, subject: String, message: String, createdAt: String) {
        self.projectId = projectId; self.environmentId = environmentId; self.kind = kind; self.subject = subject; self.message = message
        self.createdAt = createdAt
    }

    /// The JSON a health webhook receives.
    public var json: JSON {
        .object(JSONObject([("type", .string(kind.rawValue)), ("project", .string(projectId)), ("environment", .string(environmentId)),
                            ("subject", .string(subject)), ("severity", .string(severity)), ("message", .string(message)),
                            ("created_at", .string(createdAt))]))
    }
}
