import GroveConfig
import GroveModel
import GroveRouter
import Testing

@Suite struct RouteTableTests {
    func routes(_ yaml: String) async throws -> [RouteConfig] {
        try await ProjectConfig.load(from: InMemoryFiles([
            ".platform/applications.yaml": "app: {type: 'php:8.3'}\napi: {type: 'php:8.3'}\n", ".platform/routes.yaml": yaml,
        ])).routes
    }

    @Test func productionAndPreviewHosts() async throws {
        let config = try await routes("""
        "https://{default}/": {type: upstream, upstream: "app:http", id: main}
        "https://api.{default}/v1": {type: upstream, upstream: "api:http"}
        "https://www.{default}/": {type: redirect, to: "https://{default}/"}
        "https://shop.example.com/": {type: upstream, upstream: "app:http"}
        """)
        let prod = RouteTable(config: config, envHost: "main-p1.localhost", isProduction: true, port: 8080)
        #expect(prod.routes.map(\.url) == ["http://main-p1.localhost:8080/", "http://api.main-p1.localhost:8080/v1/",
                                           "http://www.main-p1.localhost:8080/", "http://shop.example.com:8080/"])
        #expect(prod.routes[0].primary && !prod.routes[1].primary)
        #expect(prod.routes[2].target == .redirect(to: "http://main-p1.localhost:8080/", code: 301))
        // Previews move absolute hosts onto the environment host.
        let preview = RouteTable(config: config, envHost: "dev-p1.localhost", isProduction: false, port: 80)
        #expect(preview.routes.map(\.url) == ["http://dev-p1.localhost/", "http://api.dev-p1.localhost/v1/", "http://www.dev-p1.localhost/"])
        let json = prod.platformRoutes
        #expect(json["http://main-p1.localhost:8080/"]?["upstream"] == "app")
        #expect(json["http://main-p1.localhost:8080/"]?["id"] == "main")
        #expect(json["http://main-p1.localhost:8080/"]?["original_url"] == "https://{default}/")
        #expect(json["http://www.main-p1.localhost:8080/"]?["type"] == "redirect")
    }

    @Test func defaultWinsOverAll() async throws {
        let config = try await routes("""
        "https://{all}/": {type: upstream, upstream: "api:http"}
        "https://{default}/": {type: upstream, upstream: "app:http"}
        """)
        let t = RouteTable(config: config, envHost: "main-p.localhost", isProduction: true, port: 80)
        #expect(t.routes.count == 1 && t.routes[0].target == .upstream(app: "app"))
    }
}
