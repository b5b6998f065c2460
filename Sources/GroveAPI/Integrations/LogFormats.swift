import Foundation
import GroveModel

/// One line of an environment's logs on its way to a log sink.
struct LogRecord: Sendable, Equatable {
    var timestamp: Date
    var message: String
    var project: String
    var environment: String
    /// The log it came from: an application (`app`), a worker (`app--queue`), `cron`, `deploy`, a service
    /// (`db.service`), the router (`access`, `error`).
    var source: String
}

/// How each sink wants log lines: syslog frames (RFC 5424 or 3164) and the JSON bodies of the HTTP sinks.
enum LogFormats {
    static func iso(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: d)
    }

    /// An RFC 5424 header field: printable ASCII without spaces, `-` when empty.
    static func field(_ s: String, max: Int) -> String {
        let clean = String(s.unicodeScalars.filter { $0.value > 32 && $0.value < 127 }.map(Character.init).prefix(max))
        return clean.isEmpty ? "-" : clean
    }

    /// Severity 6 (informational) for ordinary lines, 3 (error) for the router's error log.
    static func priority(_ r: LogRecord, facility: Int) -> Int { min(max(facility, 0), 23) * 8 + (r.source == "error" ? 3 : 6) }

    static func syslog(_ r: LogRecord, format: String, facility: Int, token: String?, authMode: String, extra: JSONObject) -> String {
        let host = field("\(r.environment)-\(r.project)", max: 255)
        let app = field(r.source, max: 48)
        var message = r.message
        if let token, authMode == "prefix" { message = token + " " + message }
        if format == "rfc3164" {
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = TimeZone(identifier: "UTC")
            f.dateFormat = "MMM d HH:mm:ss"
            var stamp = f.string(from: r.timestamp)
            // Days are space-padded to two characters.
            if let space = stamp.firstIndex(of: " "), stamp[stamp.index(after: space)...].prefix(while: { $0 != " " }).count == 1 {
                stamp.insert(" ", at: stamp.index(after: space))
            }
            return "<\(priority(r, facility: facility))>\(stamp) \(host) \(app): \(message)"
        }
        var sd = "-"
        var params = extra.compactMap { k, v in v.stringValue.map { (k, $0) } }.sorted { $0.0 < $1.0 }
        params.insert(("project", r.project), at: 0)
        params.insert(("environment", r.environment), at: 1)
        func escape(_ v: String) -> String { v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "]", with: "\\]") }
        sd = "[grove@32473 " + params.map { "\(field($0.0, max: 32))=\"\(escape($0.1))\"" }.joined(separator: " ") + "]"
        if let token, authMode == "structured_data" { sd = "[\(field(token, max: 128))@41058]" + sd }
        return "<\(priority(r, facility: facility))>1 \(iso(r.timestamp)) \(host) \(app) - - \(sd) \(message)"
    }

    static func attributes(_ r: LogRecord, extra: JSONObject) -> JSONObject {
        var o = JSONObject([("project", .string(r.project)), ("environment", .string(r.environment)), ("source", .string(r.source))])
        for (k, v) in extra where o[k] == nil { o[k] = v }
        return o
    }

    /// httplog: a JSON array of records.
    static func httpLog(_ records: [LogRecord], extra: JSONObject) -> JSON {
        .array(records.map { r in
            var o = JSONObject([("timestamp", .string(iso(r.timestamp))), ("message", .string(r.message))])
            for (k, v) in attributes(r, extra: extra) { o[k] = v }
            return .object(o)
        })
    }

    /// Splunk HTTP Event Collector: concatenated event objects.
    static func splunk(_ records: [LogRecord], index: String, sourcetype: String, extra: JSONObject) -> [UInt8] {
        var out: [UInt8] = []
        for r in records {
            var o = JSONObject([("time", .double(r.timestamp.timeIntervalSince1970)), ("host", .string("\(r.environment)-\(r.project)")),
                                ("source", .string(r.source)), ("index", .string(index)), ("event", .string(r.message)),
                                ("fields", .object(attributes(r, extra: extra)))])
            if !sourcetype.isEmpty { o["sourcetype"] = .string(sourcetype) }
            out += JSON.object(o).bytes + [0x0A]
        }
        return out
    }

    /// Sumo Logic HTTP source: one JSON object per line.
    static func sumologic(_ records: [LogRecord], extra: JSONObject) -> [UInt8] {
        var out: [UInt8] = []
        for r in records {
            var o = JSONObject([("timestamp", .string(iso(r.timestamp))), ("message", .string(r.message))])
            for (k, v) in attributes(r, extra: extra) { o[k] = v }
            out += JSON.object(o).bytes + [0x0A]
        }
        return out
    }

    /// New Relic Log API: common attributes once, then the lines.
    static func newRelic(_ records: [LogRecord], extra: JSONObject) -> JSON {
        guard let first = records.first else { return .array([]) }
        var common = attributes(first, extra: extra)
        common["source"] = nil
        return .array([.object(JSONObject([
            ("common", .object(JSONObject([("attributes", .object(common))]))),
            ("logs", .array(records.map { r in
                .object(JSONObject([("timestamp", .int(Int64(r.timestamp.timeIntervalSince1970 * 1000))), ("message", .string(r.message)),
                                    ("attributes", .object(JSONObject([("source", .string(r.source))])))]))
            })),
        ]))])
    }

    /// OTLP/HTTP JSON (`/v1/logs`): one resource per environment, one record per line.
    static func otlp(_ records: [LogRecord], extra: JSONObject) -> JSON {
        func kv(_ k: String, _ v: String) -> JSON { .object(JSONObject([("key", .string(k)), ("value", .object(JSONObject([("stringValue", .string(v))])))])) }
        guard let first = records.first else { return .object(JSONObject([("resourceLogs", .array([]))])) }
        var resource = [kv("service.namespace", first.project), kv("deployment.environment", first.environment)]
        for (k, v) in extra { if let s = v.stringValue { resource.append(kv(k, s)) } }
        let logs: [JSON] = records.map { r in
            .object(JSONObject([("timeUnixNano", .string(String(Int64(r.timestamp.timeIntervalSince1970 * 1_000_000_000)))),
                                ("severityNumber", .int(r.source == "error" ? 17 : 9)), ("severityText", .string(r.source == "error" ? "ERROR" : "INFO")),
                                ("body", .object(JSONObject([("stringValue", .string(r.message))]))),
                                ("attributes", .array([kv("log.source", r.source)]))]))
        }
        return .object(JSONObject([("resourceLogs", .array([.object(JSONObject([
            ("resource", .object(JSONObject([("attributes", .array(resource))]))),
            ("scopeLogs", .array([.object(JSONObject([("scope", .object(JSONObject([("name", "grove")]))), ("logRecords", .array(logs))]))])),
        ]))]))]))
    }
}
