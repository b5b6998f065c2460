import Foundation
import GroveModel
import Testing

/// `rabbitmq`: Debian's RabbitMQ per environment, reached over AMQP with the relationship's credentials, virtual
/// hosts from the configuration; a branch starts from a copy of its parent's broker (its queues).
@Suite("RabbitMQ service")
struct MessagingServiceTests {
    static let app = """
    name: app
    type: python:3.11
    relationships:
      queue: "broker:rabbitmq"
      admin: "broker:management"
    hooks:
      build: pip install pika==1.3.2
    web:
      commands:
        start: python3 server.py
    """
    static let services = """
    broker:
      type: rabbitmq:3.12
      disk: 512
      configuration:
        vhosts:
          - orders
    """
    /// `/send` declares a durable queue in the `orders` vhost and publishes to it; `/check` looks the queue up
    /// without creating it.
    static let server = """
    import base64, json, os, http.server, pika
    rel = json.loads(base64.b64decode(os.environ["PLATFORM_RELATIONSHIPS"]))["queue"][0]
    def channel():
        creds = pika.PlainCredentials(rel["username"], rel["password"])
        conn = pika.BlockingConnection(pika.ConnectionParameters(host=rel["host"], port=rel["port"], virtual_host="orders", credentials=creds))
        return conn, conn.channel()
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def do_GET(self):
            conn, ch = channel()
            try:
                if self.path == "/management":
                    import urllib.request
                    m = json.loads(base64.b64decode(os.environ["PLATFORM_RELATIONSHIPS"]))["admin"][0]
                    req = urllib.request.Request("http://%s:%d/api/vhosts" % (m["host"], m["port"]))
                    req.add_header("Authorization", "Basic " + base64.b64encode(("%s:%s" % (m["username"], m["password"])).encode()).decode())
                    names = sorted(v["name"] for v in json.load(urllib.request.urlopen(req, timeout=10)))
                    body = "%s|%s" % (m["scheme"], ",".join(names))
                elif self.path == "/send":
                    ch.queue_declare(queue="jobs", durable=True)
                    ch.basic_publish(exchange="", routing_key="jobs", body=b"job-1", properties=pika.BasicProperties(delivery_mode=2))
                    q = ch.queue_declare(queue="jobs", passive=True)
                    body = "%s|sent|%d" % (rel["scheme"], q.method.message_count)
                else:
                    try:
                        ch.queue_declare(queue="jobs", passive=True)
                        body = "%s|jobs-exists" % rel["scheme"]
                    except pika.exceptions.ChannelClosedByBroker:
                        body = "%s|no-jobs" % rel["scheme"]
            finally:
                try: conn.close()
                except Exception: pass
            data = body.encode()
            self.send_response(200); self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
    http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
    """

    @Test("an application publishes over AMQP to a configured vhost; a branch has the parent's queue")
    func amqpWithBranch() async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let (_, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit([".platform.app.yaml": Self.app, "server.py": Self.server, ".platform/services.yaml": Self.services,
                         ".platform/routes.yaml": "\"http://{default}/\":\n  type: upstream\n  upstream: \"app:http\"\n"])
        var (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        #expect(out.contains("rabbitmq:3.12 requested; this host runs RabbitMQ"), "the push says which version serves: \(out)")
        #expect(try s.fetch(pid, path: "/check").1 == "amqp|no-jobs")
        // The management API, asked for by the `admin` relationship, lists the configured vhosts (it starts a moment
        // after AMQP).
        var management = (0, "")
        try await waitFor(timeout: 60) {
            management = try s.fetch(pid, path: "/management")
            return management.1 == "http|/,orders"
        }
        #expect(management.1 == "http|/,orders", "\(management)")
        let sent = try s.fetch(pid, path: "/send")
        #expect(sent.0 == 200 && sent.1.hasPrefix("amqp|sent|"), "\(sent)")
        #expect(try s.fetch(pid, path: "/check").1 == "amqp|jobs-exists")

        (st, out) = try tree.push(["-o", "environment.status=active", "HEAD:refs/heads/feature"])
        #expect(st == 0, "\(out)")
        // The branch's broker recovers its copied queues while it boots; give a loaded machine a moment.
        var branch = (0, "")
        try? await waitFor(timeout: 90) {
            branch = try s.fetch(pid, environment: "feature", path: "/check")
            return branch.1 == "amqp|jobs-exists"
        }
        #expect(branch.1 == "amqp|jobs-exists", "the branch's broker is a copy of main's: \(branch)")
    }

    @Test("a RabbitMQ of another major version than the host's is refused naming what to use")
    func otherMajorIsRefused() async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let (_, _, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit([".platform.app.yaml": Self.app, "server.py": Self.server,
                         ".platform/services.yaml": "broker:\n  type: rabbitmq:4.0\n  disk: 512\n"])
        let (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st != 0 && out.contains("rabbitmq:4.0 cannot run on this host"), "\(out)")
    }
}
