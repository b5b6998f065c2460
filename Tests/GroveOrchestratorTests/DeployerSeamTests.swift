import Foundation
import GroveConfig
import GroveDriver
import GroveModel
import GroveOrchestrator
import GroveStore
import Testing

/// The orchestrator against fake drivers: what it asks of the runtime, in which order, and what it keeps when the
/// runtime fails. No process, volume or router is involved.
@Suite("Deployer through the driver seam")
struct DeployerSeamTests {
    @Test func deployBuildsStartsInstancesRunsHooksAndPublishesRoutes() async throws {
        let f = try await DeployerFixture.make()
        defer { Task { await f.close() } }
        let d = f.deployer()
        let commit = try f.commit(f.files, marker: "one")
        let log = LogLines()
        try await d.deploy(projectId: f.projectId, environmentId: "main", commit: commit, config: try await f.config()) { await log.add($0) }

        #expect(await f.world.builds == ["app"])
        let instances = await f.world.instances(f.main)
        #expect(instances.map(\.kind) == ["web", "worker:queue"])
        let web = try #require(instances.first { $0.kind == "web" })
        #expect(web.listener.port != nil)
        #expect(web.mounts == [MountRequest(path: "uploads", source: "local", sourcePath: "uploads")])
        #expect(web.variables["PLATFORM_APP_DIR"] == "/app" && web.variables["PLATFORM_BRANCH"] == "main")
        #expect(web.variables["PLATFORM_TREE_ID"] == web.artifact.key)
        let rels = try #require(web.variables["PLATFORM_RELATIONSHIPS"].flatMap { Data(base64Encoded: $0) })
        #expect(String(decoding: rels, as: UTF8.self).contains("\"database\""))
        // Services were ensured before the instances that relate to them.
        #expect(await f.world.liveServices[f.main]?.map(\.name) == ["db"])
        // The deploy hook ran before the switch, post_deploy after; both as commands beside the app.
        #expect(await f.world.commands.map(\.logName) == ["deploy", "post-deploy"])
        let site = try #require(await f.world.sites[f.main])
        #expect(site.upstreams["app"]?.port == web.listener.port && site.upstreams["app"]?.host == "10.0.0.1")
        #expect(site.routes.map(\.url).contains { $0.contains("://main-proj1.localhost:8080/") }, "\(site.routes.map(\.url))")
        #expect(try await d.records.view(projectId: f.projectId, environmentId: "main")?.commit == commit)
        #expect(await d.scheduledCrons().map(\.2.name) == ["report"])
        #expect(await log.text.contains("Starting app (web) on port"))
        // The store holds what should run and what runs; any process reads it.
        let record = try #require(try await f.store.deployment(projectId: f.projectId, environmentId: "main"))
        #expect(record.commit == commit && record.generation == 1)
        let observed = try await d.records.instances(projectId: f.projectId, environmentId: "main")
        #expect(observed.map { $0["state"]?.stringValue } == ["running", "running"])
        #expect(observed.first?["port"]?.intValue == Int64(web.listener.port ?? 0))
        let relationships = try await d.records.relationships(projectId: f.projectId, environmentId: "main")
        #expect(relationships["app"]?["database"]?.arrayValue?.first?["grove_host"]?.stringValue == "10.0.0.1")
        #expect(try await d.records.routes(projectId: f.projectId, environmentId: "main").count == 1)
    }

    @Test func failedDeployKeepsThePreviousVersionServing() async throws {
        let f = try await DeployerFixture.make()
        defer { Task { await f.close() } }
        let d = f.deployer()
        let first = try f.commit(f.files, marker: "one")
        try await d.deploy(projectId: f.projectId, environmentId: "main", commit: first, config: try await f.config()) { _ in }
        let before = await f.world.instances(f.main)
        let site = await f.world.sites[f.main]

        // A start that fails: nothing of the new version keeps running, the old one still serves.
        await f.world.set(failingApps: ["app"])
        let second = try f.commit(f.files, marker: "two")
        await #expect(throws: (any Error).self) {
            try await d.deploy(projectId: f.projectId, environmentId: "main", commit: second, config: try await f.config()) { _ in }
        }
        #expect(await f.world.instances(f.main) == before)
        #expect(await f.world.sites[f.main] == site)
        #expect(try await d.records.view(projectId: f.projectId, environmentId: "main")?.commit == first)

        // A deploy hook that fails: the same.
        await f.world.set(failingApps: [])
        await f.world.set(hookStatus: 3)
        await #expect(throws: (any Error).self) {
            try await d.deploy(projectId: f.projectId, environmentId: "main", commit: second, config: try await f.config()) { _ in }
        }
        #expect(await f.world.instances(f.main) == before)
        #expect(await f.world.sites[f.main] == site)

        // A service type the runtime refuses fails before anything builds or starts.
        await f.world.set(hookStatus: 0)
        var bad = f.files
        bad[".platform/services.yaml"] = "db:\n  type: oracle:19\n  disk: 256\n"
        let builds = await f.world.builds.count
        await #expect(throws: (any Error).self) {
            try await d.deploy(projectId: f.projectId, environmentId: "main", commit: second, config: try await f.config(bad)) { _ in }
        }
        #expect(await f.world.builds.count == builds)
        #expect(await f.world.instances(f.main) == before)

        // Then a good deploy replaces the old instances.
        try await d.deploy(projectId: f.projectId, environmentId: "main", commit: second, config: try await f.config()) { _ in }
        let after = await f.world.instances(f.main)
        #expect(after.count == before.count && Set(after.map(\.id)).isDisjoint(with: before.map(\.id)))
        #expect(try await d.records.view(projectId: f.projectId, environmentId: "main")?.commit == second)
    }

    @Test func branchCopiesTheParentsDataAndAFailedCopyLeavesNone() async throws {
        let f = try await DeployerFixture.make()
        defer { Task { await f.close() } }
        let d = f.deployer()
        await f.world.write(f.main, service: "db", "rows of main")
        await f.world.write(f.main, mounts: "uploads of main")
        try await d.cloneData(projectId: f.projectId, from: "main", to: "dev") { _ in }
        #expect(await f.world.serviceData[f.dev]?["db"] == "rows of main")
        #expect(await f.world.mountData[f.dev] == "uploads of main")

        await f.world.set(failClone: true)
        await #expect(throws: (any Error).self) { try await d.cloneData(projectId: f.projectId, from: "main", to: "dev") { _ in } }
        #expect(await f.world.serviceData[f.dev] == nil)
        #expect(await f.world.serviceData[f.main]?["db"] == "rows of main")
    }

    @Test func backupAndRestoreBringTheDataBack() async throws {
        let f = try await DeployerFixture.make()
        defer { Task { await f.close() } }
        let d = f.deployer()
        await f.world.write(f.main, service: "db", "v1")
        await f.world.write(f.main, mounts: "files v1")
        let bytes = try await d.backup(projectId: f.projectId, environmentId: "main", backupId: "b1", safe: false) { _ in }
        #expect(bytes == 2)
        await f.world.write(f.main, service: "db", "v2")
        await f.world.write(f.main, mounts: "files v2")
        try await d.restoreBackup(projectId: f.projectId, backupId: "b1", into: "main") { _ in }
        #expect(await f.world.serviceData[f.main]?["db"] == "v1")
        #expect(await f.world.mountData[f.main] == "files v1")
        // Restoring into another environment copies it there too.
        try await d.restoreBackup(projectId: f.projectId, backupId: "b1", into: "dev") { _ in }
        #expect(await f.world.serviceData[f.dev]?["db"] == "v1")
        await d.deleteBackup(projectId: f.projectId, backupId: "b1")
        await #expect(throws: (any Error).self) { try await d.restoreBackup(projectId: f.projectId, backupId: "b1", into: "main") { _ in } }
    }

    @Test func undeployStopsEverythingAndDeletesDataOnlyWhenAsked() async throws {
        let f = try await DeployerFixture.make()
        defer { Task { await f.close() } }
        let d = f.deployer()
        let commit = try f.commit(f.files, marker: "one")
        try await d.deploy(projectId: f.projectId, environmentId: "main", commit: commit, config: try await f.config()) { _ in }
        try await d.deploy(projectId: f.projectId, environmentId: "dev", commit: commit, config: try await f.config()) { _ in }
        await f.world.write(f.main, service: "db", "kept")
        #expect(await d.deployedEnvironments(projectId: f.projectId) == ["dev", "main"])

        await d.undeploy(projectId: f.projectId, environmentId: "main")
        #expect(await f.world.instances(f.main).isEmpty)
        #expect(await f.world.sites[f.main] == nil)
        #expect(await f.world.liveServices[f.main] == nil)
        #expect(await f.world.serviceData[f.main]?["db"] == "kept")

        await d.undeploy(projectId: f.projectId, environmentId: "dev", keepData: false)
        #expect(await f.world.instances(f.dev).isEmpty)
        #expect(await f.world.serviceData[f.dev] == nil)
        #expect(await d.deployedEnvironments(projectId: f.projectId).isEmpty)
        #expect(try await f.store.deployments(projectId: f.projectId).isEmpty)
    }

    @Test func aRestartedServerServesWhatWasDeployed() async throws {
        let f = try await DeployerFixture.make()
        defer { Task { await f.close() } }
        let commit = try f.commit(f.files, marker: "one")
        let d = f.deployer()
        try await d.deploy(projectId: f.projectId, environmentId: "main", commit: commit, config: try await f.config()) { _ in }
        let before = await f.world.instances(f.main)
        let site = try #require(await f.world.sites[f.main])
        await d.shutdown()
        #expect(await f.world.instances(f.main).isEmpty)

        // A new process: same records, no hooks run again, same instances and routes.
        let again = f.deployer()
        let hooks = await f.world.commands.count
        await again.restore()
        #expect(await f.world.instances(f.main).map(\.id) == before.map(\.id))
        #expect(await f.world.sites[f.main]?.upstreams == site.upstreams)
        #expect(await f.world.liveServices[f.main]?.map(\.name) == ["db"])
        #expect(await f.world.commands.count == hooks)
        #expect(try await again.records.view(projectId: f.projectId, environmentId: "main")?.commit == commit)
    }

    @Test func deploymentsAnOlderGroveRecordedAsFilesAreRedeployed() async throws {
        let f = try await DeployerFixture.make()
        defer { Task { await f.close() } }
        let legacy = f.dir + "/deployments/\(f.projectId)"
        try FileManager.default.createDirectory(atPath: legacy, withIntermediateDirectories: true)
        try Data("sealed bytes of the old shape".utf8).write(to: URL(fileURLWithPath: legacy + "/main.json"))
        try Data("x".utf8).write(to: URL(fileURLWithPath: legacy + "/gone.json"))
        await f.deployer().restore()
        var filter = ActivityFilter(environmentId: "main")
        filter.types = ["environment.redeploy"]
        let queued = try await f.store.activities(projectId: f.projectId, filter: filter)
        #expect(queued.count == 1 && queued.first?.state == .pending)
        #expect(!FileManager.default.fileExists(atPath: f.dir + "/deployments"))
        // Restoring again queues nothing more.
        await f.deployer().restore()
        #expect(try await f.store.activities(projectId: f.projectId, filter: filter).count == 1)
    }

    @Test func anInstanceTheRuntimeRestartedIsRecordedAsSo() async throws {
        let f = try await DeployerFixture.make()
        defer { Task { await f.close() } }
        let d = f.deployer()
        await d.startObserving()
        let commit = try f.commit(f.files, marker: "one")
        try await d.deploy(projectId: f.projectId, environmentId: "main", commit: commit, config: try await f.config()) { _ in }
        let web = try #require(await f.world.instances(f.main).first { $0.kind == "web" })
        f.world.report(InstanceEvent(instanceId: web.id, state: "restarted", error: "exited with status 1 (1 time); restarted"))
        // An event about an instance no deployment started changes nothing.
        f.world.report(InstanceEvent(instanceId: "elsewhere/app/web/9", state: "restarted", error: "x"))
        var states: [String?] = []
        for _ in 0..<200 {
            let observed = try await d.records.instances(projectId: f.projectId, environmentId: "main")
            states = observed.map { $0["state"]?.stringValue }
            if states.contains("restarted") { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        let observed = try await d.records.instances(projectId: f.projectId, environmentId: "main")
        #expect(states == ["restarted", "running"], "\(observed)")
        #expect(observed.first?["error"]?.stringValue == "exited with status 1 (1 time); restarted")
        await d.shutdown()
    }
}
