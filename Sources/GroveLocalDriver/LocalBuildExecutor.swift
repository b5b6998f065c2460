import Foundation
import GroveBuild
import GroveDriver
import GroveRuntime

/// Builds in a bubblewrap sandbox on this host, artifacts in the content-addressed cache under `DATA_DIR/builds`.
public struct LocalBuildExecutor: BuildExecutor {
    let builder: Builder
    let sandbox: Sandbox

    public func build(_ r: BuildRequest, log: @escaping LogSink) async throws -> Artifact {
        let a: Builder.Artifact
        do { a = try await builder.build(r, log: log) } catch let e as BuildFailure { throw DriverFailure(e.description) }
        let inside = sandbox.appPath(hostPath: a.path)
        return Artifact(key: a.key, hostPath: a.path, appDir: inside, runtimeEnvironment: a.runtime.environment(app: inside), reused: a.reused)
    }

    public func clearCache() async { builder.clear() }

    public func forgetProject(_ projectId: String) async {
        let dataDir = (builder.root as NSString).deletingLastPathComponent
        try? FileManager.default.removeItem(atPath: (dataDir as NSString).appendingPathComponent("build-cache/\(projectId)"))
    }

    /// Builds that never finished have no `.grove-ready`.
    public func removeUnfinished() async -> [String] {
        let fm = FileManager.default
        var removed: [String] = []
        for key in (try? fm.contentsOfDirectory(atPath: builder.root)) ?? [] {
            let dir = (builder.root as NSString).appendingPathComponent(key)
            if !fm.fileExists(atPath: dir + "/.grove-ready"), (try? fm.removeItem(atPath: dir)) != nil { removed.append("build \(key.prefix(12))") }
        }
        return removed
    }
}
