import Crypto
import Foundation
import GroveConfig
import GroveDriver
import GroveGit
import GroveModel
import GroveRuntime
import Synchronization

/// Builds applications into immutable artifacts in a content-addressed cache under `DATA_DIR/builds`.
/// The key covers the application's tree, its configuration and the build-visible variables, so the same
/// inputs are never built twice; `clear(project:)` empties the cache.
public struct Builder: Sendable {
    /// What one build needs: the driver seam's request, built here by the local runtime.
    public typealias Request = BuildRequest

    public struct Artifact: Sendable {
        /// Content address of the build (also `PLATFORM_TREE_ID`).
        public let key: String
        /// Host path of the built application.
        public let path: String
        public let reused: Bool
        public let runtime: LanguageRuntime
    }

    public let root: String
    let cacheRoot: String
    let repositories: Repositories
    let sandbox: Sandbox

    public init(dataDir: String, repositories: Repositories, sandbox: Sandbox, cgroups: Cgroups = Cgroups(mode: .unavailable),
                networks: EnvironmentNetworks? = nil) {
        root = (dataDir as NSString).appendingPathComponent("builds")
        cacheRoot = (dataDir as NSString).appendingPathComponent("build-cache")
        self.repositories = repositories
        self.sandbox = sandbox
        self.cgroups = cgroups
        self.networks = networks
    }

    let cgroups: Cgroups
    /// Builds get a network namespace of their own: the world (package registries) through the host, but nothing
    /// listening on the host itself (Grove's API) or in any environment.
    let networks: EnvironmentNetworks?

    public func key(for r: Request, runtime: LanguageRuntime) -> String {
        var h = SHA256()
        func add(_ s: String) { h.update(data: Data(s.utf8)); h.update(data: Data([0])) }
        add(r.treeId)
        add(r.app.document.serialized())
        add(r.app.root)
        add(JSON.object(r.variables).serialized())
        for (k, v) in r.envVariables.sorted(by: { $0.key < $1.key }) { add(k); add(v) }
        add("\(runtime.name):\(runtime.found)")
        add(sandbox.mode.rawValue)
        return h.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Builds (or reuses) the artifact, writing progress and hook output through `log`.
    public func build(_ r: Request, log: @escaping @Sendable (String) async throws -> Void) async throws -> Artifact {
        let runtime: LanguageRuntime
        do { runtime = try LanguageRuntime.resolve(r.app.type) } catch { throw BuildFailure("Unable to build application '\(r.app.name)': \(error)") }
        let key = key(for: r, runtime: runtime)
        let dir = (root as NSString).appendingPathComponent(key)
        let fm = FileManager.default
        if fm.fileExists(atPath: dir + "/.grove-ready") {
            try await log("Reusing the build of '\(r.app.name)' (tree \(r.treeId.prefix(7)), build \(key.prefix(12))): same code, configuration and variables.")
            return Artifact(key: key, path: dir + "/app", reused: true, runtime: runtime)
        }
        try await log("Building application '\(r.app.name)' (runtime type: \(r.app.type), tree: \(r.treeId.prefix(7)))")
        if let note = runtime.note { try await log("  W: \(note)") }
        try? fm.removeItem(atPath: dir)
        try fm.createDirectory(atPath: dir + "/app", withIntermediateDirectories: true)
        let app = dir + "/app"
        do {
            try await checkout(r, into: app, logFile: dir + "/build.log")
            let inside = sandbox.appPath(hostPath: app)
            let cache = (cacheRoot as NSString).appendingPathComponent("\(r.projectId)/\(r.app.name)")
            try fm.createDirectory(atPath: cache, withIntermediateDirectories: true)
            var env = runtime.environment(app: inside)
            env["HOME"] = inside
            env["LANG"] = "C.UTF-8"
            env["TMPDIR"] = "/tmp"
            env["PLATFORM_APP_DIR"] = inside
            env["PLATFORM_OUTPUT_DIR"] = inside
            env["PLATFORM_CACHE_DIR"] = cache
            // Compilers keep their caches in the project's build cache, not in the artifact.
            if runtime.name == "golang" { env["GOCACHE"] = cache + "/go-build"; env["GOPATH"] = cache + "/go" }
            if runtime.name == "rust" { env["CARGO_HOME"] = cache + "/cargo" }
            env["PLATFORM_APPLICATION_NAME"] = r.app.name
            env["PLATFORM_APPLICATION"] = Data(r.app.document.bytes).base64EncodedString()
            env["PLATFORM_PROJECT"] = r.projectId
            env["PLATFORM_PROJECT_ENTROPY"] = r.entropy
            env["PLATFORM_TREE_ID"] = key
            env["PLATFORM_VARIABLES"] = Data(JSON.object(r.variables).bytes).base64EncodedString()
            for (k, v) in r.envVariables { env[k] = v }
            try Self.installShims(runtime: runtime, app: app)
            // The build writes as the tenant user: the fresh checkout and the project's cache are handed to it.
            if let tenant = sandbox.tenant, sandbox.mode == .bubblewrap {
                try await tenant.own(app)
                try await tenant.own(cache)
            }
            let steps = Self.steps(r.app, runtime: runtime, appFiles: app)
            let group = "build-\(key.prefix(16))-\(UInt32.random(in: 0...UInt32.max))"
            let network = steps.isEmpty ? nil : try await networks?.network(for: group)
            let prefix = try cgroups.prefix(group, r.limits.resources) + (network?.enter ?? [])
            defer { cgroups.remove(group) }
            do {
                if !steps.isEmpty {
                    try await log(cgroups.mode == .unavailable ? "  W: no writable cgroups on this host: the build's CPU, memory and processes are not limited"
                                                              : "  Build limits: \(r.limits.description)")
                }
                let limits = r.limits
                for (title, what, script) in steps {
                    try await log("  \(title)")
                    let logFile = dir + "/step.log"
                    try? fm.removeItem(atPath: logFile)
                    let argv = prefix + sandbox.command("set -e\n" + script, app: app, writableApp: true, extraBinds: [(cache, cache)])
                    let status = try await runStreaming(argv, env: env, cwd: app, logFile: logFile, log: log, watch: {
                        guard let used = await Self.diskUsage([app, cache]), used > limits.outputBytes else { return nil }
                        return "its output reached \(used >> 20) MB, over the build limit of \(limits.outputBytes >> 20) MB"
                    })
                    if let reason = status.stoppedBecause {
                        throw BuildFailure("Error building project: \(what) of '\(r.app.name)' was stopped: \(reason)")
                    }
                    if status.code != 0 {
                        let b = cgroups.breaches(group)
                        if b.outOfMemory && (status.code == 137 || status.code == 9) {
                            throw BuildFailure("Error building project: \(what) of '\(r.app.name)' was stopped: it used more than the build's \(limits.memoryMB) MB of memory (files in /tmp count); raise build_resources.memory in the project's settings")
                        }
                        let note = b.processLimit ? " (it reached the build's limit of \(limits.processes) processes)" : ""
                        throw BuildFailure("Error building project: \(what) of '\(r.app.name)' exited with status \(status.code)\(note)")
                    }
                }
            } catch {
                await networks?.remove(group)
                throw error
            }
            await networks?.remove(group)
            // Mount points must exist in the read-only artifact for the sandbox to mount over them.
            // The build ran tenant code: a mount path it turned into a link must not lead the host elsewhere.
            for path in r.app.mounts.keys.sorted() {
                do { try ContainedDirectory.make(path, under: app) } catch {
                    throw BuildFailure("Error building project: mount \(path) of '\(r.app.name)': \(error)")
                }
            }
            _ = fm.createFile(atPath: dir + "/.grove-ready", contents: Data(key.utf8))
            try await log("  Build of '\(r.app.name)' done (build \(key.prefix(12))).")
            return Artifact(key: key, path: app, reused: false, runtime: runtime)
        } catch {
            try? fm.removeItem(atPath: dir)
            throw error
        }
    }

    /// Deletes every artifact (the project's `clear_build_cache`); running applications keep theirs open.
    public func clear() {
        try? FileManager.default.removeItem(atPath: root)
        try? FileManager.default.removeItem(atPath: cacheRoot)
    }

    /// The commands of a build, in Platform.sh's order: global dependencies, the flavor, the build hook.
    static func steps(_ app: ApplicationConfig, runtime: LanguageRuntime, appFiles: String) -> [(String, String, String)] {
        var steps: [(String, String, String)] = []
        for (manager, packages) in app.dependencies.sorted(by: { $0.key < $1.key }) where !packages.isEmpty {
            let specs = packages.sorted(by: { $0.key < $1.key })
            switch manager {
            case "python", "python3", "python2":
                let args = specs.map { name, v in v == "*" ? name : (v.first.map { "<>=!~".contains($0) } == true ? name + v : name + "==" + v) }
                steps.append(("Installing \(manager) dependencies: \(specs.map(\.key).joined(separator: ", "))", "installing \(manager) dependencies",
                              "python3 -m pip install --quiet " + args.map(shellQuote).joined(separator: " ")))
            case "nodejs":
                let args = specs.map { name, v in v == "*" ? name : name + "@" + v }
                steps.append(("Installing nodejs dependencies: \(specs.map(\.key).joined(separator: ", "))", "installing nodejs dependencies",
                              "npm install --global --no-audit --no-fund " + args.map(shellQuote).joined(separator: " ")))
            case "php":
                let args = specs.map { name, v in v == "*" ? name : name + ":" + v }
                steps.append(("Installing php dependencies: \(specs.map(\.key).joined(separator: ", "))", "installing php dependencies",
                              "COMPOSER_HOME=\"$PLATFORM_APP_DIR/.global\" composer global require --no-interaction " + args.map(shellQuote).joined(separator: " ")))
            case "ruby":
                steps.append(("Installing ruby dependencies: \(specs.map(\.key).joined(separator: ", "))", "installing ruby dependencies",
                              specs.map { "gem install --no-document \(shellQuote($0.key))\($0.value == "*" ? "" : " -v " + shellQuote($0.value))" }.joined(separator: "\n")))
            default:
                steps.append(("Installing \(manager) dependencies", "installing \(manager) dependencies", "echo '\(manager) dependencies are not supported by this Grove version' >&2; exit 1"))
            }
        }
        let fm = FileManager.default
        switch app.buildFlavor {
        case "composer" where fm.fileExists(atPath: appFiles + "/composer.json"):
            steps.append(("Running the composer build flavor", "the composer build flavor", "composer --no-ansi --no-interaction install --no-progress --prefer-dist --optimize-autoloader"))
        case "default" where runtime.name == "nodejs" && fm.fileExists(atPath: appFiles + "/package.json"):
            steps.append(("Running the default build flavor (npm)", "the npm build flavor", "npm prune --userconfig .npmrc && npm install --userconfig .npmrc"))
        default: break
        }
        if let hook = app.hooks.build { steps.append(("Executing build hook...", "the build hook", hook)) }
        return steps
    }

    /// Platform.sh images answer to `python` and `pip`, and a plain `pip install` in a build hook lands where the
    /// application imports from. Here `.global` (first on PATH at build and runtime) is a virtualenv over Debian's
    /// python with its system packages visible and pip borrowed from them: `pip`/`python` are its own, installs go to
    /// `.global/lib/pythonX.Y/site-packages`, which is also the user site (`PYTHONUSERBASE`), so `/usr/bin/python3`
    /// finds them too. No `PIP_USER` is exported: pip, pipenv or poetry in a virtualenv of the project's own work.
    static func installShims(runtime: LanguageRuntime, app: String) throws {
        guard runtime.name == "python" else { return }
        let python = FileManager.default.isExecutableFile(atPath: "/usr/bin/python\(runtime.found)") ? "/usr/bin/python\(runtime.found)" : "/usr/bin/python3"
        let global = app + "/.global"
        let out = try Exec.runSync(python, ["-m", "venv", "--system-site-packages", "--without-pip", global], env: ["PATH": "/usr/bin:/bin"])
        guard out == 0 else { throw BuildFailure("Unable to build application: \(python) -m venv failed (apt-get install python3-venv)") }
        let bin = global + "/bin"
        // The venv's python resolves through a link to the host's; inside the sandbox /usr/bin is the same.
        let pip = bin + "/pip"
        try? FileManager.default.removeItem(atPath: pip)
        try "#!/bin/sh\nexec \"$(dirname \"$0\")/python\" -m pip \"$@\"\n".write(toFile: pip, atomically: true, encoding: .utf8)
        chmod(pip, 0o755)
        for name in ["pip3", "pip\(runtime.found)"] where !FileManager.default.fileExists(atPath: bin + "/" + name) {
            try? FileManager.default.createSymbolicLink(atPath: bin + "/" + name, withDestinationPath: "pip")
        }
    }

    static func shellQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// The application's directory of `commit`, extracted with git archive.
    func checkout(_ r: Request, into dir: String, logFile: String) async throws {
        let repo = repositories.path(for: r.projectId)
        let script = "set -o pipefail; git --git-dir=\(Self.shellQuote(repo)) archive --format=tar \(Self.shellQuote(r.commit + ":" + r.app.root)) | tar -x -C \(Self.shellQuote(dir))"
        let status = try await Exec.run(["/bin/bash", "-c", script], env: ["PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "GIT_CONFIG_NOSYSTEM": "1"],
                                        cwd: nil, logPath: logFile)
        guard status == 0 else {
            throw BuildFailure("Cannot check out \(r.app.root.isEmpty ? "the repository" : r.app.root) at \(r.commit.prefix(7)): \((try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "")")
        }
    }

    /// How a step ended: its exit code, or why Grove stopped it.
    public struct StepStatus: Sendable {
        public var code: Int32
        public var stoppedBecause: String?
    }

    /// Bytes under `paths` (one filesystem each), or nil when `du` cannot tell.
    static func diskUsage(_ paths: [String]) async -> Int64? {
        guard let out = try? await AdminCommand.run(["/usr/bin/du", "-s", "-c", "-x", "-B1"] + paths), out.status == 0 || !out.text.isEmpty,
              let last = out.text.split(separator: "\n").last, let n = Int64(last.split(separator: "\t").first ?? "") else { return nil }
        return n
    }

    /// Runs a step, relaying its output to the log line by line while it runs. `watch` is asked every 2 s whether the
    /// step must stop (a reason) and the step's processes are killed when it answers one.
    public func runStreaming(_ argv: [String], env: [String: String], cwd: String?, logFile: String,
                             log: @escaping @Sendable (String) async throws -> Void,
                             watch: (@Sendable () async -> String?)? = nil) async throws -> StepStatus {
        let pid = try Exec.spawn(argv, env: env, cwd: cwd, logPath: logFile)
        let exit = ExitBox()
        Task { exit.set(await Exec.wait(pid)) }
        var stopped: String?
        var ticks = 0
        var offset: UInt64 = 0
        var partial = ""
        func drain() async throws {
            guard let h = FileHandle(forReadingAtPath: logFile) else { return }
            defer { try? h.close() }
            try h.seek(toOffset: offset)
            let data = h.readDataToEndOfFile()
            offset += UInt64(data.count)
            partial += String(decoding: data, as: UTF8.self)
            while let nl = partial.firstIndex(of: "\n") {
                try await log("    " + partial[..<nl])
                partial = String(partial[partial.index(after: nl)...])
            }
        }
        while exit.get() == nil {
            if Task.isCancelled { kill(-pid, SIGKILL) }
            try? await Task.sleep(for: .milliseconds(200))
            try await drain()
            ticks += 1
            if let watch, stopped == nil, ticks % 10 == 0, let reason = await watch() {
                stopped = reason
                kill(-pid, SIGKILL)
            }
        }
        try await drain()
        if !partial.isEmpty { try await log("    " + partial) }
        return StepStatus(code: exit.get() ?? 1, stoppedBecause: stopped)
    }
}

/// The exit status of a child, set once by the task that reaps it.
final class ExitBox: Sendable {
    private let value = Mutex<Int32?>(nil)
    func set(_ v: Int32) { value.withLock { $0 = v } }
    func get() -> Int32? { value.withLock { $0 } }
}

public struct BuildFailure: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}
