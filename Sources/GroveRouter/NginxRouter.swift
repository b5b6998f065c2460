import Foundation
import GroveConfig
import GroveDriver
import GroveRuntime
import GroveTLS
import Logging

/// The HTTP data plane: nginx from the distribution, run by `grove serve` with a generated configuration and
/// reloaded gracefully (SIGHUP) whenever an environment's routes or upstreams change.
public actor NginxRouter {
    public typealias Upstream = RouterUpstream
    public typealias SiteCertificate = GroveDriver.SiteCertificate
    public typealias Site = RouterSite

    let prefix: String
    public let host: String
    public private(set) var port: Int
    /// The HTTPS port; nil: https routes are served over plain http.
    public private(set) var tlsPort: Int?
    /// Names the generated fallback certificate covers (the base domain's hosts).
    let defaultCertificateNames: [String]
    let logger: Logger
    private var sites: [String: Site] = [:]
    /// The process we started (bubblewrap when available) and nginx's master inside it, which takes SIGHUP.
    private var pid: pid_t?
    private var master: pid_t?
    let bwrap: String?
    private var generation = 0
    let nginx: String?

    /// With `bwrap`, nginx runs in its own PID namespace, so its workers go with it even if grove is killed.
    public init(dataDir: String, host: String, port: Int, tlsPort: Int? = nil, defaultCertificateNames: [String] = ["localhost", "*.localhost"],
                bwrap: String? = nil, logger: Logger) {
        self.bwrap = bwrap
        prefix = (dataDir as NSString).appendingPathComponent("router")
        self.host = host
        self.port = port
        self.tlsPort = tlsPort
        self.defaultCertificateNames = defaultCertificateNames
        self.logger = logger
        nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    public var available: Bool { nginx != nil }

    /// Starts nginx (port 0 picks a free one). Without nginx, serving applications is unavailable and the
    /// deploy step says so.
    public func start() async throws {
        guard let nginx else {
            logger.warning("router: nginx is not installed (apt-get install nginx-light); applications cannot be served")
            return
        }
        let (autoPort, autoTLS) = (port == 0, tlsPort == 0)
        for d in ["", "/tmp", "/logs", "/tls"] { try FileManager.default.createDirectory(atPath: prefix + d, withIntermediateDirectories: true) }
        chmod(prefix + "/tmp", 0o777)
        chmod(prefix + "/tls", 0o700)
        if tlsPort != nil { try ensureDefaultCertificate() }
        // Free ports are picked before nginx binds them: another process can take one in between. Then nginx exits and
        // is started again on new ports (only ports Grove picked; given ones are the operator's to fix).
        for attempt in 1...3 {
            // Picked together, so the two are never the same port.
            let picked = try Exec.freePorts(2)
            if autoPort { port = picked[0] }
            if autoTLS { tlsPort = picked[1] }
            try writeConfig()
            var argv = [nginx, "-p", prefix, "-c", prefix + "/nginx.conf", "-g", "daemon off;"]
            if let bwrap { argv = [bwrap, "--bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid", "--die-with-parent", "--"] + argv }
            let p = try Exec.spawn(argv, env: ["PATH": "/usr/sbin:/usr/bin:/bin"], cwd: prefix, logPath: prefix + "/logs/nginx.out")
            pid = p
            master = bwrap == nil ? p : nil
            // A loaded machine can take seconds to start nginx: wait up to 30 s, or until it exits. Ready means our
            // nginx holds both listeners: another process answering on a port picked as free does not count.
            var exited = false
            let (httpPort, httpsPort) = (port, tlsPort)
            func bound(_ m: pid_t?) -> Bool {
                guard let m else { return false }
                return Exec.holdsListener(pid: m, port: httpPort) && (httpsPort.map { Exec.holdsListener(pid: m, port: $0) } ?? true)
            }
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                if master == nil { master = Exec.descendant(of: p, named: "nginx") }
                if bound(master) { break }
                var status: Int32 = 0
                if waitpid(p, &status, WNOHANG) == p { exited = true; break }
                try await Task.sleep(for: .milliseconds(25))
            }
            if bound(master) { break }
            let why = ((try? String(contentsOfFile: prefix + "/logs/error.log", encoding: .utf8)) ?? "")
                + ((try? String(contentsOfFile: prefix + "/logs/nginx.out", encoding: .utf8)) ?? "")
            if !exited { await Exec.stop(p, grace: .seconds(2)); _ = await Exec.wait(p) }
            pid = nil
            master = nil
            // bubblewrap binds the host's mounts recursively: a network namespace mounted or unmounted meanwhile fails it.
            let racedMount = why.contains("bwrap:") && why.contains("mount")
            guard attempt < 3, racedMount || ((autoPort || autoTLS) && why.contains("in use")) else { throw RuntimeError("nginx did not start: \(why)") }
            logger.notice("router: nginx did not start (\(racedMount ? "a mount changed while its sandbox was made" : "a port was taken before nginx bound it")); starting again")
        }
        let tls = tlsPort.map { " and https://\(host):\($0)" } ?? ""
        logger.info("router: nginx on http://\(host):\(port)\(tls)")
    }

    /// The self-signed certificate for https hosts no project certificate covers; made once, renewed when
    /// it expires within a month or names other hosts.
    func ensureDefaultCertificate() throws {
        let certPath = prefix + "/tls/default.crt", keyPath = prefix + "/tls/default.key"
        if let c = try? String(contentsOfFile: certPath, encoding: .utf8), let k = try? String(contentsOfFile: keyPath, encoding: .utf8),
           let b = try? CertificateBundle(certificate: c, key: k, chain: [], now: Date().addingTimeInterval(30 * 86_400)),
           b.domains == defaultCertificateNames.map({ $0.lowercased() }) {
            return
        }
        let (cert, key) = try SelfSignedCertificate.generate(commonName: defaultCertificateNames.first ?? "localhost", names: defaultCertificateNames)
        try Self.writeSecret(key, to: keyPath)
        try cert.write(toFile: certPath, atomically: true, encoding: .utf8)
        logger.info("router: generated a self-signed certificate for \(defaultCertificateNames.joined(separator: ", "))")
    }

    static func writeSecret(_ text: String, to path: String) throws {
        guard FileManager.default.createFile(atPath: path + ".new", contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw RuntimeError("cannot write \(path)")
        }
        guard rename(path + ".new", path) == 0 else { throw RuntimeError("cannot write \(path): \(String(cString: strerror(errno)))") }
    }

    public func stop() async {
        if let pid { await Exec.stop(pid, grace: .seconds(5)); _ = await Exec.wait(pid) }
        pid = nil
        master = nil
    }

    /// Replaces what one environment serves and waits until nginx answers with the new configuration.
    public func set(_ key: String, _ site: Site?) async throws {
        if sites[key] == site { return }
        sites[key] = site
        try await reload()
    }

    public func site(_ key: String) -> Site? { sites[key] }

    /// Reloads gracefully; if nginx does not take the new configuration (its master gone, a listener lost),
    /// it is restarted once on the same ports, which serves the current configuration or fails clearly.
    func reload() async throws {
        do {
            try await reloadOnce()
        } catch {
            let alive = master.map { kill($0, 0) == 0 } ?? false
            logger.warning("router: reload failed (master \(alive ? "alive" : "gone")); restarting nginx: \(error)")
            await stop()
            try await start()
        }
    }

    func reloadOnce() async throws {
        guard let master else { throw RuntimeError("the router is not running (install nginx-light)") }
        try writeConfig()
        kill(master, SIGHUP)
        // Ask nginx which configuration answers until it is the one just written, or a later one (a reload for
        // another environment while this one waited writes every site, this one's too). Old workers keep accepting
        // for a moment after the new ones start, so the new generation must answer several times in a row, and no
        // worker may still be one that has not taken the order to stop (on a loaded machine it can go unscheduled
        // for longer than the streak lasts, and would answer from the old configuration).
        let want = generation
        var streak = 0
        for _ in 0..<800 {
            if let answered = await currentGeneration().flatMap(Int.init), answered >= want { streak += 1 } else { streak = 0 }
            if streak >= 5, Self.acceptingWorkers(master: master) <= 1 { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw RuntimeError("nginx did not load the new configuration: \((try? String(contentsOfFile: prefix + "/logs/error.log", encoding: .utf8))?.suffix(500) ?? "")")
    }

    /// nginx's workers that still accept connections: an old worker renames itself "worker process is shutting down"
    /// just before it closes its listening sockets. With `worker_processes 1`, more than one means the old
    /// configuration may still answer. 0 when the processes cannot be read.
    nonisolated static func acceptingWorkers(master: pid_t) -> Int {
        var count = 0
        for t in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(master)/task")) ?? [] {
            let kids = (try? String(contentsOfFile: "/proc/\(master)/task/\(t)/children", encoding: .utf8)) ?? ""
            for kid in kids.split(separator: " ") {
                guard let data = FileManager.default.contents(atPath: "/proc/\(kid)/cmdline") else { continue }
                let title = String(decoding: data.prefix { $0 != 0 }, as: UTF8.self).trimmingCharacters(in: .whitespaces)
                if title.hasSuffix("worker process") { count += 1 }
            }
        }
        return count
    }

    func currentGeneration() async -> String? {
        let (host, port) = (self.host, self.port)
        return await withCheckedContinuation { c in
            Thread.detachNewThread { c.resume(returning: Self.fetchGeneration(host: host, port: port)) }
        }
    }

    nonisolated static func fetchGeneration(host: String, port: Int) -> String? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var tv = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr(host == "0.0.0.0" ? "127.0.0.1" : host)
        let ok = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard ok else { return nil }
        let req = "GET / HTTP/1.0\r\nHost: grove-router-generation\r\n\r\n"
        _ = req.withCString { send(fd, $0, strlen($0), 0) }
        var buf = [UInt8](repeating: 0, count: 4096)
        var got: [UInt8] = []
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            got += buf[0..<n]
        }
        let text = String(decoding: got, as: UTF8.self)
        guard let r = text.range(of: "\r\n\r\n") else { return nil }
        return String(text[r.upperBound...]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    struct ServerKey: Hashable { var scheme: String; var host: String }

    /// A route's `cache` and `ssi` settings as nginx directives. Responses are cached as their Cache-Control or
    /// Expires say, or for `default_ttl` when they say nothing; the key holds the listed request headers and
    /// cookies (`*`: all of them). `X-Platform-Cache` tells HIT or MISS, as on Platform.sh.
    static func cacheDirectives(_ route: RouteConfig?) -> String {
        var out = ""
        if route?.ssi == true { out += "      ssi on;\n" }
        guard let c = route?.cache, c.enabled else { return out }
        var key = "$scheme$host$request_uri"
        for h in c.headers { key += "|$http_" + h.lowercased().replacingOccurrences(of: "-", with: "_") }
        if c.cookies.contains("*") {
            key += "|$http_cookie"
        } else {
            for name in c.cookies { key += "|$cookie_" + name.replacingOccurrences(of: "-", with: "_") }
        }
        out += "      proxy_cache grove_cache;\n      proxy_cache_key \"\(key)\";\n"
        if c.defaultTTL > 0 { out += "      proxy_cache_valid 200 301 302 404 \(c.defaultTTL)s;\n" }
        out += "      add_header X-Platform-Cache $upstream_cache_status;\n"
        return out
    }

    func writeConfig() throws {
        generation += 1
        let listen = "\(host):\(port)"
        var conf = """
        worker_processes 1;
        pid \(prefix)/nginx.pid;
        error_log \(prefix)/logs/error.log warn;
        \(geteuid() == 0 ? "user root root;" : "")
        events { worker_connections 4096; }
        http {
          access_log off;
          client_body_temp_path \(prefix)/tmp/body;
          proxy_temp_path \(prefix)/tmp/proxy;
          fastcgi_temp_path \(prefix)/tmp/fastcgi;
          uwsgi_temp_path \(prefix)/tmp/uwsgi;
          scgi_temp_path \(prefix)/tmp/scgi;
          server_names_hash_bucket_size 128;
          proxy_cache_path \(prefix)/cache levels=1:2 keys_zone=grove_cache:16m max_size=1g inactive=60m use_temp_path=off;
          client_max_body_size 250m;
          proxy_http_version 1.1;
          proxy_set_header Connection "";
          proxy_set_header Host $http_host;
          proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
          proxy_set_header X-Forwarded-Proto $scheme;
          proxy_set_header X-Client-IP $remote_addr;
          server {
            listen \(listen) default_server;
            location / { default_type text/plain; return 404 "No route for this host.\\n"; }
          }
          server {
            listen \(listen);
            server_name grove-router-generation;
            location / { default_type text/plain; return 200 "\(generation)"; }
          }

        """
        let tlsListen = tlsPort.map { "\(host):\($0) ssl" }
        if let tlsListen {
            conf += """
              ssl_protocols TLSv1.2 TLSv1.3;
              ssl_session_cache shared:grove:10m;
              server {
                listen \(tlsListen) default_server;
                ssl_certificate \(prefix)/tls/default.crt;
                ssl_certificate_key \(prefix)/tls/default.key;
                location / { default_type text/plain; return 404 "No route for this host.\\n"; }
              }

            """
        }
        var written = Set<String>()
        for (key, site) in sites.sorted(by: { $0.key < $1.key }) {
            let safe = key.map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
            for (app, up) in site.upstreams.sorted(by: { $0.key < $1.key }) {
                conf += "  upstream u_\(safe)_\(app.replacingOccurrences(of: "-", with: "_")) { server \(up.socket.map { "unix:" + $0 } ?? "\(up.host):\(up.port)"); keepalive 32; }\n"
            }
            let byHost = Dictionary(grouping: site.routes, by: { ServerKey(scheme: $0.scheme, host: $0.host) })
            for (server, routes) in byHost.sorted(by: { ($0.key.host, $0.key.scheme) < ($1.key.host, $1.key.scheme) }) {
                let host = server.host
                if server.scheme == "https" {
                    guard let tlsListen else { continue }
                    conf += "  server {\n    listen \(tlsListen);\n    server_name \(host);\n"
                    if let c = site.certificates.first(where: { CertificateBundle.matches($0.domains, host) }) {
                        if written.insert(c.id).inserted {
                            try Self.writeSecret(c.key, to: prefix + "/tls/\(c.id).key")
                            try c.fullChain.write(toFile: prefix + "/tls/\(c.id).crt", atomically: true, encoding: .utf8)
                        }
                        conf += "    ssl_certificate \(prefix)/tls/\(c.id).crt;\n    ssl_certificate_key \(prefix)/tls/\(c.id).key;\n"
                    } else {
                        conf += "    ssl_certificate \(prefix)/tls/default.crt;\n    ssl_certificate_key \(prefix)/tls/default.key;\n"
                    }
                } else {
                    conf += "  server {\n    listen \(listen);\n    server_name \(host);\n"
                }
                if let dir = site.logDir {
                    conf += "    access_log \(dir)/access.log combined buffer=32k flush=1s;\n    error_log \(dir)/error.log warn;\n"
                }
                var hasRoot = false
                var named = Set<String>()
                for r in routes.sorted(by: { $0.path.count > $1.path.count }) {
                    if r.path == "/" { hasRoot = true }
                    let upstreamName: (String) -> String = { "u_\(safe)_\($0.replacingOccurrences(of: "-", with: "_"))" }
                    if case .upstream(let app) = r.target, let up = site.upstreams[app], let hostDir = up.hostDir, !up.locations.isEmpty || up.phpDocumentRoot != nil {
                        let name = "@" + upstreamName(app)
                        let php = up.phpDocumentRoot.map { (scriptRoot: $0, pass: upstreamName(app)) }
                        conf += LocationConfig.render(routePath: r.path, locations: up.locations, hostDir: hostDir, named: name, php: php)
                        if named.insert(name).inserted {
                            conf += php == nil ? "    location \(name) {\n\(Self.cacheDirectives(r.route))      proxy_pass http://\(upstreamName(app));\n    }\n"
                                : "    location \(name) { return 404; }\n"
                        }
                        continue
                    }
                    conf += "    location \(r.path) {\n"
                    if r.upgradesScheme, let tls = tlsPort {
                        conf += "      return 301 https://$host\(tls == 443 ? "" : ":\(tls)")$request_uri;\n    }\n"
                        continue
                    }
                    switch r.target {
                    case .upstream(let app):
                        if site.upstreams[app] != nil {
                            conf += Self.cacheDirectives(r.route)
                            conf += "      proxy_pass http://u_\(safe)_\(app.replacingOccurrences(of: "-", with: "_"));\n"
                        } else {
                            conf += "      default_type text/plain; return 502 \"Application \(app) is not running.\\n\";\n"
                        }
                    case .redirect(let to, let code):
                        conf += "      return \(code) \(to);\n"
                    case .proxy(let to):
                        conf += "      proxy_set_header Host $proxy_host;\n      proxy_pass \(to);\n"
                    }
                    conf += "    }\n"
                    for pr in r.route?.redirects ?? [] {
                        let target = pr.to
                        if pr.regexp {
                            conf += "    location ~ \(pr.path) { return \(pr.code) \(target); }\n"
                        } else if pr.prefix {
                            conf += "    location ^~ \(pr.path) { rewrite ^\(pr.path)(.*)$ \(target)\(pr.appendSuffix ? "$1" : "") \(pr.code == 301 || pr.code == 308 ? "permanent" : "redirect"); }\n"
                        } else {
                            conf += "    location = \(pr.path) { return \(pr.code) \(target); }\n"
                        }
                    }
                }
                if !hasRoot { conf += "    location / { default_type text/plain; return 404 \"No route for this path.\\n\"; }\n" }
                conf += "  }\n"
            }
        }
        conf += "}\n"
        try conf.write(toFile: prefix + "/nginx.conf", atomically: true, encoding: .utf8)
        // Keys of certificates no site uses any more do not stay on disk.
        for f in (try? FileManager.default.contentsOfDirectory(atPath: prefix + "/tls")) ?? [] where !f.hasPrefix("default.") {
            if !written.contains(String(f.prefix { $0 != "." })) { try? FileManager.default.removeItem(atPath: prefix + "/tls/" + f) }
        }
    }
}
