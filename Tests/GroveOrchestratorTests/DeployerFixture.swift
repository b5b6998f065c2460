import Foundation
import GroveConfig
import GroveDriver
import GroveGit
import GroveModel
import GroveOrchestrator
import GroveStore
import Logging

/// A project with `main` and `dev` in a real SQLite store and git repository, deployed through fake drivers.
struct DeployerFixture {
    let dir: String
    let store: SQLStore
    let repositories: Repositories
    let world = FakeWorld()
    let projectId = "proj1"
    var main: EnvironmentKey { EnvironmentKey(projectId: projectId, environmentId: "main") }
    var dev: EnvironmentKey { EnvironmentKey(projectId: projectId, environmentId: "dev") }

    static let app = """
        name: app
        type: python:3.12
        web:
          commands:
            start: python3 -m http.server $PORT
        workers:
          queue:
            commands:
              start: sleep infinity
        hooks:
          deploy: echo migrating
          post_deploy: echo warm
        relationships:
          database: "db:postgresql"
        mounts:
          uploads:
            source: local
            source_path: uploads
        crons:
          report:
            spec: "*/5 * * * *"
            commands:
              start: echo report
        """
    static let services = "db:\n  type: postgresql:16\n  disk: 256\n"
    static let routes = "\"https://{default}/\":\n  type: upstream\n  upstream: \"app:http\"\n"

    static func make() async throws -> DeployerFixture {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("deployer-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let store = try await StoreFactory.open(url: "sqlite:" + dir + "/grove.sqlite", logger: Logger(label: "test"))
        let f = DeployerFixture(dir: dir, store: store, repositories: Repositories(dataDir: dir))
        let now = Timestamp.now()
        try await store.insertProject(Project(id: f.projectId, organizationId: "org1", ownerId: "u1", subscriptionId: "1", title: "Fixture",
                                              defaultBranch: "main", region: "local", createdAt: now))
        try await store.insertEnvironment(Environment(projectId: f.projectId, name: "main", title: "Main", type: .production, parent: nil, status: .active,
                                                      isMain: true, createdAt: now))
        try await store.insertEnvironment(Environment(projectId: f.projectId, name: "dev", title: "Dev", type: .development, parent: "main", status: .active,
                                                      isMain: false, createdAt: now))
        try await f.repositories.create(f.projectId, defaultBranch: "main")
        return f
    }

    var files: [String: String] { [".platform.app.yaml": Self.app, ".platform/services.yaml": Self.services, ".platform/routes.yaml": Self.routes] }

    /// Commits `files` (plus a marker so each commit differs) to the project's repository; returns the commit.
    func commit(_ files: [String: String], marker: String) throws -> String {
        let work = dir + "/work-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        for (path, content) in files.merging(["marker.txt": marker], uniquingKeysWith: { a, _ in a }) {
            let full = work + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try content.write(toFile: full, atomically: true, encoding: .utf8)
        }
        let git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", work]
        try run(["git", "init", "-q", "-b", "main", work])
        try run(git + ["add", "-A"])
        try run(git + ["commit", "-q", "-m", marker])
        try run(git + ["push", "-q", "-f", repositories.path(for: projectId), "HEAD:refs/heads/main"])
        let out = Pipe()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = git + ["rev-parse", "HEAD"]
        p.standardOutput = out
        try p.run()
        p.waitUntilExit()
        return String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func run(_ argv: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw DriverFailure("\(argv.joined(separator: " ")) exited with \(p.terminationStatus)") }
    }

    func config(_ files: [String: String]? = nil) async throws -> ProjectConfig {
        try await ProjectConfig.load(from: InMemoryFiles(files ?? self.files))
    }

    func deployer() -> Deployer {
        Deployer(store: store, repositories: repositories, drivers: .fake(world), options: .init(dataDir: dir), logger: Logger(label: "test"))
    }

    func close() async {
        await store.close()
        try? FileManager.default.removeItem(atPath: dir)
    }
}

/// Collects an activity's log lines.
actor LogLines {
    var lines: [String] = []
    func add(_ s: String) { lines.append(s) }
    var text: String { lines.joined(separator: "\n") }
}
