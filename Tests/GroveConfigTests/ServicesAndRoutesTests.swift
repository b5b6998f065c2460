import GroveConfig
import Testing

@Suite struct ServicesAndRoutesTests {
    static let app = "name: app\ntype: php:8.3\nrelationships: {database: 'db:mysql'}\n"

    @Test func rabbitmqVirtualHostsAreChecked() async throws {
        let app = "name: app\ntype: python:3.12\nweb: {commands: {start: 'python3 app.py'}}\nrelationships: {queue: 'mq:rabbitmq', admin: 'mq:management'}\n"
        var (config, issues) = await load([".platform.app.yaml": app, ".platform/services.yaml": "mq:\n  type: rabbitmq:3.12\n  disk: 512\n  configuration:\n    vhosts: [orders]\n"])
        #expect(issues.isEmpty && config?.service("mq")?.endpoints.contains("management") == true, "\(rendered(issues))")
        // A name with a control character would travel into the broker's definitions and into URLs.
        (config, issues) = await load([".platform.app.yaml": app,
                                       ".platform/services.yaml": "mq:\n  type: rabbitmq:3.12\n  disk: 512\n  configuration:\n    vhosts: [\"ok\", \"bad\\u0001name\", \"\"]\n"])
        #expect(config == nil && rendered(issues).contains(".platform/services.yaml") && rendered(issues).contains("vhosts"), "\(rendered(issues))")
        #expect(rendered(issues).contains("'' is not a virtual host name") && !rendered(issues).contains("'ok'"), "\(rendered(issues))")
    }

    @Test func databaseEndpointsAndSchemas() async throws {
        let services = """
        db:
          type: mariadb:10.11
          disk: 2048
          configuration:
            schemas: [main, legacy]
            endpoints:
              admin: {default_schema: main, privileges: {main: admin, legacy: admin}}
              reporter: {privileges: {main: ro}}
        """
        let app = "name: app\ntype: php:8.3\nrelationships: {database: 'db:admin', reports: {service: db, endpoint: reporter}}\n"
        let (config, issues) = await load([".platform.app.yaml": app, ".platform/services.yaml": services])
        #expect(issues.isEmpty, "\(rendered(issues))")
        #expect(config?.service("db")?.endpoints.sorted() == ["admin", "reporter"])
        #expect(config?.service("db")?.disk == 2048)
    }

    @Test(arguments: [
        ("db: {type: 'mariadb:10.11', disk: 512}\n", "name: app\ntype: php:8.3\nrelationships: {database: 'nosuch:mysql'}\n", "relationships.database: no service or application named nosuch"),
        ("db: {type: 'mariadb:10.11', disk: 512}\n", "name: app\ntype: php:8.3\nrelationships: {database: 'db:postgresql'}\n", "service db has no endpoint postgresql"),
        ("db: {type: 'oracle:19'}\n", Self.app, "db.type: unknown service type oracle"),
        ("db: {type: 'postgresql:3'}\n", Self.app, "db.type: postgresql version 3 is not supported"),
        ("db: {disk: 100}\n", Self.app, "db.type: is required"),
        ("db: {type: 'redis:7.2', disk: 512}\n", Self.app, "db.disk: redis keeps no data on disk"),
        ("db: {type: 'mariadb:10.11', disk: 100}\n", Self.app, "db.disk: must be at least 256"),
        ("db: {type: 'mariadb:10.11', configuration: {schemas: [main], endpoints: {x: {default_schema: other}}}}\n", Self.app, "default_schema: other is not among schemas"),
        ("db: {type: 'postgresql:16', configuration: {endpoints: {x: {privileges: {main: owner}}}}}\n", Self.app, "owner is not a privilege"),
        ("Bad: {type: 'redis:7.2'}\n", Self.app, "service names use"),
    ])
    func invalidServices(services: String, app: String, expected: String) async {
        let (config, issues) = await load([".platform.app.yaml": app, ".platform/services.yaml": services])
        #expect(config == nil)
        #expect(rendered(issues).contains(expected), "\(rendered(issues))")
    }

    @Test func routesReadEveryKey() async throws {
        let routes = """
        "https://{default}/":
          type: upstream
          upstream: "app:http"
          id: main
          primary: true
          cache: {enabled: true, default_ttl: 60, cookies: ['sess'], headers: [Accept]}
          ssi: {enabled: true}
          attributes: {team: web}
          sticky: true
          redirects:
            expires: 1d
            paths:
              "/old": {to: "https://{default}/new", code: 301}
              '^/item/(\\d+)$': {to: "/items/$1", regexp: true}
          tls:
            min_version: TLSv1.3
            strict_transport_security: {enabled: true}
        "https://www.{default}/": {type: redirect, to: "https://{default}/"}
        "https://api.{all}/": {type: proxy, to: "https://example.com/"}
        "http://{default}/legacy": {type: upstream, upstream: app:http, cache: false}
        """
        let (config, issues) = await load([".platform.app.yaml": "name: app\ntype: php:8.3\n", ".platform/routes.yaml": routes])
        #expect(issues.isEmpty, "\(rendered(issues))")
        let main = try #require(config?.routes.first)
        #expect(main.id == "main" && main.primary == true && main.cache.defaultTTL == 60 && main.cache.cookies == ["sess"])
        #expect(main.ssi && main.sticky && main.attributes["team"] == "web")
        #expect(main.redirects.count == 2 && main.redirects[0].code == 301 && main.redirects[1].regexp && main.redirects[1].code == 302)
        #expect(config?.routes[3].cache.enabled == false)
        #expect(config?.routesImplicit == false)
    }

    @Test(arguments: [
        ("'https://{default}/': {type: upstream, upstream: 'ghost:http'}\n", "upstream: no application named ghost"),
        ("'https://{default}/': {type: upstream}\n", "upstream: is required"),
        ("'https://{default}/': {type: redirect}\n", "to: is required for redirect"),
        ("'https://{default}/': {upstream: 'app:http'}\n", "type: is required"),
        ("'https://{default}/': {type: teleport}\n", "type: teleport is not supported"),
        ("'ftp://{default}/': {type: upstream, upstream: 'app:http'}\n", "scheme must be http or https"),
        ("'https://{default}:8443/': {type: upstream, upstream: 'app:http'}\n", "non-default ports"),
        ("'https://{project}/': {type: upstream, upstream: 'app:http'}\n", "only the {default} and {all} placeholders"),
        ("'https://{default}/': {type: upstream, upstream: 'app:http', cache: {headers: [Cookie]}}\n", "Cookie cannot be part of the cache key"),
        ("'https://{default}/': {type: upstream, upstream: 'app:http', redirects: {paths: {'/a': {to: '/b', code: 200}}}}\n", "must be 301, 302, 307 or 308"),
        ("'https://{default}/': {type: upstream, upstream: 'app:http', primary: true}\n'https://a.{default}/': {type: upstream, upstream: 'app:http', primary: true}\n", "only one route can be primary"),
    ])
    func invalidRoutes(routes: String, expected: String) async {
        let (config, issues) = await load([".platform.app.yaml": "name: app\ntype: php:8.3\n", ".platform/routes.yaml": routes])
        #expect(config == nil)
        #expect(rendered(issues).contains(expected), "\(rendered(issues))")
        #expect(issues.allSatisfy { $0.file == ".platform/routes.yaml" && $0.line != nil })
    }

    @Test func appToAppRelationshipsNeedHTTPAndNoCycles() async {
        let apps = """
        a: {type: php:8.3, relationships: {b: 'b:http'}}
        b: {type: php:8.3, relationships: {a: 'a:http'}}
        c: {type: php:8.3, relationships: {a: 'a:mysql'}}
        """
        let (_, issues) = await load([".platform/applications.yaml": apps])
        let text = rendered(issues)
        #expect(text.contains("relationships cannot be circular"), "\(text)")
        #expect(text.contains("must name the http endpoint"), "\(text)")
    }

    @Test func cronSpecsMatch() throws {
        let s = try CronSpec("*/15 9-17 * * mon-fri", seed: 0)
        #expect(s.matches(minute: 30, hour: 10, day: 3, month: 6, weekday: 2))
        #expect(!s.matches(minute: 31, hour: 10, day: 3, month: 6, weekday: 2))
        #expect(!s.matches(minute: 30, hour: 10, day: 3, month: 6, weekday: 0))
        let h = try CronSpec("H 3 * * *", seed: 7)
        #expect(h.minutes == [7])
        #expect(try CronSpec("@daily", seed: 0).hours == [0])
        #expect(CronSpec.problem("* * * * 8") != nil)
    }
}

@Suite struct RoutesFileEditorTests {
    let file = """
    # main site
    "https://{default}/": {type: upstream, upstream: "app:http", id: main}
    "https://www.{default}/":
      type: redirect
      to: "https://{default}/"
    """

    @Test func addReplaceRemoveKeepOrder() throws {
        let added = try RoutesFileEditor.edit(file, key: "https://{default}/blog", route: ["type": "upstream", "upstream": "blog:http"], mustExist: false, mustNotExist: true)
        #expect(RoutesFileEditor.routes(added).map(\.0) == ["https://{default}/", "https://www.{default}/", "https://{default}/blog"])
        #expect(RoutesFileEditor.routes(added)[0].1["id"] == "main")
        let replaced = try RoutesFileEditor.edit(added, key: "https://www.{default}/", route: ["type": "redirect", "to": "https://{default}/x", "primary": false],
                                                 mustExist: true, mustNotExist: false)
        #expect(RoutesFileEditor.routes(replaced)[1].1["to"] == "https://{default}/x" && RoutesFileEditor.routes(replaced)[1].1["primary"] == false)
        let removed = try RoutesFileEditor.edit(replaced, key: "https://{default}/", route: nil, mustExist: true, mustNotExist: false)
        #expect(RoutesFileEditor.routes(removed).map(\.0) == ["https://www.{default}/", "https://{default}/blog"])
    }

    @Test func refusals() throws {
        #expect(throws: RoutesFileEditor.EditError.self) {
            try RoutesFileEditor.edit(file, key: "https://{default}/", route: ["type": "upstream", "upstream": "app:http"], mustExist: false, mustNotExist: true)
        }
        #expect(throws: RoutesFileEditor.EditError.self) {
            try RoutesFileEditor.edit(file, key: "https://{default}/nope", route: nil, mustExist: true, mustNotExist: false)
        }
        #expect(throws: RoutesFileEditor.EditError.self) {
            try RoutesFileEditor.edit("- a\n- b\n", key: "x", route: nil, mustExist: false, mustNotExist: false)
        }
        #expect(try RoutesFileEditor.edit(nil, key: "http://{default}/", route: ["type": "upstream", "upstream": "app:http"], mustExist: false, mustNotExist: true)
            .contains("http://{default}/"))
    }
}

@Suite struct RoutesFileEditorSequenceTests {
    @Test func createUpdateDelete() throws {
        var f = "\"https://{default}/\": {type: upstream, upstream: \"app:http\"}\n"
        f = try RoutesFileEditor.edit(f, key: "https://{default}/old/", route: ["type": "redirect", "to": "https://{default}/"], mustExist: false, mustNotExist: true)
        f = try RoutesFileEditor.edit(f, key: "https://{default}/old/", route: ["type": "redirect", "to": "https://{default}/?from=old"], mustExist: true, mustNotExist: false)
        f = try RoutesFileEditor.edit(f, key: "https://{default}/old/", route: nil, mustExist: true, mustNotExist: false)
        #expect(RoutesFileEditor.routes(f).map(\.0) == ["https://{default}/"], "\(f)")
    }
}

@Suite struct DeprecatedServiceTests {
    @Test func aTypeWithNoVersionLeftSaysSo() async throws {
        let (_, issues) = await load([".platform/services.yaml": "db:\n  type: mongodb:3.6\n  disk: 512\n",
                                      ".platform.app.yaml": "name: app\ntype: python:3.12\nweb: {commands: {start: python3 -m http.server $PORT}}\n"])
        let text = rendered(issues)
        #expect(!text.contains("supported versions: \n") && !text.hasSuffix("supported versions: "), "\(text)")
        var warnings: [ConfigIssue] = []
        if let config = try? await ProjectConfig.load(from: InMemoryFiles([".platform/services.yaml": "db:\n  type: mongodb:3.6\n  disk: 512\n"])) {
            warnings = config.warnings
        }
        let all = text + rendered(warnings)
        #expect(all.contains("mongodb:3.6 is deprecated; no version of mongodb is offered any more; use mongodb-enterprise (7.0, 6.0, 5.0, 4.4)"), "\(all)")
    }
}
