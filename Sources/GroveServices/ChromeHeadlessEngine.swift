import Foundation
import GroveConfig
import GroveModel
import GroveRuntime

/// `chrome-headless`: Debian's Chromium without a display, its DevTools endpoint on the service's port for the
/// environment's applications (Puppeteer, Playwright, plain HTTP to `/json/version`). Nothing persists: the profile
/// lives in the service's run directory.
struct ChromeHeadlessEngine: ServiceEngine {
    let browser: String
    /// The account Chromium runs as when Grove runs as root (it refuses root without disabling its own sandbox,
    /// which bubblewrap replaces anyway).
    var user: ServiceUser? = nil
    var versionNote: String?

    static func locate(version: String) throws -> ChromeHeadlessEngine {
        guard let browser = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ServiceFailure("chrome-headless:\(version) cannot run on this host: Chromium is not installed (apt-get install chromium)")
        }
        // The DevTools protocol stays compatible with older clients, so the host's newer Chromium serves an older request.
        let found = Self.hostVersion(browser)
        var note: String?
        if let found, let major = Int(found), let wanted = Int(version), major != wanted {
            guard major > wanted else {
                throw ServiceFailure("chrome-headless:\(version) cannot run on this host: it has Chromium \(found), older than requested")
            }
            note = "chrome-headless:\(version) requested; this host runs Chromium \(found), which serves DevTools clients of \(version)"
        }
        return ChromeHeadlessEngine(browser: browser, user: ServiceUser.lookup("nobody"), versionNote: note)
    }

    static func hostVersion(_ browser: String) -> String? {
        guard let text = Exec.capture(browser, ["--version"]), let m = text.firstMatch(of: /Chromium (\d+)\.\d+/) ?? text.firstMatch(of: /(\d+)\.\d+/) else { return nil }
        return String(m.1)
    }

    func initialize(data: String, hostData: String, run: String, config: ServiceConfig,
                    sandboxed: @Sendable (String) async throws -> AdminCommand.Output) async throws -> ServiceState {
        ServiceState(type: "chrome-headless", version: config.type.version, endpoints: ["http": .init(username: nil, password: nil, path: nil, privileges: [:])])
    }

    func start(data: String, run: String, port: Int, config: ServiceConfig, state: ServiceState) -> String {
        let flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
                     "--disable-background-networking", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=\(port)",
                     "--user-data-dir=\(run)/profile", "about:blank"]
        return "export HOME=\(Shell.quote(run)) XDG_CONFIG_HOME=\(Shell.quote(run + "/config")) XDG_CACHE_HOME=\(Shell.quote(run + "/cache"))\n"
            + "exec \(ServiceUser.prefix(user))\(browser) \(flags.joined(separator: " "))"
    }

    func provision(run: String, port: Int, state: ServiceState, config: ServiceConfig) async throws {}
    func flush(run: String, port: Int, state: ServiceState) async {}

    func endpoint(_ name: String, state: ServiceState, port: Int) -> (scheme: String, rel: String, credential: ServiceState.Credential?, query: JSONObject) {
        ("http", "http", nil, JSONObject())
    }
}
