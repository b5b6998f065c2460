import Foundation
import GroveModel
import Testing

/// The two ways Platform.sh projects install Python packages both build and serve: a plain `pip install` in the
/// build hook, and a virtualenv of the project's own (as pipenv and poetry make).
@Suite("Python build styles")
struct PythonBuildStyleTests {
    static let server = """
    import json, os, sys, http.server
    import platformshconfig
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def do_GET(self):
            body = json.dumps({"prefix": sys.prefix, "module": platformshconfig.__file__}).encode()
            self.send_response(200); self.end_headers(); self.wfile.write(body)
    http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
    """

    @Test("plain pip in the hook, and pip inside a project virtualenv")
    func pipStyles() async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let (_, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        // Plain: packages land in .global, which python3 (and /usr/bin/python3) import from at runtime.
        let plain = "name: app\ntype: python:3.11\nhooks:\n  build: |\n    pip install -r requirements.txt\n    python -m pip --version\nweb:\n  commands:\n    start: /usr/bin/python3 server.py\n"
        try tree.commit([".platform.app.yaml": plain, "requirements.txt": "platformshconfig\n", "server.py": Self.server])
        var (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        var (code, body) = try s.fetch(pid)
        var j = (try? JSON.parse(body)) ?? .null
        #expect(code == 200 && j["module"]?.stringValue?.hasPrefix("/app/.global/") == true, "\(body)")

        // A virtualenv under the app directory, upgraded pip inside it (the Wagtail template's pipenv does this).
        let venv = "name: app\ntype: python:3.11\nhooks:\n  build: |\n    python3 -m venv env\n    env/bin/python -m pip install --quiet --upgrade pip\n    env/bin/pip install --quiet -r requirements.txt\nweb:\n  commands:\n    start: env/bin/python server.py\n"
        try tree.commit([".platform.app.yaml": venv])
        (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        #expect(!out.contains("Can not perform a '--user' install"), "\(out)")
        (code, body) = try s.fetch(pid)
        j = (try? JSON.parse(body)) ?? .null
        #expect(code == 200 && j["prefix"] == "/app/env" && j["module"]?.stringValue?.hasPrefix("/app/env/") == true, "\(body)")
    }
}
