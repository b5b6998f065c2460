import Foundation
import GroveModel
import Testing

@Suite("size limits through cgroups, and unix sockets")
struct ResourceAndSocketTests {
    static let app = """
    name: app
    type: python:3.11
    size: S
    web:
      upstream:
        socket_family: unix
      commands:
        start: python3 server.py
    """
    static let server = """
    import os, socketserver, http.server
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def address_string(self): return "unix"
        def do_GET(self):
            body = ("socket=" + os.environ.get("SOCKET", "") + "\\n" + open("/proc/self/cgroup").read()).encode()
            self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    class S(socketserver.ThreadingMixIn, socketserver.UnixStreamServer): daemon_threads = True
    S(os.environ["SOCKET"], H).serve_forever()
    """

    /// Whether this host lets root make cgroups (v1 memory hierarchy or v2), as the server's detection does.
    static var cgroupsWritable: Bool {
        let fm = FileManager.default
        if fm.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers") { return access("/sys/fs/cgroup", W_OK) == 0 }
        return access("/sys/fs/cgroup/memory", W_OK) == 0 && access("/sys/fs/cgroup/cpu", W_OK) == 0
    }

    @Test("a size S app on a unix socket: served through the socket, held to 128 MB and 0.4 CPU", arguments: [Backend.sqlite])
    func sizeAndSocket(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let (_, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit([".platform.app.yaml": Self.app, "server.py": Self.server])
        let (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        #expect(out.contains("Starting app (web) on socket "), "\(out)")
        let (code, body) = try s.fetch(pid)
        #expect(code == 200 && body.hasPrefix("socket=" + s.dataDir), "\(body)")
        guard Self.cgroupsWritable else {
            #expect(out.contains("size S not enforced"), "\(out)")
            return
        }
        #expect(out.contains("(size S: 0.40 CPU, 128 MB)"), "\(out)")
        let group = try #require(body.split(separator: "\n").compactMap { line -> String? in
            guard let r = line.range(of: "/grove/") else { return nil }
            return String(line[r.upperBound...])
        }.first, "\(body)")
        if FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers") {
            #expect(try String(contentsOfFile: "/sys/fs/cgroup/grove/\(group)/memory.max", encoding: .utf8).hasPrefix("134217728"))
            #expect(try String(contentsOfFile: "/sys/fs/cgroup/grove/\(group)/cpu.max", encoding: .utf8).hasPrefix("40000 100000"))
        } else {
            #expect(try String(contentsOfFile: "/sys/fs/cgroup/memory/grove/\(group)/memory.limit_in_bytes", encoding: .utf8).hasPrefix("134217728"))
            #expect(try String(contentsOfFile: "/sys/fs/cgroup/cpu/grove/\(group)/cpu.cfs_quota_us", encoding: .utf8).hasPrefix("40000"))
        }
    }
}
