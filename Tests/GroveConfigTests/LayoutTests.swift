import GroveConfig
import Testing

@Suite struct LayoutTests {
    @Test func applicationsYAMLListAndMapForms() async throws {
        let list = """
        - name: front
          type: nodejs:20
          source: {root: front}
          web: {commands: {start: node a.js}}
        - name: back
          type: php:8.3
          source: {root: back}
        """
        let map = """
        front:
          type: nodejs:20
          source: {root: front}
          web: {commands: {start: node a.js}}
        back:
          type: php:8.3
          source: {root: back}
        """
        for doc in [list, map] {
            let (config, issues) = await load([".platform/applications.yaml": doc, "front/a.js": "", "back/index.php": "",
                                               ".platform/routes.yaml": "'https://{default}/': {type: upstream, upstream: 'front:http'}\n"])
            #expect(issues.isEmpty, "\(rendered(issues))")
            #expect(config?.applications.map(\.name).sorted() == ["back", "front"])
            #expect(config?.application("front")?.root == "front")
            #expect(config?.layout == .platform)
        }
    }

    @Test func upsunUnifiedFile() async throws {
        let doc = """
        applications:
          api:
            type: "nodejs:20"
            container_profile: HIGH_CPU
            web: {commands: {start: "node server.js"}}
            mounts: {uploads: {source: storage, source_path: uploads}}
            relationships: {db: }
        services:
          db: {type: "postgresql:16"}
        routes:
          "https://{default}/": {type: upstream, upstream: "api:http"}
          "https://www.{default}/": {type: redirect, to: "https://{default}/"}
        """
        let (config, issues) = await load([".upsun/config.yaml": doc, "server.js": ""])
        #expect(issues.isEmpty, "\(rendered(issues))")
        #expect(config?.layout == .upsun)
        #expect(config?.application("api")?.containerProfile == "HIGH_CPU")
        #expect(config?.application("api")?.mounts["uploads"]?.source == "storage")
        #expect(config?.routes.count == 2 && config?.routesImplicit == false)
        #expect(config?.service("db")?.endpoints == ["postgresql"])
    }

    @Test func noConfigurationIsAnEmptyProject() async throws {
        let (config, issues) = await load(["README.md": "hello"])
        #expect(issues.isEmpty)
        #expect(config?.layout == ProjectConfig.Layout.none && config?.applications.isEmpty == true)
    }

    @Test func includesAndArchivesResolve() async throws {
        let app = """
        name: a
        type: php:8.3
        hooks:
          build: !include {type: string, path: build.sh}
        variables: !include vars.yaml
        """
        let services = """
        search:
          type: solr:9.6
          disk: 1024
          configuration:
            cores:
              main: {conf_dir: !archive "solr/conf"}
        bin: {type: "redis:7.2", configuration: {blob: !include {type: binary, path: blob.bin}}}
        """
        let (config, issues) = await load([".platform.app.yaml": app, "build.sh": "echo built\n", "vars.yaml": "env: {A: '1'}\n",
                                           ".platform/services.yaml": services, ".platform/solr/conf/schema.xml": "<x/>",
                                           ".platform/blob.bin": "hi"])
        #expect(issues.isEmpty, "\(rendered(issues))")
        #expect(config?.application("a")?.hooks.build == "echo built\n")
        #expect(config?.application("a")?.variables["env"]?["A"] == "1")
        #expect(config?.service("search")?.configuration["cores"]?["main"]?["conf_dir"] == ".platform/solr/conf")
        #expect(config?.service("bin")?.configuration["blob"] == "aGk=")
    }

    @Test func brokenIncludesAreReported() async {
        let (_, issues) = await load([".platform.app.yaml": "name: a\ntype: php:8.3\nhooks: {build: !include {type: string, path: nope.sh}}\nvariables: !include ../../x.yaml\n",
                                      ".platform/services.yaml": "s: {type: 'solr:9.6', disk: 512, configuration: {conf: !archive missing}}\n"])
        let text = rendered(issues)
        #expect(text.contains(".platform.app.yaml:3: !include nope.sh: no file nope.sh"), "\(text)")
        #expect(text.contains("points outside the repository"), "\(text)")
        #expect(text.contains(".platform/services.yaml:1: !archive missing: no directory .platform/missing"), "\(text)")
    }

    @Test func includeCyclesAreRefused() async {
        let (_, issues) = await load([".platform.app.yaml": "name: a\ntype: php:8.3\nvariables: !include a.yaml\n", "a.yaml": "x: !include b.yaml\n", "b.yaml": "y: !include a.yaml\n"])
        #expect(rendered(issues).contains("includes itself"), "\(rendered(issues))")
    }

    @Test func mergeKeysApply() async throws {
        let doc = """
        - &base
          name: one
          type: php:8.3
          source: {root: one}
        - <<: *base
          name: two
          source: {root: two}
        """
        let (config, issues) = await load([".platform/applications.yaml": doc, "one/x": "", "two/x": ""])
        #expect(issues.isEmpty, "\(rendered(issues))")
        #expect(config?.application("two")?.type.name == "php" && config?.application("two")?.root == "two")
    }

    @Test func duplicateApplicationsAreRefused() async {
        let (_, issues) = await load([".platform.app.yaml": "name: a\ntype: php:8.3\n", "sub/.platform.app.yaml": "name: a\ntype: php:8.3\n"])
        #expect(rendered(issues).contains("application a is also declared in .platform.app.yaml:1"), "\(rendered(issues))")
    }
}

@Suite struct ApplicationsIncludeTests {
    @Test func includesInApplicationsYAMLResolveFromThePlatformDirectory() async throws {
        let files = [
            ".platform/applications.yaml": "- !include pip.app.yaml\n",
            ".platform/pip.app.yaml": "name: app\ntype: python:3.12\nweb: {commands: {start: python3 -m http.server $PORT}}\nhooks:\n  build: !include {type: string, path: build.sh}\n",
            ".platform/build.sh": "pip install -r requirements.txt\n",
            "requirements.txt": "",
        ]
        let (config, issues) = await load(files)
        #expect(issues.isEmpty, "\(rendered(issues))")
        #expect(config?.application("app")?.hooks.build == "pip install -r requirements.txt\n")
        #expect(config?.application("app")?.root == "")
        // A path from the repository root is still reachable with a leading slash.
        let (_, rooted) = await load([".platform/applications.yaml": "- !include /apps/web.yaml\n",
                                      "apps/web.yaml": "name: web\ntype: python:3.12\nweb: {commands: {start: python3 -m http.server $PORT}}\n"])
        #expect(rooted.isEmpty, "\(rendered(rooted))")
    }
}
