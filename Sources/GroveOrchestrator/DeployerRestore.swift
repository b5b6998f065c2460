import Foundation
import GroveConfig
import GroveDriver
import GroveGit
import GroveModel

extension Deployer {
    /// Starts what was serving before the server stopped (same artifacts and ports, no hooks).
    public func restore() async {
        let dir = (options.dataDir as NSString).appendingPathComponent("deployments")
        guard let projects = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
        for p in projects {
            for f in (try? FileManager.default.contentsOfDirectory(atPath: dir + "/" + p)) ?? [] where f.hasSuffix(".json") {
                let stem = String(f.dropLast(5))
                let envId = stem.removingPercentEncoding ?? stem
                let path = dir + "/" + p + "/" + f
                guard let sealed = FileManager.default.contents(atPath: path),
                      let data = try? options.sealer.map({ try $0.unseal(data: sealed) }) ?? sealed else { continue }
                guard let d = try? JSONDecoder().decode(Deployment.self, from: data) else {
                    logger.notice("the deployment record of \(p)/\(envId) is from an older Grove: redeploy the environment to serve it again")
                    try? FileManager.default.removeItem(atPath: path)
                    continue
                }
                guard let env = try? await store.environment(projectId: p, id: envId), env.status == .active else {
                    try? FileManager.default.removeItem(atPath: path)
                    continue
                }
                await restore(Self.envKey(p, envId), env: env, deployment: d)
            }
        }
    }

    func restore(_ key: EnvironmentKey, env: Environment, deployment: Deployment) async {
        var d = deployment
        let p = key.projectId
        let config = try? await ProjectConfig.load(from: CommitFiles(repositories: repositories, projectId: p, commit: d.commit))
        let project = try? await store.project(id: p)
        // The routes as this start serves them (the router's ports may have changed): the applications get them in
        // PLATFORM_ROUTES, the deployment API shows them.
        var routing: (RouteTable, [SiteCertificate])?
        if let config, let project { routing = try? await self.routing(project: project, env: env, routes: config.routes) }
        if let (table, _) = routing {
            let routes = Data(table.platformRoutes.bytes).base64EncodedString()
            for i in d.apps.indices where d.apps[i].variables["PLATFORM_ROUTES"] != nil { d.apps[i].variables["PLATFORM_ROUTES"] = routes }
            d.routesJSON = table.platformRoutes.serialized()
        }
        // Services first (their data kept), then the applications with relationships to where they now listen.
        if let services, let config, let project {
            var ports: [String: Int] = [:]
            for a in d.apps { if let port = a.listener.port { ports[a.app] = port } }
            do {
                try await services.ensure(key, services: Self.serviceConfigs(config, ports: ports)) { _ in }
            } catch {
                logger.error("cannot restore the services of \(key): \(error)")
            }
            for i in d.apps.indices where d.apps[i].variables["PLATFORM_RELATIONSHIPS"] != nil {
                guard let app = config.application(d.apps[i].app) else { continue }
                let rels = await services.relationships(key, cluster: "\(p)-\(env.machineName)", relationships: app.relationships)
                d.apps[i].variables["PLATFORM_RELATIONSHIPS"] = Self.relationships(project: project, env: env, app: app, ports: ports, services: rels)
            }
        }
        var upstreams = await serviceUpstreams(key)
        var ok = true
        for a in d.apps {
            // Same ports as before the stop (PHP-FPM's configuration names its port); they were freed with the processes.
            do {
                let endpoint = try await apps.start(a, waitUntilReady: false)
                if let port = a.listener.port, let app = config?.application(a.app) {
                    upstreams[a.app] = Self.upstream(app, artifact: a.artifact, endpoint: endpoint, port: port)
                }
            } catch {
                logger.error("cannot restore \(a.id): \(error)")
                ok = false
            }
        }
        current[key] = d
        save(key, d)
        if let (table, certificates) = routing {
            try? await router.publish(key, RouterSite(routes: table.routes, upstreams: upstreams, certificates: certificates, logDir: apps.logDirectory(key)))
        }
        logger.info("restored deployment", metadata: ["environment": "\(key)", "ok": "\(ok)"])
    }
}
