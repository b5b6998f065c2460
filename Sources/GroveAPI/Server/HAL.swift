import GroveModel

/// Where a link points, written as Platform.sh writes it, because its clients parse hrefs: region resources (a
/// project and what lies under it) are absolute URLs under `/api`, where clients find the project id with their
/// `/api/projects/{id}` pattern; accounts resources (users, organizations, `/ref`, teams, and a project's
/// user-access, team-access and invitations) are path-absolute references, which clients resolve against the URL
/// they fetched. Grove serves both with and without the `/api` prefix.
enum HRef {
    static func make(base: String, path: String) -> String {
        // Byte scanning without copies: every rendered record has a dozen links, and a list renders thousands.
        var path = path
        let regional = path.withUTF8 { bytes -> Bool in
            let prefix: StaticString = "/projects/"
            let n = prefix.utf8CodeUnitCount
            guard bytes.count > n, prefix.withUTF8Buffer({ bytes[0..<n].elementsEqual($0) }) else { return false }
            let slash = UInt8(ascii: "/"), query = UInt8(ascii: "?")
            var i = n
            while i < bytes.count, bytes[i] != slash, bytes[i] != query { i += 1 }
            guard i < bytes.count, bytes[i] == slash else { return true }
            var j = i + 1
            while j < bytes.count, bytes[j] != slash, bytes[j] != query { j += 1 }
            let segment = bytes[(i + 1)..<j]
            return !Self.accountsSegments.contains { segment.elementsEqual($0.utf8) }
        }
        guard regional else { return path }
        var out = base
        out.reserveCapacity(base.utf8.count + 4 + path.utf8.count)
        out += "/api"
        out += path
        return out
    }

    /// `/projects/{id}/<segment>` paths that belong to the accounts API (path-absolute, no `/api`).
    static let accountsSegments: [String] = ["user-access", "team-access", "invitations"]
}

/// Builds `_links` objects; hrefs follow `HRef`.
struct Links {
    let base: String
    private(set) var object = JSONObject()

    init(base: String) { self.base = base }

    mutating func add(_ rel: String, _ path: String, method: String? = nil) {
        let href: JSON = .string(HRef.make(base: base, path: path))
        if let method {
            object[rel] = .object(JSONObject([("href", href), ("meta", .object(JSONObject([(method, .object(JSONObject()))])))]))
        } else {
            object[rel] = .object(JSONObject([("href", href)]))
        }
    }

    /// A link outside this API (an `ssh://` URL).
    mutating func addAbsolute(_ rel: String, _ href: String) {
        object[rel] = .object(JSONObject([("href", .string(href))]))
    }

    var json: JSON { .object(object) }
}

extension String {
    /// Percent-encodes one path segment (branch names may hold `/`).
    var pathSegment: String {
        if utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E }) {
            return self
        }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~:@=")
        return addingPercentEncoding(withAllowedCharacters: allowed) ?? self
    }
}

import Foundation

/// Region-API write envelope: `{status, code, _embedded: {entity, activities}}`.
func resultEnvelope(_ entity: JSON?, activities: [JSON], code: Int = 200) -> JSON {
    var embedded = JSONObject()
    if let entity { embedded["entity"] = entity }
    embedded["activities"] = .array(activities)
    return .object(JSONObject([("status", "OK"), ("code", .int(Int64(code))), ("_embedded", .object(embedded))]))
}

/// Accounts-API collection: `{count, items, _links: {self, next?, previous?}}` with opaque cursors.
func accountsCollection<T>(_ all: [T], request: APIRequest, base: String, cursor: (T) -> String, render: (T) -> JSON) throws -> JSON {
    let size: Int
    if let s = request.queryValue("page[size]") {
        guard let n = Int(s), n >= 1, n <= 200 else { throw APIError.badRequest("must be an integer from 1 to 200", field: "page[size]") }
        size = n
    } else { size = 100 }
    var slice = all[...]
    if let after = request.queryValue("page[after]") {
        if let i = all.firstIndex(where: { cursor($0) == after }) { slice = all[(i + 1)...] } else { slice = [] }
    } else if let before = request.queryValue("page[before]") {
        if let i = all.firstIndex(where: { cursor($0) == before }) { slice = all[max(0, i - size)..<i] } else { slice = [] }
    }
    let page = Array(slice.prefix(size))
    var links = JSONObject()
    let path = request.path
    func href(_ extra: [(String, String)]) -> JSON {
        var q = request.query.filter { !$0.0.hasPrefix("page[before]") && !$0.0.hasPrefix("page[after]") }
        q += extra
        let qs = q.map { "\($0.0.queryEscaped)=\($0.1.queryEscaped)" }.joined(separator: "&")
        return .object(JSONObject([("href", .string(HRef.make(base: base, path: path + (qs.isEmpty ? "" : "?" + qs))))]))
    }
    links["self"] = href(request.query.filter { $0.0 == "page[after]" || $0.0 == "page[before]" })
    if let last = page.last, let lastIndex = all.firstIndex(where: { cursor($0) == cursor(last) }), lastIndex < all.count - 1 {
        links["next"] = href([("page[after]", cursor(last))])
    }
    if let first = page.first, let firstIndex = all.firstIndex(where: { cursor($0) == cursor(first) }), firstIndex > 0 {
        links["previous"] = href([("page[before]", cursor(first))])
    }
    return .object(JSONObject([("count", .int(Int64(all.count))), ("items", .array(page.map(render))), ("_links", .object(links))]))
}

extension String {
    var queryEscaped: String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~[]:,")
        return addingPercentEncoding(withAllowedCharacters: allowed) ?? self
    }
}
