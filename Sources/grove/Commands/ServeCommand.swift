import ArgumentParser
import Foundation
import GroveAPI
import GroveStore
import GroveRuntime
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the platform: API, activity workers, store.")

    @Option(help: "Address to listen on, HOST:PORT (port 0 picks a free one).")
    var listen = "127.0.0.1:8000"

    @Option(name: .customLong("data-dir"), help: "Data directory (default $GROVE_DATA_DIR or ~/.local/share/grove).")
    var dataDir: String?

    @Option(name: .customLong("database-url"), help: "sqlite:PATH or postgres://user:pass@host:port/db (default: SQLite in the data dir).")
    var databaseURL: String?

    @Option(name: .customLong("public-url"), help: "Base URL used in links (default http://LISTEN).")
    var publicURL: String?

    @Option(name: .customLong("activity-step-delay"), help: "Milliseconds each activity step pauses (for demos and queue tests).")
    var stepDelay: Int = 0

    @Flag(name: .customLong("no-response-cache"), help: "Render every GET anew instead of serving unchanged answers from memory.")
    var noResponseCache = false

    @Flag(name: .customLong("no-render-memo"), help: "Decode and render every record anew, even unchanged ones (to measure rendering).")
    var noRenderMemo = false

    @Option(name: .customLong("router-listen"), help: "Address the router (nginx) serves applications on, HOST:PORT (port 0 picks a free one).")
    var routerListen = "127.0.0.1:8080"

    @Option(name: .customLong("router-tls-port"), help: "Port the router serves https routes on, same host as --router-listen (0: a free one; 'off': https routes over plain http).")
    var routerTLSPort = "8443"

    @Option(name: .customLong("volume-image"), help: "Size of a btrfs image (e.g. 20G) loop-mounted for service volumes when the data dir has no copy-on-write filesystem (root only).")
    var volumeImage: String?

    @Option(name: .customLong("backup-check-interval"), help: "Seconds between checks of the projects' automated backup schedules (data_retention).")
    var backupCheckInterval = 60

    @Option(name: .customLong("smtp-url"), help: "SMTP server for invitations and reminders: smtp://[user:password@]host[:port][?from=address] (default: mail is written to the log).")
    var smtpURL: String?

    @Flag(name: .customLong("allow-private-targets"), help: "Let integrations (webhooks, notifications, log forwarding, source providers) reach loopback, private and link-local addresses. Off by default: a project could otherwise reach this machine's own services.")
    var allowPrivateTargets = false

    @Option(name: .customLong("disk-check-interval"), help: "Seconds between checks of services' disks for health notifications (btrfs quotas).")
    var diskCheckInterval = 60

    @Option(name: .customLong("slack-api-url"), help: "Slack's Web API (health.slack integrations post to <url>/chat.postMessage).")
    var slackAPIURL = "https://slack.com/api"

    @Option(name: .customLong("pagerduty-events-url"), help: "PagerDuty's Events API v2 endpoint (health.pagerduty integrations).")
    var pagerDutyEventsURL = "https://events.pagerduty.com/v2/enqueue"

    @Option(name: .customLong("bitbucket-api-url"), help: "Bitbucket Cloud's REST API (bitbucket integrations).")
    var bitbucketAPIURL = "https://api.bitbucket.org/2.0"

    @Option(name: .customLong("bitbucket-url"), help: "Bitbucket Cloud's git host (bitbucket integrations clone from <url>/<repository>.git).")
    var bitbucketURL = "https://bitbucket.org"

    @Option(name: .customLong("invitation-ttl"), help: "Seconds an invitation link stays valid (default 7 days).")
    var invitationTTL = 7 * 86400

    @Option(name: .customLong("vendor"), help: "The vendor name projects, subscriptions and organizations carry (the official CLI lists only projects of its vendor filter).")
    var vendor = "grove"

    @Option(name: .customLong("secret-key-file"), help: "File holding the key (32 bytes, base64) that seals secrets in the store (default $GROVE_SECRET_KEY, else DATA_DIR/secret.key, created on first start).")
    var secretKeyFile: String?

    @Option(name: .customLong("build-max-processes"), help: "Processes and threads one build may hold at once (a fork bomb stops there).")
    var buildMaxProcesses = 512

    @Option(name: .customLong("build-max-output"), help: "MB one build's application directory and build cache may hold.")
    var buildMaxOutput = 4096

    @Option(name: .customLong("app-max-memory"), help: "MB an application or worker of size AUTO may use (its /tmp included).")
    var appMaxMemory = 2048

    @Option(name: .customLong("app-max-processes"), help: "Processes and threads any application, worker or cron may hold at once.")
    var appMaxProcesses = 1024

    @Option(name: .customLong("network"), help: "isolated: a network namespace per environment (root, iproute2, nftables); host: environments share the host's network.")
    var network = "isolated"
    @Option(name: .customLong("egress-allow"),
            help: "A private IPv4 network (CIDR) environments may reach; repeatable. Without it only the host's DNS resolvers are reachable among 10/8, 172.16/12, 192.168/16, 100.64/10.")
    var egressAllow: [String] = []

    @Option(name: .customLong("role"), help: "api: the REST API and git only (several may share one PostgreSQL); worker: the runtime, activities, crons and backups, no HTTP; all: both.")
    var role = "all"

    @Option(name: .customLong("runtime"), help: "Where environments run: local (this host: bubblewrap sandboxes, cgroups, nginx, the volume store).")
    var runtime = "local"

    @Option(name: .customLong("base-domain"), help: "Environments are served at <environment>-<project>.<base domain>.")
    var baseDomain = "localhost"

    @Option(name: .customLong("ssh-listen"), help: "Address the SSH server (shells, commands and file transfer into environments) listens on, HOST:PORT (port 0 picks a free one; 'off': none). Runs in the worker.")
    var sshListen = "127.0.0.1:2222"

    @Option(name: .customLong("ssh-server"), help: "auto, openssh or builtin: OpenSSH's sshd driven by Grove (every key type, RSA included; needs root, openssh-server and bubblewrap) or the built-in server (Ed25519 and ECDSA keys). auto: sshd when it can run.")
    var sshServer = "auto"

    @Option(name: .customLong("ssh-certificate-lifetime"), help: "Seconds the SSH certificates POST /ssh signs (grove ssh-cert:load, the official CLI) stay valid.")
    var sshCertificateLifetime = 3600

    @Option(name: .customLong("ssh-host"), help: "HOST:PORT clients reach the SSH server at, for environments' ssh links (default: the --ssh-listen address).")
    var sshHost: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "grove")
        var opts = APIServer.Options(dataDir: DataDir.resolve(dataDir))
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), port >= 0, port < 65536 else {
            throw ValidationError("--listen must be HOST:PORT, e.g. 127.0.0.1:8000")
        }
        opts.host = String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        opts.port = port
        opts.databaseURL = databaseURL
        opts.publicURL = publicURL
        opts.stepDelay = .milliseconds(stepDelay)
        opts.responseCache = !noResponseCache
        opts.renderMemo = !noRenderMemo
        guard let rc = routerListen.lastIndex(of: ":"), let rport = Int(routerListen[routerListen.index(after: rc)...]), rport >= 0, rport < 65536 else {
            throw ValidationError("--router-listen must be HOST:PORT, e.g. 127.0.0.1:8080")
        }
        opts.routerHost = String(routerListen[..<rc])
        opts.routerPort = rport
        if routerTLSPort == "off" {
            opts.routerTLSPort = nil
        } else {
            guard let tp = Int(routerTLSPort), tp >= 0, tp < 65536 else { throw ValidationError("--router-tls-port must be a port number or 'off'") }
            opts.routerTLSPort = tp
        }
        opts.baseDomain = baseDomain
        if sshListen == "off" {
            opts.sshListen = nil
        } else {
            guard let sc = sshListen.lastIndex(of: ":"), let sport = Int(sshListen[sshListen.index(after: sc)...]), sport >= 0, sport < 65536 else {
                throw ValidationError("--ssh-listen must be HOST:PORT, e.g. 127.0.0.1:2222, or 'off'")
            }
            opts.sshListen = (String(sshListen[..<sc]).trimmingCharacters(in: CharacterSet(charactersIn: "[]")), sport)
        }
        guard (1...7 * 86400).contains(sshCertificateLifetime) else { throw ValidationError("--ssh-certificate-lifetime takes 1 to 604800 seconds") }
        opts.sshCertificateLifetime = sshCertificateLifetime
        guard let kind = APIServer.SSHServerKind(rawValue: sshServer) else { throw ValidationError("--ssh-server must be auto, openssh or builtin") }
        opts.sshServer = kind
        if let sshHost {
            guard let sc = sshHost.lastIndex(of: ":"), let sport = Int(sshHost[sshHost.index(after: sc)...]), sport > 0, sport < 65536 else {
                throw ValidationError("--ssh-host must be HOST:PORT, e.g. ssh.example.com:22")
            }
            opts.sshPublicEndpoint = sshHost
        }
        guard backupCheckInterval > 0 else { throw ValidationError("--backup-check-interval takes a positive number of seconds") }
        opts.backupCheckPeriod = .seconds(backupCheckInterval)
        opts.smtpURL = smtpURL
        opts.allowPrivateTargets = allowPrivateTargets
        opts.diskCheckInterval = .seconds(max(1, diskCheckInterval))
        opts.slackAPIURL = slackAPIURL
        opts.pagerDutyEventsURL = pagerDutyEventsURL
        opts.bitbucketAPIURL = bitbucketAPIURL
        opts.bitbucketURL = bitbucketURL
        opts.secretKeyFile = secretKeyFile
        guard let mode = EnvironmentNetworks.Mode(rawValue: network) else { throw ValidationError("--network takes isolated or host") }
        opts.network = mode
        opts.egressAllowed = try egressAllow.map { text in
            guard let n = IPv4Network(text) else { throw ValidationError("--egress-allow takes an IPv4 network such as 10.1.0.0/16, not \(text)") }
            return n
        }
        guard APIServer.runtimes.contains(runtime) else {
            throw ValidationError("--runtime takes \(APIServer.runtimes.joined(separator: " or ")) (this Grove has no \(runtime) runtime)")
        }
        opts.runtime = runtime
        guard let r = APIServer.Role(rawValue: role) else { throw ValidationError("--role takes api, worker or all") }
        opts.role = r
        guard buildMaxProcesses >= 16 else { throw ValidationError("--build-max-processes takes at least 16") }
        guard buildMaxOutput >= 16 else { throw ValidationError("--build-max-output takes at least 16 (MB)") }
        opts.buildMaxProcesses = buildMaxProcesses
        guard appMaxMemory >= 64, appMaxProcesses >= 16 else { throw ValidationError("--app-max-memory takes at least 64 (MB), --app-max-processes at least 16") }
        opts.appMaxMemoryMB = appMaxMemory
        opts.appMaxProcesses = appMaxProcesses
        opts.buildMaxOutputMB = buildMaxOutput
        guard invitationTTL > 0 else { throw ValidationError("--invitation-ttl takes a positive number of seconds") }
        opts.invitationLifetime = TimeInterval(invitationTTL)
        guard vendor.range(of: "^[a-z0-9][a-z0-9_-]{0,63}$", options: .regularExpression) != nil else {
            throw ValidationError("--vendor takes a lowercase name of letters, digits, '-' and '_' (up to 64)")
        }
        opts.vendor = vendor
        if let volumeImage {
            guard let bytes = Self.bytes(volumeImage), bytes >= 128 << 20 else { throw ValidationError("--volume-image takes a size of at least 128M, e.g. 20G") }
            opts.volumeImageSize = bytes
        }
        do {
            try await APIServer.run(opts, logger: logger)
        } catch let e as StoreError {
            throw CLIError("Cannot open the store: \(e)")
        }
    }
}

extension ServeCommand {
    /// "20G", "512M", "1T" or plain bytes.
    static func bytes(_ s: String) -> UInt64? {
        let units: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        guard let last = s.uppercased().last else { return nil }
        if let unit = units[last] { return UInt64(s.dropLast()).map { $0 * unit } }
        return UInt64(s)
    }
}

enum DataDir {
    /// An absolute path: sandboxes bind directories under it by absolute path.
    static func resolve(_ given: String?) -> String {
        let home = ProcessInfo.processInfo.environment["HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? NSHomeDirectory()
        var dir = home + "/.local/share/grove"
        if let given, !given.isEmpty { dir = (given as NSString).expandingTildeInPath } else if let env = ProcessInfo.processInfo.environment["GROVE_DATA_DIR"], !env.isEmpty { dir = env }
        if !dir.hasPrefix("/") { dir = FileManager.default.currentDirectoryPath + "/" + dir }
        return (dir as NSString).standardizingPath
    }

    static func databaseURL(_ given: String?, dataDir: String) -> String {
        given ?? ProcessInfo.processInfo.environment["GROVE_DATABASE_URL"] ?? ("sqlite:" + dataDir + "/grove.sqlite")
    }
}
