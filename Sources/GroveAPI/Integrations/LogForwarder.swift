import Foundation
import GroveModel
import GroveRuntime
import GroveStore
import Logging
import Synchronization

/// How far a log sink has been sent one log file of an environment (persisted: forwarding is at-least-once across
/// restarts). The environment marker (empty file name) says which files existed when forwarding began: those start at
/// their end, files made later from their beginning.
struct LogCursor: DocumentRecord, Equatable {
    static let kind = "log-cursor"
    var id: String
    var integrationId: String
    var offset: UInt64
    var createdAt: String
    var documentId: String { id }
    var documentParent: String { integrationId }
    var documentRef: String { "" }
}

/// Wakes one waiter early (a watched directory changed) or lets it sleep out its timeout.
final class Wakeup: Sendable {
    private let state = Mutex<(pending: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func signal() {
        let w = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let w = s.waiter else { s.pending = true; return nil }
            s.waiter = nil
            return w
        }
        w?.resume()
    }

    func wait(timeout: Duration) async {
        let timer = Task { try? await Task.sleep(for: timeout); signal() }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.pending { s.pending = false; return true }
                s.waiter = c
                return false
            }
            if now { c.resume() }
        }
        timer.cancel()
    }
}

/// Forwards the logs of every running environment of projects with log integrations (syslog, httplog, splunk,
/// sumologic, newrelic, otlplog): new lines are read as inotify reports writes, sent in bounded batches, and the
/// cursor moves only once the sink accepted them. A sink that fails is retried with backoff from where it stopped.
actor LogForwarder {
    let store: any Store
    let runtime: IntegrationRuntime
    let logDirectory: @Sendable (String, String) -> String
    let wakeup = Wakeup()
    var watcher: DirectoryWatcher?
    var task: Task<Void, Never>?
    var retryAt: [String: ContinuousClock.Instant] = [:]
    var backoff: [String: Duration] = [:]
    var cursors: [String: UInt64] = [:]
    static let batchBytes = 256 * 1024

    init(store: any Store, runtime: IntegrationRuntime, logDirectory: @escaping @Sendable (String, String) -> String) {
        self.store = store
        self.runtime = runtime
        self.logDirectory = logDirectory
    }

    func start() {
        let wakeup = self.wakeup
        watcher = DirectoryWatcher { wakeup.signal() }
        task = Task { await self.loop() }
    }

    func stop() async {
        task?.cancel()
        wakeup.signal()
        _ = await task?.value
        watcher?.stop()
    }

    func loop() async {
        while !Task.isCancelled {
            await pass()
            // Writes wake it at once; the timeout notices new integrations and environments.
            await wakeup.wait(timeout: .seconds(10))
        }
    }

    func pass() async {
        do {
            let integrations = try await store.list(Integration.self).filter { $0.spec?.role == .logs }
            var dirs = Set<String>()
            var environments: [String: [Environment]] = [:]
            for i in integrations {
                if environments[i.projectId] == nil {
                    environments[i.projectId] = try await store.environments(projectId: i.projectId).filter { $0.status != .inactive && $0.status != .deleting }
                }
                for e in environments[i.projectId] ?? [] {
                    let dir = logDirectory(i.projectId, e.id)
                    dirs.insert(dir)
                    if let at = retryAt[i.id], at > .now { continue }
                    do {
                        try await forward(i, environment: e.id, dir: dir)
                        retryAt[i.id] = nil
                        backoff[i.id] = nil
                    } catch {
                        let wait = min((backoff[i.id] ?? .milliseconds(500)) * 2, .seconds(60))
                        backoff[i.id] = wait
                        retryAt[i.id] = .now + wait
                        runtime.logger.warning("log forwarding failed; retrying", metadata: ["integration": "\(i.id)", "type": "\(i.type)",
                                                                                          "error": "\(error)", "retry_in_s": "\(wait.components.seconds)"])
                        Task { [wakeup] in try? await Task.sleep(for: wait); wakeup.signal() }
                    }
                }
            }
            watcher?.watch(dirs)
        } catch {
            runtime.logger.error("log forwarding pass failed: \(error)")
        }
    }

    func cursor(_ key: String) async throws -> UInt64? {
        if let c = cursors[key] { return c }
        let stored = try await store.get(LogCursor.self, id: key)?.offset
        cursors[key] = stored
        return stored
    }

    func setCursor(_ key: String, _ i: Integration, _ offset: UInt64) async throws {
        cursors[key] = offset
        try await store.put(LogCursor(id: key, integrationId: i.id, offset: offset, createdAt: Timestamp.now()))
    }

    func forward(_ i: Integration, environment: String, dir: String) async throws {
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
        let logs = files.filter { $0.hasSuffix(".log") && !$0.hasSuffix("-step.log") }.sorted()
        let excluded = Set(i.strings("excluded_services"))
        let marker = "\(i.id)|\(environment)|"
        if try await cursor(marker) == nil {
            // Forwarding begins now: what is already written is not sent again.
            for f in logs { try await setCursor(marker + f, i, Self.size(dir + "/" + f)) }
            try await setCursor(marker, i, 0)
            return
        }
        let secrets = try IntegrationSecrets.open(store, i)
        for f in logs {
            let source = String(f.dropLast(4))
            let name = source.hasSuffix(".service") ? String(source.dropLast(8)) : source
            guard !excluded.contains(name), !excluded.contains(source) else { continue }
            let key = marker + f
            let path = dir + "/" + f
            let size = Self.size(path)
            var offset = try await cursor(key) ?? 0
            if size < offset { offset = 0 }  // truncated or replaced
            while offset < size {
                guard let (lines, consumed) = Self.read(path, from: offset, limit: Self.batchBytes), consumed > 0 else { break }
                let now = Date()
                let records = lines.map { LogRecord(timestamp: now, message: $0, project: i.projectId, environment: environment, source: source) }
                if !records.isEmpty { try await send(i, secrets: secrets, records) }
                offset += consumed
                try await setCursor(key, i, offset)
            }
        }
    }

    static func size(_ path: String) -> UInt64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.uint64Value ?? 0
    }

    /// Whole lines from `offset` (at most `limit` bytes; a longer line is cut); nil when nothing complete is there yet.
    static func read(_ path: String, from offset: UInt64, limit: Int) -> ([String], UInt64)? {
        guard let h = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? h.close() }
        guard (try? h.seek(toOffset: offset)) != nil, let data = try? h.read(upToCount: limit), !data.isEmpty else { return nil }
        let bytes = [UInt8](data)
        let end: Int
        if let last = bytes.lastIndex(of: 0x0A) { end = last + 1 } else if bytes.count == limit { end = bytes.count } else { return nil }
        // Split as bytes: as a String, "\r\n" is one character and would not split on "\n".
        let lines = bytes[..<end].split(separator: 0x0A).map { line in
            String(decoding: line.last == 0x0D ? line.dropLast() : line, as: UTF8.self)
        }.filter { !$0.isEmpty }
        return (lines, UInt64(end))
    }

    func send(_ i: Integration, secrets: JSONObject, _ records: [LogRecord]) async throws {
        let extra = i.settings["extra"]?.objectValue ?? JSONObject()
        let url = i.string("url") ?? ""
        var headers: [(String, String)] = [("User-Agent", "Grove-Logs")]
        let body: [UInt8]
        switch i.type {
        case "syslog":
            let frames = records.map {
                LogFormats.syslog($0, format: i.string("message_format") ?? "rfc5424", facility: Int(i.settings["facility"]?.intValue ?? 1),
                                  token: secrets["auth_token"]?.stringValue, authMode: i.string("auth_mode") ?? "prefix", extra: extra)
            }
            try await SyslogTransport.send(frames, host: i.string("host") ?? "", port: Int(i.settings["port"]?.intValue ?? 6514),
                                           transport: i.string("protocol") ?? "tls", verifyTLS: i.settings["tls_verify"]?.boolValue ?? true, policy: runtime.outbound)
            return
        case "httplog", "otlplog":
            headers.append(("Content-Type", "application/json"))
            for (k, v) in secrets["headers"]?.objectValue ?? JSONObject() { if let s = v.stringValue { headers.append((k, s)) } }
            body = i.type == "httplog" ? LogFormats.httpLog(records, extra: extra).bytes : LogFormats.otlp(records, extra: extra).bytes
        case "splunk":
            headers += [("Content-Type", "application/json"), ("Authorization", "Splunk " + (secrets["token"]?.stringValue ?? ""))]
            body = LogFormats.splunk(records, index: i.string("index") ?? "", sourcetype: i.string("sourcetype") ?? "", extra: extra)
        case "sumologic":
            headers.append(("Content-Type", "application/json"))
            if let c = i.string("category"), !c.isEmpty { headers.append(("X-Sumo-Category", c)) }
            body = LogFormats.sumologic(records, extra: extra)
        case "newrelic":
            headers += [("Content-Type", "application/json"), ("X-License-Key", secrets["license_key"]?.stringValue ?? "")]
            body = LogFormats.newRelic(records, extra: extra).bytes
        default:
            return
        }
        let r = try await OutboundHTTP.send(url: url, headers: headers, body: body, policy: runtime.outbound, verifyTLS: i.settings["tls_verify"]?.boolValue ?? true)
        guard r.ok else { throw OutboundHTTP.Failure(description: "\(url) answered HTTP \(r.status): \(r.text.prefix(200))") }
    }
}
