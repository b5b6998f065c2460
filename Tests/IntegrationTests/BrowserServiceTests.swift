import Foundation
import GroveModel
import Testing

/// `chrome-headless`: Debian's Chromium as an environment's service, driven by an application over its DevTools
/// endpoint from the relationship, in each environment of its own.
@Suite("Headless Chrome service")
struct BrowserServiceTests {
    static let app = """
    name: app
    type: python:3.11
    relationships:
      browser: "chrome:http"
    web:
      commands:
        start: python3 server.py
    """
    /// Opens a tab on a data: URL through the DevTools HTTP API and reports the browser and the tab's title.
    static let server = """
    import base64, json, os, http.server, urllib.request, urllib.parse
    rel = json.loads(base64.b64decode(os.environ["PLATFORM_RELATIONSHIPS"]))["browser"][0]
    base = "http://%s:%d" % (rel["host"], rel["port"])
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def do_GET(self):
            version = json.load(urllib.request.urlopen(base + "/json/version", timeout=10))
            page = "data:text/html," + urllib.parse.quote("<title>grove-tab</title>")
            req = urllib.request.Request(base + "/json/new?" + page, method="PUT")
            tab = json.load(urllib.request.urlopen(req, timeout=10))
            body = ("%s|%s|%s" % (rel["scheme"], version["Browser"].split("/")[0], tab["type"])).encode()
            self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
    """

    @Test("an application drives the environment's headless Chromium through the relationship; a branch gets its own")
    func drivesChromium() async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let (_, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit([".platform.app.yaml": Self.app, "server.py": Self.server,
                         ".platform/services.yaml": "chrome:\n  type: chrome-headless:120\n",
                         ".platform/routes.yaml": "\"http://{default}/\":\n  type: upstream\n  upstream: \"app:http\"\n"])
        var (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        #expect(out.contains("chrome-headless:120 requested; this host runs Chromium"), "the push says which version serves: \(out)")
        let page = try s.fetch(pid)
        #expect(page.0 == 200 && ["http|Chrome|page", "http|HeadlessChrome|page"].contains(page.1), "\(page)")

        (st, out) = try tree.push(["-o", "environment.status=active", "HEAD:refs/heads/feature"])
        #expect(st == 0, "\(out)")
        let branch = try s.fetch(pid, environment: "feature")
        #expect(branch.0 == 200 && ["http|Chrome|page", "http|HeadlessChrome|page"].contains(branch.1), "\(branch)")
    }

    @Test("a chrome-headless version Platform.sh does not offer is refused at push time")
    func unknownVersionIsRefused() async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let (_, _, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit([".platform.app.yaml": Self.app, "server.py": Self.server,
                         ".platform/services.yaml": "chrome:\n  type: chrome-headless:999\n"])
        let (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st != 0 && out.contains("chrome-headless"), "\(out)")
    }
}
