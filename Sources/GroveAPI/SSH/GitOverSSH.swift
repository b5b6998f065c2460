import Foundation
import GroveGit
import GroveModel
import GroveProcess
import GroveSSH

/// git's SSH transport: `ssh <project>@host git-receive-pack '<project>.git'` (and `git-upload-pack`), what
/// `git push <project>@host:<project>.git` runs. Authorized like smart HTTP (a project the user sees; pushing needs the
/// contributor role on some environment type) and run with the same hooks and push sessions, so a push over SSH is
/// validated, refused per branch, deployed and logged exactly as one over HTTP.
struct GitOverSSH {
    let server: ServerContext

    /// The service and repository an exec command asks for, or nil when it is not a git command for this project.
    static func parse(_ command: String, projectId: String) -> (receive: Bool, path: String)? {
        let parts = command.split(separator: " ", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[0] == "git-receive-pack" || parts[0] == "git-upload-pack" else { return nil }
        var repo = parts[1].trimmingCharacters(in: .whitespaces)
        if repo.count >= 2, repo.first == "'" || repo.first == "\"", repo.last == repo.first { repo = String(repo.dropFirst().dropLast()) }
        while repo.hasPrefix("/") { repo.removeFirst() }
        if repo.hasSuffix("/") { repo.removeLast() }
        guard repo == projectId + ".git" || repo == projectId else { return nil }
        return (parts[0] == "git-receive-pack", repo)
    }

    func start(_ command: String, user: User, project: Project, viaSecondFactor: Bool, environment: [String: String], stdio: SSHStdio) async throws -> SSHRunning {
        guard let (receive, _) = Self.parse(command, projectId: project.id) else {
            throw SSHRefusal("\(project.id) is this project's git repository: git-upload-pack and git-receive-pack only; "
                             + "shells are at <project>-<environment machine name>--<app>")
        }
        let (access, mfaEnforced) = try await server.access.resolve(user: user, project: project)
        guard access.permits(.view), server.repositories.exists(project.id) else { throw SSHRefusal("repository not found") }
        if mfaEnforced && !viaSecondFactor {
            throw SSHRefusal("the organization of \(project.id) requires two-factor authentication: load a certificate after logging in with your second factor")
        }
        let mayPush = EnvironmentType.allCases.contains { access.permits(.environment(.contributor, $0)) }
        if receive && !mayPush {
            throw SSHRefusal("you have read-only access to \(project.id); pushing needs the contributor or admin role")
        }
        var env = Repositories.baseEnvironment
        var config: [(String, String)] = []
        var token: String?
        if receive {
            config = server.hooks.receiveConfig
            var session = PushSessions.Session(user: user, projectId: project.id, access: access)
            session.noWait = ["1", "true", "yes"].contains(environment["PLATFORMSH_PUSH_NO_WAIT"]?.lowercased() ?? "")
            let t = server.pushSessions.open(session)
            token = t
            env["GROVE_HOOK_EXE"] = server.groveExecutable
            env["GROVE_HOOK_URL"] = server.internalURL
            env["GROVE_PUSH_TOKEN"] = t
        }
        env["GIT_CONFIG_COUNT"] = String(config.count)
        for (i, (k, v)) in config.enumerated() {
            env["GIT_CONFIG_KEY_\(i)"] = k
            env["GIT_CONFIG_VALUE_\(i)"] = v
        }
        var options = Subprocess.Options(environment: env)
        options.stdin = .descriptor(stdio.stdin)
        options.stdout = .descriptor(stdio.stdout)
        options.stderr = .descriptor(stdio.stderr)
        options.ownProcessGroup = true
        let child: Subprocess.Child
        do {
            child = try Subprocess.spawn([server.repositories.gitPath, receive ? "receive-pack" : "upload-pack", server.repositories.path(for: project.id)], options)
        } catch {
            if let token { server.pushSessions.close(token) }
            throw error
        }
        let sessions = server.pushSessions
        let sessionToken = token
        server.logger.info("ssh: git", metadata: ["user": "\(user.email)", "project": "\(project.id)", "service": "\(receive ? "receive-pack" : "upload-pack")"])
        return SSHRunning(wait: {
            let status = await Subprocess.wait(child.pid)
            if let sessionToken { sessions.close(sessionToken) }
            return status
        }, signal: { sig in _ = kill(-child.pid, sig) })
    }
}
