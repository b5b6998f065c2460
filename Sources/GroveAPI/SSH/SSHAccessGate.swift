import Foundation
import GroveCredentials
import GroveDriver
import GroveModel
import GroveOrchestrator
import GroveSSH
import GroveStore
import Logging

/// Decides SSH logins and starts sessions: a key on a user's account (`/ssh_keys`) or a certificate from this Grove's
/// authority names the user; the user name names project, environment and application; the application's
/// `access.ssh` role on the environment's type, the environment being active and the organization's two-factor rule
/// decide; the session runs where the application's runtime operations run.
struct SSHAccessGate: SSHGate {
    let store: any Store
    let deployer: Deployer
    let settings: SSHSettings
    let logger: Logger

    /// The certificate extension saying its token was obtained with a second factor.
    static let mfaExtension = "grove-mfa@grove"
    /// Variables a client may send (`SendEnv`); anything else it sends is dropped.
    static func acceptsVariable(_ name: String) -> Bool {
        name == "LANG" || name.hasPrefix("LC_") || name == "PLATFORMSH_PUSH_NO_WAIT" || name == "TZ"
    }

    func authenticate(_ attempt: SSHLoginAttempt) async -> SSHLogin? {
        await SSHLogins(store: store, logger: logger).login(attempt)
    }

    /// What a session or tunnel of `login` reaches, once every rule allowed it: project, environment, application.
    func authorize(_ login: SSHLogin) async throws -> (project: Project, environment: Environment, user: User, app: String, worker: String?) {
        guard let target = SSHTarget(login.username), let user = try await store.user(id: login.userId), !user.deactivated,
              let project = try await store.project(id: target.projectId) else { throw SSHRefusal("no such SSH target: \(login.username)") }
        let (level, mfaEnforced) = try await AccessResolver(store: store).resolve(user: user, project: project)
        if mfaEnforced && !(login.viaCertificate && login.extensions[Self.mfaExtension] != nil) {
            throw SSHRefusal("this project's organization requires two-factor authentication: log in with your second factor, then load a new certificate (grove ssh-cert:load)")
        }
        guard let environment = try await store.environments(projectId: project.id).first(where: { $0.machineName == target.machineName }),
              level.permits(.environment(.viewer, environment.type)) else { throw SSHRefusal("no environment \(target.machineName) in project \(project.id)") }
        guard environment.status == .active else {
            throw SSHRefusal("the environment \(environment.id) is \(environment.status.rawValue); SSH reaches active environments only")
        }
        guard let role = try await deployer.sshAccess(projectId: project.id, environmentId: environment.id, app: target.app) else {
            let apps = await deployer.deployedApps(projectId: project.id, environmentId: environment.id)
            throw SSHRefusal("no application \(target.app) runs on \(environment.id)" + (apps.isEmpty ? "" : " (it runs \(apps.sorted().joined(separator: ", ")))"))
        }
        let needed = EnvironmentRole(rawValue: role) ?? .contributor
        guard level.permits(.environment(needed, environment.type)) else {
            throw SSHRefusal("SSH into \(target.app) on \(environment.type.rawValue) environments needs the \(needed.rawValue) role")
        }
        var worker = target.worker
        if let name = worker, !(await deployer.deployedWorkers(projectId: project.id, environmentId: environment.id, app: target.app)).contains(name) {
            // `--<app>--<n>` names an instance (the contract's multi-instance form); an application runs one, instance 0.
            if name.allSatisfy(\.isASCIIDigit) {
                guard Int(name) == 0 else { throw SSHRefusal("\(target.app) runs one instance on \(environment.id): instance 0") }
                worker = nil
            } else {
                let workers = await deployer.deployedWorkers(projectId: project.id, environmentId: environment.id, app: target.app)
                throw SSHRefusal("\(target.app) has no worker \(name) on \(environment.id)" + (workers.isEmpty ? "" : " (it has \(workers.joined(separator: ", ")))"))
            }
        }
        return (project, environment, user, target.app, worker)
    }

    func start(_ request: SSHSessionRequest, login: SSHLogin, stdio: SSHStdio) async throws -> SSHRunning {
        if SSHTarget(login.username) == nil, let projectId = SSHTarget.projectId(of: login.username) {
            // `<project>@host`: the project's git repository.
            guard case .exec(let command) = request.kind else {
                throw SSHRefusal("\(projectId) is this project's git repository; shells are at <project>-<environment machine name>--<app>")
            }
            guard let context = settings.context else { throw SSHRefusal("git over SSH needs the API in this process (grove serve --role all)") }
            guard let user = try await store.user(id: login.userId), !user.deactivated, let project = try await store.project(id: projectId) else {
                throw SSHRefusal("repository not found")
            }
            return try await GitOverSSH(server: context).start(command, user: user, project: project,
                                                                viaSecondFactor: login.viaCertificate && login.extensions[Self.mfaExtension] != nil,
                                                                environment: request.environment.filter { Self.acceptsVariable($0.key) }, stdio: stdio)
        }
        let (project, environment, user, app, worker) = try await authorize(login)
        let script: String
        switch request.kind {
        case .shell: script = "exec /bin/bash -l"
        case .exec(let command): script = command
        case .subsystem(let name):
            guard name == "sftp", let server = Self.sftpServer else { throw SSHRefusal("the \(name) subsystem is not available") }
            script = "exec " + server
        }
        var extra = request.environment.filter { Self.acceptsVariable($0.key) }
        if let terminal = request.terminal { extra["TERM"] = terminal.term }
        logger.info("ssh: session", metadata: ["user": "\(user.email)", "target": "\(login.username)", "kind": "\(request.kind)"])
        let running = try await deployer.openSession(projectId: project.id, environmentId: environment.id, app: app, worker: worker, script: script,
                                                     extraEnvironment: extra,
                                                     io: SessionIO(stdin: stdio.stdin, stdout: stdio.stdout, stderr: stdio.stderr, terminal: stdio.terminal))
        return SSHRunning(wait: running.wait, signal: running.signal)
    }

    /// Only the endpoints the application's relationships list (`PLATFORM_RELATIONSHIPS`, host and port as the
    /// application sees them), reached where Grove's host reaches them.
    func tunnel(to host: String, port: Int, login: SSHLogin) async throws -> (host: String, port: Int) {
        let (project, environment, _, app, _) = try await authorize(login)
        let relationships = try await deployer.records.relationships(projectId: project.id, environmentId: environment.id)[app]?.objectValue ?? JSONObject()
        for (_, endpoints) in relationships {
            for endpoint in endpoints.arrayValue ?? [] where endpoint["host"]?.stringValue == host && endpoint["port"]?.intValue == Int64(port) {
                return (endpoint["grove_host"]?.stringValue ?? "127.0.0.1", port)
            }
        }
        throw SSHRefusal("\(host):\(port) is not one of \(app)'s relationships")
    }

    /// Each project's repository and every application (and worker, and instance 0) of each of its environments; an
    /// environment that runs nothing (inactive, not yet deployed) gets the names of the applications its project runs
    /// elsewhere, so its sessions are refused with the reason rather than as an unknown user.
    func accountNames() async -> Set<String> {
        var names: Set<String> = []
        guard let projects = try? await store.projects(organizationId: nil) else { return names }
        for project in projects {
            names.insert(project.id)
            guard let environments = try? await store.environments(projectId: project.id) else { continue }
            var apps: [String: Set<String>] = [:]
            var running: [String: [String: Set<String>]] = [:]
            for environment in environments {
                for app in await deployer.deployedApps(projectId: project.id, environmentId: environment.id) {
                    let workers = Set(await deployer.deployedWorkers(projectId: project.id, environmentId: environment.id, app: app))
                    running[environment.id, default: [:]][app] = workers
                    apps[app, default: []].formUnion(workers)
                }
            }
            for environment in environments {
                for (app, workers) in running[environment.id] ?? apps {
                    let base = SSHTarget(projectId: project.id, machineName: environment.machineName, app: app).username
                    names.insert(base)
                    names.insert(base + "--0")
                    for worker in workers { names.insert(base + "--" + worker) }
                }
            }
        }
        return names
    }

    /// The endpoints of the target's application's relationships, while its environment is active.
    func endpoints(target: String) async -> [SSHEndpoint] {
        guard let t = SSHTarget(target), let project = try? await store.project(id: t.projectId),
              let environment = try? await store.environments(projectId: project.id).first(where: { $0.machineName == t.machineName }),
              environment.status == .active,
              let relationships = try? await deployer.records.relationships(projectId: project.id, environmentId: environment.id)[t.app]?.objectValue
        else { return [] }
        var out: [SSHEndpoint] = []
        for (_, endpoints) in relationships {
            for endpoint in endpoints.arrayValue ?? [] {
                guard let host = endpoint["host"]?.stringValue, let port = endpoint["port"]?.intValue else { continue }
                let e = SSHEndpoint(host: host, port: Int(port), reachHost: endpoint["grove_host"]?.stringValue ?? "127.0.0.1")
                if !out.contains(e) { out.append(e) }
            }
        }
        return out
    }

    /// OpenSSH's SFTP server on this host (Debian, then Red Hat paths); the sandbox sees the host's /usr.
    static let sftpServer: String? = ["/usr/lib/openssh/sftp-server", "/usr/libexec/openssh/sftp-server", "/usr/lib/sftp-server"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
