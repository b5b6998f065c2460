import Foundation

/// git's smart HTTP protocol, served by git's own `git http-backend` (CGI): clone, fetch and push.
/// The caller streams the request into the CGI process and its answer back out (see `StreamingChild`).
public struct SmartHTTP: Sendable {
    public enum Service: String, Sendable {
        case uploadPack = "git-upload-pack"
        case receivePack = "git-receive-pack"
    }

    public struct Head: Sendable {
        public var status: Int
        public var headers: [(String, String)]
    }

    let repositories: Repositories

    public init(repositories: Repositories) { self.repositories = repositories }

    /// Which service a request asks for: `info/refs?service=...` or a POST to the service's path.
    public static func service(path: String, query: String?) -> Service? {
        if path.hasSuffix("/git-receive-pack") { return .receivePack }
        if path.hasSuffix("/git-upload-pack") { return .uploadPack }
        if path.hasSuffix("/info/refs") {
            if query?.contains("service=git-receive-pack") == true { return .receivePack }
            return .uploadPack
        }
        return nil
    }

    /// The `git http-backend` program and its arguments.
    public var backend: (exe: String, args: [String]) {
        let dir = (repositories.gitPath as NSString).deletingLastPathComponent
        for candidate in ["/usr/lib/git-core/git-http-backend", dir + "/../libexec/git-core/git-http-backend"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return (candidate, [])
        }
        return (repositories.gitPath, ["http-backend"])
    }

    /// The CGI environment for one request. `contentLength` nil means the body is chunked and read to its end.
    /// `config` pairs become `GIT_CONFIG_*` entries; `extra` is passed through to git and its hooks.
    public func environment(method: String, pathInfo: String, query: String?, contentType: String?, contentEncoding: String?,
                            contentLength: Int?, user: String, allowPush: Bool, config: [(String, String)] = [],
                            extra: [String: String] = [:]) -> [String: String] {
        var env = Repositories.baseEnvironment
        env["GIT_PROJECT_ROOT"] = repositories.root
        env["GIT_HTTP_EXPORT_ALL"] = "1"
        env["REQUEST_METHOD"] = method
        env["PATH_INFO"] = pathInfo
        env["QUERY_STRING"] = query ?? ""
        env["REMOTE_USER"] = user
        env["REMOTE_ADDR"] = "127.0.0.1"
        env["CONTENT_TYPE"] = contentType ?? ""
        if let contentLength { env["CONTENT_LENGTH"] = String(contentLength) }
        if let contentEncoding { env["HTTP_CONTENT_ENCODING"] = contentEncoding }
        let pairs = [("http.receivepack", allowPush ? "true" : "false"), ("http.uploadpack", "true")] + config
        env["GIT_CONFIG_COUNT"] = String(pairs.count)
        for (i, (k, v)) in pairs.enumerated() {
            env["GIT_CONFIG_KEY_\(i)"] = k
            env["GIT_CONFIG_VALUE_\(i)"] = v
        }
        for (k, v) in extra { env[k] = v }
        return env
    }

    /// Splits the CGI header block off the start of the output; nil until the blank line has arrived.
    public static func parseHead(_ bytes: [UInt8]) -> (head: Head, bodyStart: Int)? {
        var end: Int?
        var i = 0
        while i + 1 < bytes.count {
            if bytes[i] == 0x0A && bytes[i + 1] == 0x0A { end = i; break }
            if i + 3 < bytes.count && bytes[i] == 0x0D && bytes[i + 1] == 0x0A && bytes[i + 2] == 0x0D && bytes[i + 3] == 0x0A { end = i; break }
            i += 1
        }
        guard let end else { return nil }
        let text = String(decoding: bytes[0..<end], as: UTF8.self)
        let bodyStart = bytes[end] == 0x0D ? end + 4 : end + 2
        var head = Head(status: 200, headers: [])
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name.lowercased() == "status" { head.status = Int(value.prefix(3)) ?? 200 } else { head.headers.append((name, value)) }
        }
        return (head, bodyStart)
    }
}
