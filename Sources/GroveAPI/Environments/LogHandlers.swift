import Foundation
import GroveModel

/// An environment's log files (applications, workers, deploy hooks, crons, operations, the router's access and
/// error logs), read by `grove log`. Grove's own addition: Platform.sh serves these over SSH.
enum LogHandlers {
    static func register(_ r: inout Routes, _ s: ServerContext) {
        r.add("list-projects-environments-logs") { req in
            let dir = try await directory(req, s)
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
                .filter { $0.hasSuffix(".log") && !$0.hasSuffix("-step.log") }.sorted()
            return .json(.ok, .array(names.map { f in
                let attrs = try? FileManager.default.attributesOfItem(atPath: dir + "/" + f)
                return .object(JSONObject([("name", .string(String(f.dropLast(4)))), ("size", .int(Int64((attrs?[.size] as? Int) ?? 0))),
                                           ("updated_at", JSON((attrs?[.modificationDate] as? Date).map(Timestamp.format)))]))
            }))
        }
        r.add("get-projects-environments-logs") { req in
            let dir = try await directory(req, s)
            let name = req.param("name")
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }), !name.contains("..") else {
                throw APIError.badRequest("is not a log name", field: "name")
            }
            let path = dir + "/" + name + ".log"
            guard let h = FileHandle(forReadingAtPath: path) else { throw APIError.notFound("Log \(name)") }
            defer { try? h.close() }
            let size = (try? h.seekToEnd()) ?? 0
            let lines = Int(req.queryValue("lines") ?? "100") ?? -1
            guard lines >= 0, lines <= 100_000 else { throw APIError.badRequest("must be an integer from 0 to 100000", field: "lines") }
            var text: String
            if let sinceText = req.queryValue("since") {
                guard var since = UInt64(sinceText) else { throw APIError.badRequest("must be a byte offset", field: "since") }
                if since > size { since = 0 }  // the file was truncated or replaced: start over
                try h.seek(toOffset: since)
                text = String(decoding: h.readData(ofLength: Int(min(size - since, 8 << 20))), as: UTF8.self)
            } else {
                // The last `lines` lines, read from at most the last 8 MiB.
                let start = size > (8 << 20) ? size - (8 << 20) : 0
                try h.seek(toOffset: start)
                let all = String(decoding: h.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                text = all.suffix(lines + 1).joined(separator: "\n")
            }
            var out = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if out.last == "" { out.removeLast() }
            return .json(.ok, .object(JSONObject([("name", .string(name)), ("offset", .int(Int64(size))), ("lines", JSON(out))])))
        }
    }

    /// The environment's log directory; reading logs takes the role that SSH takes on Platform.sh (contributor).
    static func directory(_ req: APIRequest, _ s: ServerContext) async throws -> String {
        let (p, l) = try req.project()
        let e = try req.environment()
        try s.requireRole(.contributor, l, on: e)
        guard let locate = s.logLocator else { throw APIError.notFound("Logs of \(e.id)") }
        return locate(p.id, e.id)
    }
}
