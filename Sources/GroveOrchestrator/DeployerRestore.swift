import Foundation
import GroveConfig
import GroveDriver
import GroveGit
import GroveModel

extension Deployer {
    /// A worker's start: brings the runtime to what the store says each environment should run (same artifacts and
    /// ports, no hooks). Records of environments that are no longer active are dropped.
    public func restore() async {
        await redeployLegacy()
        let records: [DeploymentRecord]
        do { records = try await store.deployments(projectId: nil) } catch {
            logger.error("cannot read the deployment records: \(error)")
            return
        }
        for r in records {
            let key = Self.envKey(r.projectId, r.environmentId)
            guard let env = try? await store.environment(projectId: r.projectId, id: r.environmentId), env.status == .active else {
                try? await store.deleteDeployment(projectId: r.projectId, environmentId: r.environmentId)
                continue
            }
            guard let d = try? DesiredDeployment.decode(r.desired) else {
                logger.error("the deployment record of \(key) cannot be read: redeploy the environment")
                continue
            }
            await restore(key, env: env, deployment: d)
        }
    }

    /// Grove before deployment records kept each environment's deployment as a file of its own shape. Those
    /// environments are redeployed (a `environment.redeploy` activity: the build cache has their artifacts, only
    /// post_deploy hooks run), then the files go.
    func redeployLegacy() async {
        let legacy = (options.dataDir as NSString).appendingPathComponent("deployments")
        guard let projects = try? FileManager.default.contentsOfDirectory(atPath: legacy) else { return }
        for p in projects {
            for f in (try? FileManager.default.contentsOfDirectory(atPath: legacy + "/" + p)) ?? [] where f.hasSuffix(".json") {
                let stem = String(f.dropLast(5))
                let envId = stem.removingPercentEncoding ?? stem
                guard let env = try? await store.environment(projectId: p, id: envId), env.status == .active,
                      (try? await store.deployment(projectId: p, environmentId: envId)) == nil else { continue }
                let a = Activity(projectId: p, environments: [envId], type: "environment.redeploy", userId: nil,
                                 description: "Grove redeployed <environment data-id=\"\(envId)\">\(envId)</environment> after an upgrade",
                                 text: "Grove redeployed \(envId) after an upgrade", parameters: .object(JSONObject()),
                                 seq: SequenceClock.shared.next(), createdAt: Timestamp.now())
                do {
                    try await store.insertActivity(a)
                    logger.notice("redeploying \(p)/\(envId): its deployment was recorded by an older Grove")
                } catch {
                    logger.error("cannot queue the redeploy of \(p)/\(envId): \(error)")
                    return
                }
            }
        }
        try? FileManager.default.removeItem(atPath: legacy)
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
        var observed: [ObservedInstance] = []
        for a in d.apps {
            // Same ports as before the stop (PHP-FPM's configuration names its port); they were freed with the processes.
            do {
                let endpoint = try await apps.start(a, waitUntilReady: false)
                observed.append(ObservedInstance(a, endpoint: endpoint))
                if let port = a.listener.port, let app = config?.application(a.app) {
                    upstreams[a.app] = Self.upstream(app, artifact: a.artifact, endpoint: endpoint, port: port)
                }
            } catch {
                logger.error("cannot restore \(a.id): \(error)")
                observed.append(ObservedInstance(failed: a, error: "\(error)"))
                ok = false
            }
        }
        current[key] = d
        await save(key, d, observed: observed)
        if let (table, certificates) = routing {
            try? await router.publish(key, RouterSite(routes: table.routes, upstreams: upstreams, certificates: certificates, logDir: apps.logDirectory(key)))
        }
        logger.info("restored deployment", metadata: ["environment": "\(key)", "ok": "\(ok)"])
    }
}
