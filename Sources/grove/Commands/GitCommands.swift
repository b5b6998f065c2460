import ArgumentParser
import Foundation
import GroveClient
import GroveModel
import GroveProcess

/// Runs git with the terminal attached, so its progress and the platform's `remote:` lines show live.
enum GitRunner {
    static func run(_ args: [String], extraEnv: [String: String] = [:]) throws -> Int32 {
        var o = Subprocess.Options(environment: ProcessInfo.processInfo.environment.merging(extraEnv) { $1 })
        o.stdin = .inherit
        o.searchPath = true
        do { return Subprocess.waitBlocking(try Subprocess.spawn(["git"] + args, o).pid) } catch {
            throw CLIError("Cannot run git: \(error). Install git.")
        }
    }

    /// git's output for a read-only query, or nil when it fails.
    static func capture(_ args: [String]) -> String? {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("grove-git-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        var o = Subprocess.Options()
        o.stdout = .file(out.path)
        o.stderr = .null
        o.searchPath = true
        guard let child = try? Subprocess.spawn(["git"] + args, o), Subprocess.waitBlocking(child.pid) == 0,
              let text = try? String(contentsOf: out, encoding: .utf8) else { return nil }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A credential helper answering with a fresh access token, so no secret is written into git's config.
    static func credentialHelper() -> String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return "!'\(exe)' internal:git-credential"
    }
}

struct Push: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "push", abstract: "Push code to an environment (git push with the platform's options).",
                                                    aliases: ["environment:push"])
    @OptionGroup var common: CommonOptions
    @Argument(help: "What to push (default HEAD).") var source = "HEAD"
    @Option(help: "The branch/environment to push to (default: the current branch).") var target: String?
    @Flag(help: "Activate the environment (create it active).") var activate = false
    @Option(help: "Parent of a new environment.") var parent: String?
    @Option(help: "Type of a new environment: development or staging.") var type: String?
    @Option(help: "Title of a new environment.") var title: String?
    @Flag(name: .customLong("no-clone-parent"), help: "Do not copy the parent's data into a new environment.") var noCloneParent = false
    @Flag(name: [.customShort("W"), .customLong("no-wait")], help: "Return once the push is accepted, without waiting for the deploy.") var noWait = false
    @Flag(name: [.customShort("f"), .customLong("force")]) var force = false
    @Flag(name: [.customShort("u"), .customLong("set-upstream")]) var setUpstream = false

    func run() async throws {
        let client = try Session.client()
        let project = try await Session.project(common, client)
        guard let url = (project["repository"]?["http_url"] ?? project["repository"]?["url"])?.stringValue else { throw CLIError("The project has no repository URL.") }
        let branch = target ?? common.environment ?? GitRunner.capture(["rev-parse", "--abbrev-ref", "HEAD"]).flatMap { $0 == "HEAD" ? nil : $0 }
        guard let branch else { throw CLIError("Name the target branch with --target (HEAD is detached).") }
        var args = ["-c", "credential.helper=", "-c", "credential.helper=" + GitRunner.credentialHelper(), "push"]
        if force { args.append("--force") }
        if setUpstream { args.append("--set-upstream") }
        var options: [String] = []
        if activate { options.append("environment.status=active") }
        if let parent { options.append("environment.parent=" + parent) }
        if let type { options.append("environment.type=" + type) }
        if let title { options.append("environment.title=" + title) }
        if noCloneParent { options.append("environment.clone_parent_on_create=False") }
        if noWait { options.append("nowait") }
        for o in options { args += ["-o", o] }
        args += [url, "\(source):refs/heads/\(branch)"]
        let status = try GitRunner.run(args, extraEnv: ["GROVE_API_URL": client.baseURL])
        if status != 0 { throw ExitCode(status) }
    }
}

struct ProjectSetRemote: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "project:set-remote", abstract: "Add the project's repository as a git remote of this repository.")
    @OptionGroup var common: CommonOptions
    @Option(help: "Remote name.") var remote = "grove"
    func run() async throws {
        let client = try Session.client()
        let project = try await Session.project(common, client)
        guard let url = (project["repository"]?["http_url"] ?? project["repository"]?["url"])?.stringValue else { throw CLIError("The project has no repository URL.") }
        guard GitRunner.capture(["rev-parse", "--git-dir"]) != nil else { throw CLIError("Run this inside a git repository.") }
        let exists = GitRunner.capture(["remote", "get-url", remote]) != nil
        guard try GitRunner.run(["remote", exists ? "set-url" : "add", remote, url]) == 0 else { throw CLIError("git remote failed.") }
        // Authenticate pushes to this URL with the CLI's credentials, never a stored token.
        _ = try GitRunner.run(["config", "credential.\(url).helper", GitRunner.credentialHelper()])
        print("Remote \(remote) -> \(url). Push with: git push \(remote) <branch>")
    }
}

/// Answers git's credential protocol with a short-lived access token from the CLI's login.
struct GitCredentialCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "internal:git-credential", abstract: "git credential helper (called by git).", shouldDisplay: false)
    @Argument var operation: String = "get"
    func run() async throws {
        while let line = readLine(), !line.isEmpty {}
        guard operation == "get" else { return }
        let client = try Session.client()
        let token = try await client.tokenSource.accessToken(client: client)
        print("username=grove\npassword=\(token)")
    }
}

struct RepoLs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "repo:ls", abstract: "List files in the project's repository.")
    @OptionGroup var common: CommonOptions
    @Argument var path: String = ""
    @Option(name: .customLong("commit"), help: "Commit or branch (default: the environment's branch).") var commit: String?
    func run() async throws {
        let (type, obj) = try await Repo.lookup(path, commit: commit, common: common)
        guard type == "tree" else { throw CLIError("\(path) is a file; use repo:cat.") }
        let entries = obj["tree"]?.arrayValue ?? []
        Output.print(["Type", "Path", "SHA"], entries.map { [Output.text($0["type"]), Output.text($0["path"]) + ($0["type"]?.stringValue == "tree" ? "/" : ""), Output.text($0["sha"])] },
                     format: common.format, json: .array(entries))
    }
}

struct RepoCat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "repo:cat", abstract: "Print a file from the project's repository.")
    @OptionGroup var common: CommonOptions
    @Argument var path: String
    @Option(name: .customLong("commit"), help: "Commit or branch (default: the environment's branch).") var commit: String?
    func run() async throws {
        let (type, obj) = try await Repo.lookup(path, commit: commit, common: common)
        guard type == "blob" else { throw CLIError("\(path) is a directory; use repo:ls.") }
        let content = obj["content"]?.stringValue ?? ""
        if obj["encoding"]?.stringValue == "base64", let d = Data(base64Encoded: content) { FileHandle.standardOutput.write(d) } else {
            FileHandle.standardOutput.write(Data(content.utf8))
        }
    }
}

struct RepoLog: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "repo:log", abstract: "Show commits of the project's repository.")
    @OptionGroup var common: CommonOptions
    @Option(name: .customLong("commit"), help: "Commit or branch to start from (default: the environment's branch).") var commit: String?
    @Option(name: [.customShort("n"), .customLong("limit")]) var limit = 10
    func run() async throws {
        let client = try Session.client()
        let pid = try await Session.projectId(common, client)
        let repo = Repo(client: client, projectId: pid)
        var next: String? = try await repo.commit(commit ?? common.environment, common: common)
        var rows: [[String]] = []
        var out: [JSON] = []
        while let sha = next, rows.count < limit {
            let c = try await client.get("/projects/\(pid)/git/commits/\(sha)")
            rows.append([String(sha.prefix(7)), Output.text(c["author"]?["date"]), Output.text(c["author"]?["name"]),
                         String(Output.text(c["message"]).split(separator: "\n").first ?? "")])
            out.append(c)
            next = c["parents"]?.arrayValue?.first?.stringValue
        }
        Output.print(["Commit", "Date", "Author", "Subject"], rows, format: common.format, json: .array(out))
    }
}

/// Walks the repository read API: branch -> commit -> trees -> object.
struct Repo {
    let client: APIClient
    let projectId: String

    /// The object at `path` in the given commit or branch (default: the environment's branch), and its type.
    static func lookup(_ path: String, commit: String?, common: CommonOptions) async throws -> (String, JSON) {
        let client = try Session.client()
        let repo = Repo(client: client, projectId: try await Session.projectId(common, client))
        let sha = try await repo.commit(commit ?? common.environment, common: common)
        return try await repo.object(at: path, commit: sha)
    }

    /// A commit id from a commit id or a branch name (default: the project's default branch).
    func commit(_ given: String?, common: CommonOptions) async throws -> String {
        var name = given
        if name == nil { name = try await Session.project(common, client)["default_branch"]?.stringValue ?? "main" }
        let n = name ?? "main"
        if n.count >= 7, n.allSatisfy(\.isHexDigit) { return n }
        do {
            let ref = try await client.get("/projects/\(projectId)/git/refs/\(Session.segment("heads/" + n))")
            if let sha = ref["object"]?["sha"]?.stringValue { return sha }
        } catch {}
        throw CLIError("No branch \(n) in the repository.")
    }

    func object(at path: String, commit: String) async throws -> (String, JSON) {
        let c = try await client.get("/projects/\(projectId)/git/commits/\(commit)")
        guard let root = c["tree"]?.stringValue else { throw CLIError("Commit \(commit) has no tree.") }
        var type = "tree"
        var obj = try await client.get("/projects/\(projectId)/git/trees/\(root)")
        for part in path.split(separator: "/") where !part.isEmpty {
            guard type == "tree", let e = obj["tree"]?.arrayValue?.first(where: { $0["path"]?.stringValue == String(part) }),
                  let sha = e["sha"]?.stringValue, let t = e["type"]?.stringValue else {
                throw CLIError("No \(path) in \(commit.prefix(7)).")
            }
            type = t
            obj = try await client.get("/projects/\(projectId)/git/\(t == "tree" ? "trees" : "blobs")/\(sha)")
        }
        return (type, obj)
    }
}

struct EnvironmentCheckout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "environment:checkout", abstract: "Check out an environment's branch in the current repository.",
                                                    aliases: ["checkout"])
    @OptionGroup var common: CommonOptions
    @Argument(help: "Environment id (its branch).") var id: String
    @Option(help: "Remote name (added with project:set-remote when missing).") var remote = "grove"
    func run() async throws {
        let client = try Session.client()
        let project = try await Session.project(common, client)
        guard let pid = project["id"]?.stringValue, let url = (project["repository"]?["http_url"] ?? project["repository"]?["url"])?.stringValue else { throw CLIError("The project has no repository URL.") }
        guard GitRunner.capture(["rev-parse", "--git-dir"]) != nil else { throw CLIError("Run this inside a git repository.") }
        let env = try await client.get("/projects/\(pid)/environments/\(Session.segment(id))")
        guard env["has_code"]?.boolValue == true else { throw CLIError("Environment \(id) has no code yet.") }
        if GitRunner.capture(["remote", "get-url", remote]) == nil {
            guard try GitRunner.run(["remote", "add", remote, url]) == 0 else { throw CLIError("git remote add failed.") }
            _ = try GitRunner.run(["config", "credential.\(url).helper", GitRunner.credentialHelper()])
        }
        guard try GitRunner.run(["fetch", remote, "refs/heads/\(id):refs/remotes/\(remote)/\(id)"]) == 0 else { throw CLIError("git fetch failed.") }
        let exists = GitRunner.capture(["rev-parse", "--verify", "--quiet", "refs/heads/" + id]) != nil
        let args = exists ? ["checkout", id] : ["checkout", "-b", id, "--track", "\(remote)/\(id)"]
        let status = try GitRunner.run(args)
        if status != 0 { throw ExitCode(status) }
    }
}
