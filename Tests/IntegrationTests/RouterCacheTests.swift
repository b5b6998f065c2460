import Foundation
import GroveModel
import Testing

@Suite("Router cache per route")
struct RouterCacheTests {
    static let server = """
    import os, http.server, itertools
    n = itertools.count(1)
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def do_GET(self):
            body = str(next(n)).encode()
            self.send_response(200)
            if self.path in ("/", "/live/"): self.send_header("Cache-Control", "max-age=60")
            self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
    """
    static let routes = """
    "https://{default}/": {type: upstream, upstream: "app:http", cache: {enabled: true, cookies: []}}
    "https://{default}/live": {type: upstream, upstream: "app:http", cache: {enabled: false}}
    "https://{default}/ttl": {type: upstream, upstream: "app:http", cache: {enabled: true, default_ttl: 60, cookies: []}}
    """

    @Test("responses are cached as Cache-Control or default_ttl say; cache: false passes through", arguments: [Backend.sqlite])
    func cache(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let (_, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit([".platform.app.yaml": "name: app\ntype: python:3.11\nweb:\n  commands:\n    start: python3 server.py\n",
                         "server.py": Self.server, ".platform/routes.yaml": Self.routes])
        let (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        let host = "main-\(pid).localhost"
        func get(_ path: String) throws -> (body: String, cache: String) {
            let (_, o) = try Spawn.run("/usr/bin/curl", ["-s", "-k", "-D", "-", "--resolve", "\(host):\(s.routerTLSPort):127.0.0.1",
                                                         "https://\(host):\(s.routerTLSPort)\(path)"])
            let parts = o.components(separatedBy: "\r\n\r\n")
            let header = parts.first?.split(separator: "\r\n").first { $0.lowercased().hasPrefix("x-platform-cache:") }
            return (parts.dropFirst().joined(), header.map { $0.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces) } ?? "")
        }
        let a = try get("/"), b = try get("/")
        #expect(a.body == b.body && a.cache == "MISS" && b.cache == "HIT", "\(a) \(b)")
        let c = try get("/plain"), d = try get("/plain")
        #expect(c.body != d.body, "no Cache-Control, no default_ttl: not cached (\(c) \(d))")
        let e = try get("/live/"), f = try get("/live/")
        #expect(e.body != f.body && f.cache == "", "cache disabled (\(e) \(f))")
        let g = try get("/ttl/"), h = try get("/ttl/")
        #expect(g.body == h.body && h.cache == "HIT", "default_ttl (\(g) \(h))")
    }
}
