import Foundation
import GroveModel
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Debian's chromium, headless, driven over the W3C WebDriver protocol by chromedriver on a free loopback port.
/// `WebDriver.start()` returns nil (and the test says why) when chromium or chromedriver is missing.
final class WebDriver: Sendable {
    let base: String
    let session: String
    let driver: Spawned
    let profile: String

    static let elementKey = "element-6066-11e4-a52e-4f735466cecf"

    static func available() -> Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver") && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium")
    }

    static func start(width: Int = 1280, height: Int = 900) async throws -> WebDriver {
        let port = try PostgresHarness.freePort()
        let driver = try Spawn.start("/usr/bin/chromedriver", ["--port=\(port)", "--allowed-ips=127.0.0.1"])
        let base = "http://127.0.0.1:\(port)"
        var last = ""
        do {
            try await IntegrationTests.waitFor(timeout: 90) {
                do { return try await Self.send("GET", base + "/status", nil)["value"]?["ready"]?.boolValue == true } catch {
                    last = "\(error)"
                    return false
                }
            }
        } catch {
            driver.signal(SIGKILL); _ = driver.wait()
            throw TestFailure("chromedriver did not start: \(last)\n\(driver.output)")
        }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString.prefix(8))").path
        var args: [JSON] = ["--headless=new", "--disable-gpu", "--disable-dev-shm-usage", .string("--window-size=\(width),\(height)"),
                            .string("--user-data-dir=\(profile)"), "--no-first-run", "--disable-extensions", "--lang=en-US"]
        if getuid() == 0 { args.append("--no-sandbox") }  // chromium refuses its own sandbox as root
        let caps: JSON = ["capabilities": ["alwaysMatch": [
            "browserName": "chrome", "unhandledPromptBehavior": "ignore",
            "goog:chromeOptions": ["binary": "/usr/bin/chromium", "args": .array(args)],
        ]]]
        let answer = try await send("POST", base + "/session", caps)
        guard let session = answer["value"]?["sessionId"]?.stringValue else {
            driver.signal(SIGKILL); _ = driver.wait()
            throw TestFailure("chromedriver refused a session: \(answer.serialized())")
        }
        return WebDriver(base: base, session: session, driver: driver, profile: profile)
    }

    private init(base: String, session: String, driver: Spawned, profile: String) {
        self.base = base; self.session = session; self.driver = driver; self.profile = profile
    }

    func quit() async {
        _ = try? await Self.send("DELETE", "\(base)/session/\(session)", nil)
        driver.signal(SIGKILL)
        _ = driver.wait()
        try? FileManager.default.removeItem(atPath: profile)
        try? FileManager.default.removeItem(atPath: driver.outputPath)
    }

    /// One WebDriver call through curl (FoundationNetworking's client fails on chromedriver's answers: "Failed writing header").
    @discardableResult
    static func send(_ method: String, _ url: String, _ body: JSON?) async throws -> JSON {
        var args = ["-s", "-m", "120", "-X", method]
        if body != nil { args += ["-H", "Content-Type: application/json", "--data-binary", "@-"] }
        let (status, out) = try Spawn.run("/usr/bin/curl", args + [url], stdin: body?.serialized())
        guard status == 0 else { throw TestFailure("curl \(method) \(url) failed (\(status)): \(out)") }
        return (try? JSON.parse(out)) ?? .null
    }

    @discardableResult
    func command(_ method: String, _ path: String, _ body: JSON? = nil) async throws -> JSON {
        // JSON is nil-literal expressible, so the GET case spells out Optional.none (a literal nil would be JSON null).
        let payload: JSON? = body ?? (method == "POST" ? .object(JSONObject()) : Optional<JSON>.none)
        let answer = try await Self.send(method, "\(base)/session/\(session)\(path)", payload)
        if let error = answer["value"]?["error"]?.stringValue {
            throw TestFailure("WebDriver \(method) \(path): \(error): \(answer["value"]?["message"]?.stringValue ?? "")")
        }
        return answer["value"] ?? .null
    }

    func open(_ url: String) async throws { try await command("POST", "/url", ["url": .string(url)]) }
    func currentURL() async throws -> String { try await command("GET", "/url").stringValue ?? "" }
    func title() async throws -> String { try await command("GET", "/title").stringValue ?? "" }
    func source() async throws -> String { try await command("GET", "/source").stringValue ?? "" }

    func find(_ css: String) async throws -> String {
        let v = try await command("POST", "/element", ["using": "css selector", "value": .string(css)])
        guard let id = v[Self.elementKey]?.stringValue else { throw TestFailure("no element \(css)") }
        return id
    }

    func findAll(_ css: String) async throws -> [String] {
        let v = try await command("POST", "/elements", ["using": "css selector", "value": .string(css)])
        return (v.arrayValue ?? []).compactMap { $0[Self.elementKey]?.stringValue }
    }

    func exists(_ css: String) async throws -> Bool { !(try await findAll(css)).isEmpty }

    func type(_ css: String, _ text: String) async throws {
        let e = try await find(css)
        try await command("POST", "/element/\(e)/clear")
        try await command("POST", "/element/\(e)/value", ["text": .string(text)])
    }

    func click(_ css: String) async throws { try await command("POST", "/element/\(try await find(css))/click") }
    func text(_ css: String) async throws -> String { try await command("GET", "/element/\(try await find(css))/text").stringValue ?? "" }
    func attribute(_ css: String, _ name: String) async throws -> String? {
        try await command("GET", "/element/\(try await find(css))/attribute/\(name)").stringValue
    }

    func execute(_ script: String, _ args: [JSON] = []) async throws -> JSON {
        try await command("POST", "/execute/sync", ["script": .string(script), "args": .array(args)])
    }

    func acceptAlert() async throws { try await command("POST", "/alert/accept") }
    func alertText() async throws -> String? { try? await command("GET", "/alert/text").stringValue }

    func resize(width: Int, height: Int) async throws {
        try await command("POST", "/window/rect", ["width": .int(Int64(width)), "height": .int(Int64(height))])
    }

    /// A PNG of the page as it looks now.
    func screenshot() async throws -> Data {
        let b64 = try await command("GET", "/screenshot").stringValue ?? ""
        guard let data = Data(base64Encoded: b64) else { throw TestFailure("no screenshot") }
        return data
    }

    /// Opens `url` again and again (pages are rendered by the server) until `css` shows `text`.
    func reloadUntil(_ url: String, _ css: String, containing text: String, timeout: Double = 120) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            try await open(url)
            do {
                try await waitFor(css, containing: text, timeout: 2)
                return
            } catch {
                if Date() > deadline { throw error }
            }
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    /// Waits until `css` matches an element whose text contains `text` (any element when text is nil).
    func waitFor(_ css: String, containing text: String? = nil, timeout: Double = 60) async throws {
        var seen = ""
        do {
            try await IntegrationTests.waitFor(timeout: timeout) {
                do {
                    let ids = try await self.findAll(css)
                    guard !ids.isEmpty else { seen = "no element"; return false }
                    guard let text else { return true }
                    var texts: [String] = []
                    for id in ids {
                        let t = try await self.command("GET", "/element/\(id)/text").stringValue ?? ""
                        if t.contains(text) { return true }
                        texts.append(t)
                    }
                    seen = "texts: \(texts)"
                } catch { seen = "\(error)" }
                return false
            }
        } catch {
            throw TestFailure("waited \(timeout) s for \(css)\(text.map { " containing \"\($0)\"" } ?? ""): \(seen.prefix(600))")
        }
    }
}
