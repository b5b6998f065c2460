/// What an SSH user name names: `<project>-<environment machine name>--<app>`, as Platform.sh's `pf:ssh:<app>` links
/// spell it (project ids never hold a `-`; machine names do), or `...--<app>--<worker>` for one of its workers.
struct SSHTarget: Equatable, Sendable {
    let projectId: String
    let machineName: String
    let app: String
    var worker: String? = nil

    init?(_ username: String) {
        guard let split = username.range(of: "--") else { return nil }
        let head = username[..<split.lowerBound]
        var app = String(username[split.upperBound...])
        var workerName: String?
        if let second = app.range(of: "--") {
            let name = String(app[second.upperBound...])
            guard !name.isEmpty, !name.contains("--") else { return nil }
            workerName = name
            app = String(app[..<second.lowerBound])
        }
        guard let dash = head.firstIndex(of: "-") else { return nil }
        let project = String(head[..<dash]), machine = String(head[head.index(after: dash)...])
        guard !project.isEmpty, !machine.isEmpty, !app.isEmpty, !app.contains("--"),
              (project + machine + app + (workerName ?? "")).unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)) })
        else { return nil }
        projectId = project; machineName = machine; self.app = app; worker = workerName
    }

    init(projectId: String, machineName: String, app: String) {
        self.projectId = projectId; self.machineName = machineName; self.app = app
    }

    var username: String { "\(projectId)-\(machineName)--\(app)" + (worker.map { "--" + $0 } ?? "") }

    /// The project a user name is about: a session target's, or a bare project id (git's `<project>@host`).
    static func projectId(of username: String) -> String? {
        if let t = SSHTarget(username) { return t.projectId }
        let ok = !username.isEmpty && username.count <= 64
            && username.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) }
        return ok ? username : nil
    }
}
