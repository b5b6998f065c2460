import Foundation
import GroveModel
import Synchronization

/// Pushes in flight. A receive-pack request opens a session; its hooks call back with the session's token,
/// which is how they learn who pushes (the hook processes themselves hold no credentials).
final class PushSessions: Sendable {
    struct Session: Sendable {
        let user: User
        let projectId: String
        let access: ProjectAccessLevel
        /// The pusher asked not to wait for the activities (over SSH: `PLATFORMSH_PUSH_NO_WAIT`, as the official CLI sends it).
        var noWait = false
    }

    private let sessions = Mutex<[String: Session]>([:])

    func open(_ s: Session) -> String {
        let token = Identifier.secret(bytes: 24)
        sessions.withLock { $0[token] = s }
        return token
    }

    func session(_ token: String) -> Session? { sessions.withLock { $0[token] } }

    func close(_ token: String) { _ = sessions.withLock { $0.removeValue(forKey: token) } }
}

/// `-o key=value` push options, as Platform.sh reads them.
struct PushOptions: Sendable {
    var activate = false
    var parent: String?
    var type: EnvironmentType?
    var title: String?
    var cloneParent: Bool?
    var noWait = false
    var problems: [String] = []
    var ignored: [String] = []

    init(_ options: [String]) {
        for o in options {
            let parts = o.split(separator: "=", maxSplits: 1).map(String.init)
            let key = parts.first ?? "", value = parts.count > 1 ? parts[1] : ""
            switch key {
            case "environment.status":
                switch value {
                case "active": activate = true
                case "inactive": activate = false
                default: problems.append("environment.status must be active or inactive, not '\(value)'")
                }
            case "environment.parent": parent = value
            case "environment.type":
                if let t = EnvironmentType(rawValue: value) { type = t } else { problems.append("environment.type must be development, staging or production, not '\(value)'") }
            case "environment.title": title = value
            case "environment.clone_parent_on_create":
                switch value.lowercased() {
                case "true", "1", "yes": cloneParent = true
                case "false", "0", "no": cloneParent = false
                default: problems.append("environment.clone_parent_on_create must be True or False, not '\(value)'")
                }
            case "nowait", "no-wait", "no_wait": noWait = true
            default: ignored.append(o)
            }
        }
    }
}
