import Foundation
import GroveModel
import Testing

/// `varnish`: routes to `varnish:http` reach Debian's varnishd, whose backends are the service's relationships to
/// applications and whose behaviour is the project's VCL.
@Suite("Varnish service")
struct VarnishServiceTests {
    static let app = """
    name: app
    type: python:3.11
    web:
      commands:
        start: python3 server.py
    """
    /// Counts requests that reach it; every answer may be cached for a minute.
    static let server = """
    import os, http.server, itertools
    n = itertools.count(1)
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def do_GET(self):
            body = ("%s:%d" % (os.environ.get("GREETING", "hello"), next(n))).encode()
            self.send_response(200); self.send_header("Cache-Control", "max-age=60")
            self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
    """
    static let services = """
    cache:
      type: varnish:7.3
      relationships:
        application: "app:http"
      configuration:
        vcl: !include
          type: string
          path: config.vcl
    """
    static let vcl = """
    sub vcl_recv {
        set req.backend_hint = application.backend();
        if (req.url ~ "^/fresh") {
            return (pass);
        }
    }
    """
    static let routes = "\"http://{default}/\":\n  type: upstream\n  upstream: \"cache:http\"\n  cache:\n    enabled: false\n"

    @Test("routes to varnish:http are cached by the project's VCL in front of the application; redeploys and branches get their own")
    func cachesInFront() async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let (_, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit([".platform.app.yaml": Self.app, "server.py": Self.server, ".platform/services.yaml": Self.services,
                         ".platform/config.vcl": Self.vcl, ".platform/routes.yaml": Self.routes])
        var (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        #expect(out.contains("varnish:7.3 requested; this host runs Varnish"), "\(out)")
        let a = try s.fetch(pid, path: "/page"), b = try s.fetch(pid, path: "/page")
        #expect(a.0 == 200 && a.1.hasPrefix("hello:") && a == b, "the second answer comes from varnish: \(a) \(b)")
        let c = try s.fetch(pid, path: "/fresh"), d = try s.fetch(pid, path: "/fresh")
        #expect(c.0 == 200 && c.1 != d.1, "the VCL passes /fresh to the application: \(c) \(d)")

        // A redeploy moves the application to new ports: varnish follows.
        try tree.commit([".platform.app.yaml": Self.app + "\nvariables:\n  env:\n    GREETING: hi\n"])
        (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        let e = try s.fetch(pid, path: "/page")
        #expect(e.0 == 200 && e.1.hasPrefix("hi:"), "\(e)")

        (st, out) = try tree.push(["-o", "environment.status=active", "HEAD:refs/heads/feature"])
        #expect(st == 0, "\(out)")
        let f = try s.fetch(pid, environment: "feature", path: "/page"), g = try s.fetch(pid, environment: "feature", path: "/page")
        #expect(f.0 == 200 && f.1.hasPrefix("hi:") && f == g, "\(f) \(g)")
    }

    @Test("a VCL that does not compile, or asks for inline C, fails the push and the running varnish keeps serving")
    func brokenVCLKeepsTheOldOne() async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let (_, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit([".platform.app.yaml": Self.app, "server.py": Self.server, ".platform/services.yaml": Self.services,
                         ".platform/config.vcl": Self.vcl, ".platform/routes.yaml": Self.routes])
        var (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        #expect(try s.fetch(pid, path: "/page").1.hasPrefix("hello:"))

        // Inline C would run the tenant's C code inside varnishd: refused, with the compiler's reason.
        try tree.commit([".platform/config.vcl": Self.vcl + "\nC{ #include <stdlib.h> }C\n"])
        (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st != 0 && out.contains("its VCL does not compile") && out.contains(".platform/services.yaml"), "\(out)")
        #expect(try s.fetch(pid, path: "/page").1.hasPrefix("hello:"), "the previous varnish still serves")

        try tree.commit([".platform/config.vcl": "sub vcl_recv { set req.backend_hint = nowhere.backend(); }\n"])
        (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st != 0 && out.contains("its VCL does not compile") && out.contains("nowhere"), "\(out)")
        #expect(try s.fetch(pid, path: "/page").1.hasPrefix("hello:"))
    }
}
