import GroveConfig
import GroveModel
import GroveDriver
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

@Suite struct RouteTableTLSAndDomainTests {
    func routes(_ yaml: String) async throws -> [RouteConfig] {
        try await ProjectConfig.load(from: InMemoryFiles([
            ".platform/applications.yaml": "app: {type: 'php:8.3'}\n", ".platform/routes.yaml": yaml,
        ])).routes
    }

    @Test func httpsOnlyRoutesGetAPlainHTTPRedirect() async throws {
        let config = try await routes("\"https://{default}/\": {type: upstream, upstream: \"app:http\"}\n")
        let t = RouteTable(config: config, hosts: RouteHosts(envHost: "main-p.localhost", isProduction: true, httpPort: 80, httpsPort: 443))
        #expect(t.routes.map(\.url) == ["https://main-p.localhost/", "http://main-p.localhost/"])
        #expect(t.routes[1].upgradesScheme && t.routes[1].target == .redirect(to: "https://main-p.localhost/", code: 301))
        #expect(t.platformRoutes["http://main-p.localhost/"]?["original_url"] == "http://{default}/")
        #expect(t.routes[0].primary)
    }

    @Test func explicitHTTPRouteIsKept() async throws {
        let config = try await routes("""
        "https://{default}/": {type: upstream, upstream: "app:http"}
        "http://{default}/": {type: upstream, upstream: "app:http"}
        """)
        let t = RouteTable(config: config, hosts: RouteHosts(envHost: "e.localhost", isProduction: true, httpPort: 8080, httpsPort: 8443))
        #expect(t.routes.map(\.url) == ["https://e.localhost:8443/", "http://e.localhost:8080/"])
        #expect(t.routes.filter(\.upgradesScheme).isEmpty)
    }

    @Test func productionServesTheProjectDomainsFirst() async throws {
        let config = try await routes("""
        "https://{default}/": {type: upstream, upstream: "app:http", primary: true}
        "https://www.{default}/": {type: redirect, to: "https://{default}/"}
        "https://{all}/blog": {type: upstream, upstream: "app:http"}
        """)
        let h = RouteHosts(envHost: "main-p.localhost", isProduction: true, httpPort: 80, httpsPort: 443,
                           domains: ["example.com", "example.org"], defaultDomain: "example.org")
        let t = RouteTable(config: config, hosts: h)
        let https = t.routes.filter { $0.scheme == "https" }.map(\.url)
        #expect(https == ["https://example.org/", "https://main-p.localhost/", "https://www.example.org/", "https://www.main-p.localhost/",
                          "https://example.com/blog/", "https://example.org/blog/", "https://main-p.localhost/blog/"])
        #expect(t.routes.first { $0.primary }?.url == "https://example.org/")
        #expect(t.routes.first { $0.host == "www.example.org" && $0.scheme == "https" }?.target == .redirect(to: "https://example.org/", code: 301))
    }

    @Test func previewsServeTheirReplacementDomains() async throws {
        let config = try await routes("""
        "https://{default}/": {type: upstream, upstream: "app:http"}
        "https://shop.example.com/": {type: upstream, upstream: "app:http"}
        """)
        let h = RouteHosts(envHost: "dev-p.localhost", isProduction: false, httpPort: 80, httpsPort: 443,
                           domains: ["example.com"], defaultDomain: "example.com",
                           replacements: ["example.com": ["dev.example.com"], "shop.example.com": ["shop-dev.example.com"]])
        var t = RouteTable(config: config, hosts: h)
        #expect(t.routes.filter { $0.scheme == "https" }.map(\.url) == ["https://dev-p.localhost/", "https://dev.example.com/", "https://shop-dev.example.com/"])
        // Without a replacement only the generated host serves.
        t = RouteTable(config: config, hosts: RouteHosts(envHost: "dev-p.localhost", isProduction: false, httpPort: 80, httpsPort: 443,
                                                         defaultDomain: "example.com", replacements: [:]))
        #expect(t.routes.filter { $0.scheme == "https" }.map(\.url) == ["https://dev-p.localhost/"])
    }
}
