import GroveConfig
import Testing

@Suite struct ApplicationConfigTests {
    static let full = """
    name: shop
    type: "python:3.12"
    size: M
    disk: 1024
    dependencies:
      python3: {poetry: "*"}
    build: {flavor: none}
    hooks:
      build: |
        set -e
        pip install -r requirements.txt
      deploy: python manage.py migrate
      post_deploy: python manage.py warm
    web:
      commands:
        pre_start: ./warm.sh
        start: "gunicorn -b 0.0.0.0:$PORT shop.wsgi"
      upstream: {socket_family: tcp, protocol: http}
      locations:
        "/":
          passthru: true
        "/static":
          root: static
          expires: 7d
          allow: true
          headers: {X-Frame-Options: SAMEORIGIN}
          rules:
            '\\.map$': {allow: false}
    mounts:
      "media": {source: local, source_path: media}
      "/.cache": {source: tmp}
      "legacy": "shared:files/old"
    relationships:
      database: "db:postgresql"
      cache: {service: kv, endpoint: redis}
      kv:
    crons:
      sitemap: {spec: "H */6 * * *", commands: {start: "python sitemap.py"}, timeout: 600}
    workers:
      queue:
        size: S
        commands: {start: "python worker.py"}
        variables: {env: {ROLE: worker}}
    variables:
      env: {DEBUG: "false"}
      django: {SETTINGS: prod}
    access: {ssh: admin}
    timezone: Europe/Paris
    additional_hosts: {api.internal: 192.0.2.10}
    operations:
      clear: {role: admin, commands: {start: "rm -rf /tmp/x"}}
    source:
      operations:
        bump: {command: "git commit --allow-empty -m bump"}
    """

    static let services = """
    db: {type: "postgresql:16", disk: 2048}
    kv: {type: "redis:7.2"}
    """

    @Test func everyKeyFamilyIsRead() async throws {
        let (config, issues) = await load([".platform.app.yaml": Self.full, ".platform/services.yaml": Self.services,
                                           "requirements.txt": "flask\n", "static/app.css": "body{}"])
        #expect(issues.isEmpty, "\(rendered(issues))")
        let app = try #require(config?.application("shop"))
        #expect(app.type == TypeAndVersion(name: "python", version: "3.12"))
        #expect(app.size == "M" && app.disk == 1024 && app.root == "")
        #expect(app.dependencies["python3"] == ["poetry": "*"])
        #expect(app.hooks.build?.contains("pip install") == true && app.hooks.deploy != nil && app.hooks.postDeploy != nil)
        #expect(app.web.commands.start?.hasPrefix("gunicorn") == true && app.web.commands.preStart == "./warm.sh")
        #expect(app.web.socketFamily == "tcp" && app.web.upstreamProtocol == "http")
        #expect(app.web.locations.map(\.path) == ["/", "/static"])
        let staticLoc = app.web.locations[1].location
        #expect(staticLoc.root == "static" && staticLoc.expires == "7d" && staticLoc.headers["X-Frame-Options"] == "SAMEORIGIN")
        #expect(staticLoc.rules.first?.location.allow == false)
        #expect(app.web.locations[0].location.passthru == .on)
        #expect(app.mounts["media"] == .init(source: "local", sourcePath: "media", service: nil))
        #expect(app.mounts[".cache"] == .init(source: "tmp", sourcePath: ".cache", service: nil))
        #expect(app.mounts["legacy"] == .init(source: "local", sourcePath: "old", service: nil))
        #expect(app.relationships["database"] == .init(service: "db", endpoint: "postgresql"))
        #expect(app.relationships["cache"] == .init(service: "kv", endpoint: "redis"))
        #expect(app.relationships["kv"] == .init(service: "kv", endpoint: nil))
        #expect(app.crons["sitemap"]?.timeout == 600 && app.crons["sitemap"]?.shutdownTimeout == 10)
        #expect(app.workers["queue"]?.commands.start == "python worker.py")
        #expect(app.variables["env"]?["DEBUG"] == "false")
        #expect(app.sshAccess == "admin" && app.timezone == "Europe/Paris")
        #expect(app.additionalHosts["api.internal"] == "192.0.2.10")
        #expect(app.operations["clear"]?.role == "admin")
        #expect(app.sourceOperations["bump"] != nil)
        #expect(config?.warnings.isEmpty == true, "\(rendered(config?.warnings ?? []))")
        #expect(config?.routesImplicit == true && config?.routes.first?.upstream == "shop")
    }

    @Test func defaultsFollowTheRuntime() async throws {
        let (config, issues) = await load([".platform.app.yaml": "name: site\ntype: php:8.3\n"])
        #expect(issues.isEmpty, "\(rendered(issues))")
        let app = try #require(config?.application("site"))
        #expect(app.web.socketFamily == "unix" && app.web.upstreamProtocol == "fastcgi")
        #expect(app.buildFlavor == "composer" && app.sshAccess == "contributor" && app.timezone == "UTC" && app.size == "AUTO")
    }

    @Test func appInSubdirectoryHasItsRoot() async throws {
        let (config, issues) = await load(["backend/.platform.app.yaml": "name: api\ntype: nodejs:20\nweb: {commands: {start: node s.js}}\n",
                                           "backend/s.js": ""])
        #expect(issues.isEmpty, "\(rendered(issues))")
        #expect(config?.application("api")?.root == "backend")
    }

    @Test(arguments: [
        ("name: a\ntype: cobol:1\nweb: {commands: {start: x}}\n", "type: unknown runtime cobol"),
        ("name: a\ntype: python:1.0\nweb: {commands: {start: x}}\n", "type: python version 1.0 is not supported"),
        ("name: a\ntype: python\n", "type: python is not runtime:version"),
        ("type: python:3.12\nweb: {commands: {start: x}}\n", "name: is required"),
        ("name: Bad Name\ntype: python:3.12\nweb: {commands: {start: x}}\n", "not a valid application name"),
        ("name: a\ntype: python:3.12\n", "web.commands.start: is required for python"),
        ("name: a\ntype: php:8.3\nsize: HUGE\n", "size: HUGE is not supported"),
        ("name: a\ntype: php:8.3\ndisk: 10\n", "disk: must be at least 128"),
        ("name: a\ntype: php:8.3\nmounts: {up: {source: cloud}}\n", "mounts.up.source: cloud is not a mount source"),
        ("name: a\ntype: php:8.3\nmounts: {up: {source: service}}\n", "mounts.up.service: is required"),
        ("name: a\ntype: php:8.3\ncrons: {c: {spec: '61 * * * *', commands: {start: x}}}\n", "crons.c.spec:"),
        ("name: a\ntype: php:8.3\ncrons: {c: {spec: '* * *', commands: {start: x}}}\n", "five fields"),
        ("name: a\ntype: php:8.3\ncrons: {c: {spec: '* * * * *'}}\n", "crons.c.commands.start: is required"),
        ("name: a\ntype: php:8.3\naccess: {ssh: root}\n", "access.ssh: root is not supported"),
        ("name: a\ntype: php:8.3\nbuild: {flavor: magic}\n", "build.flavor: magic is not supported"),
        ("name: a\ntype: php:8.3\ndependencies: {cobol: {x: '1'}}\n", "dependencies.cobol: cobol is not a dependency manager"),
        ("name: a\ntype: php:8.3\nweb: {locations: {static: {root: s}}}\n", "location keys are URL paths"),
        ("name: a\ntype: php:8.3\nweb: {locations: {'/': {expires: soon}}}\n", "soon is not a duration"),
        ("name: a\ntype: php:8.3\nweb: {upstream: {socket_family: udp}}\n", "web.upstream.socket_family: udp is not supported"),
        ("name: a\ntype: php:8.3\nworkers: {q: {size: S}}\n", "workers.q.commands.start: is required"),
        ("name: a\ntype: php:8.3\noperations: {o: {role: admin}}\n", "operations.o.commands.start: is required"),
        ("name: a\ntype: php:8.3\nsource: {root: nowhere}\n", "source.root: no directory nowhere"),
        ("name: a\ntype: php:8.3\nrelationships: {db: 42}\n", "relationships.db: must be empty"),
        ("name: a\ntype: composable:25.05\n", "stack: is required"),
        ("name: a\ntype: php:8.3\nhooks: {build: [1, 2]}\n", "hooks.build: must be a string"),
        ("name: a\ntype: php:8.3\nmounts: {'var': {source: local}, 'var/tmp': {source: tmp}}\n", "lies inside mount var"),
    ])
    func invalidAppsAreRefusedWithTheirKey(yaml: String, expected: String) async {
        let (config, issues) = await load([".platform.app.yaml": yaml])
        #expect(config == nil)
        #expect(rendered(issues).contains(expected), "\(rendered(issues))")
        #expect(issues.allSatisfy { $0.file == ".platform.app.yaml" && $0.line != nil }, "\(rendered(issues))")
    }

    @Test func unknownKeysAreWarningsWithLines() async throws {
        let (config, issues) = await load([".platform.app.yaml": "name: a\ntype: php:8.3\nsparkles: true\nweb:\n  glitter: 1\n"])
        #expect(issues.isEmpty)
        let w = rendered(config?.warnings ?? [])
        #expect(w.contains(".platform.app.yaml:3: sparkles: unknown key"), "\(w)")
        #expect(w.contains(".platform.app.yaml:5: web.glitter: unknown key"), "\(w)")
    }

    @Test func invalidYAMLNamesTheLine() async {
        let (_, issues) = await load([".platform.app.yaml": "name: a\ntype: php:8.3\nweb:\n  commands: [\n"])
        #expect(issues.count == 1)
        #expect(issues.first?.file == ".platform.app.yaml" && issues.first?.line != nil)
        #expect(issues.first?.message.hasPrefix("invalid YAML") == true)
    }

    @Test func duplicateKeysAreRefused() async {
        let (_, issues) = await load([".platform.app.yaml": "name: a\ntype: php:8.3\nname: b\n"])
        #expect(rendered(issues).contains("duplicate key name"), "\(rendered(issues))")
        #expect(issues.first?.line != nil)
    }
}
