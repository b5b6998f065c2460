import Foundation
import GroveBuild
import GroveDriver
import GroveGit
import GroveRouter
import GroveRuntime
import GroveServices
import GroveVolumes
import Logging

/// The `local` runtime: everything on this host. Builds and instances in bubblewrap sandboxes as the tenant user,
/// cgroups for their sizes, a network namespace per environment, services on the volume store (btrfs, reflink
/// or copy), nginx as the router.
public enum LocalRuntime {
    public struct Options: Sendable {
        public var dataDir: String
        public var routerHost = "127.0.0.1"
        public var routerPort = 8080
        public var routerTLSPort: Int? = 8443
        public var baseDomain = "localhost"
        public var volumeImageSize: UInt64?
        public var network: EnvironmentNetworks.Mode = .isolated
        /// Private networks environments may reach (`--egress-allow`).
        public var egressAllowed: [IPv4Network] = []
        public var instanceLimits = LocalAppRuntime.Limits()
        /// How often services' disks are checked for being full (health notifications).
        public var diskCheckInterval: Duration = .seconds(60)
        public init(dataDir: String) { self.dataDir = dataDir }
    }

    /// Where the local runtime writes an environment's logs (an API process beside the worker reads them there).
    public static func logDirectory(dataDir: String, projectId: String, environmentId: String) -> String {
        LocalAppRuntime.logDirectory(dataDir: dataDir, EnvironmentKey(projectId: projectId, environmentId: environmentId))
    }

    /// Starts the router and opens the volume store; the drivers share the sandbox, cgroups and networks.
    public static func open(_ options: Options, repositories: Repositories, logger: Logger) async throws -> RuntimeDrivers {
        let sandbox = Sandbox.detect(logger: logger, hidden: [options.dataDir])
        let router = NginxRouter(dataDir: options.dataDir, host: options.routerHost, port: options.routerPort, tlsPort: options.routerTLSPort,
                                 defaultCertificateNames: [options.baseDomain, "*." + options.baseDomain], bwrap: sandbox.bubblewrapPath, logger: logger)
        try await router.start()
        let volumes: VolumeStore
        do {
            volumes = try await VolumeStore.open(root: (options.dataDir as NSString).appendingPathComponent("volumes"), imageSize: options.volumeImageSize,
                                                 logger: logger)
        } catch {
            await router.stop()
            throw error
        }
        let cgroups = Cgroups.detect()
        if cgroups.mode == .unavailable {
            logger.notice("resources: no writable cgroups on this host; applications' size limits are not enforced")
        } else {
            logger.info("resources: cgroup \(cgroups.mode.rawValue) limits applications to their size")
        }
        let networks = await EnvironmentNetworks.detect(logger: logger, requested: options.network, egressAllowed: options.egressAllowed.map(\.description))
        let manager = ServiceManager(dataDir: options.dataDir, volumes: volumes, sandbox: sandbox, logger: logger, cgroups: cgroups, networks: networks)
        let builder = Builder(dataDir: options.dataDir, repositories: repositories, sandbox: sandbox, cgroups: cgroups, networks: networks)
        let apps = LocalAppRuntime(dataDir: options.dataDir, sandbox: sandbox, cgroups: cgroups, networks: networks, services: manager, builder: builder,
                                   limits: options.instanceLimits, logger: logger)
        return RuntimeDrivers(name: "local", builds: LocalBuildExecutor(builder: builder, sandbox: sandbox), apps: apps,
                              services: LocalServiceRuntime(manager: manager, dataDir: options.dataDir, diskCheck: options.diskCheckInterval), volumes: LocalVolumeDriver(dataDir: options.dataDir),
                              router: router)
    }
}
