import Foundation

/// git's smart HTTP protocol, served by git's own `git http-backend` (CGI): clone, fetch and push.
public struct SmartHTTP: Sendable {
    public enum Service: String, Sendable {
        case uploadPack = "git-upload-pack"
        case receivePack = "git-receive-pack"
    }

    public struct Response: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: [UInt8]
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

    /// Runs one request through `git http-backend`. `pathInfo` is the path inside the repository root
    /// (e.g. `/abc.git/info/refs`); `user` becomes REMOTE_USER; pushes are only enabled when `allowPush`.
    public func handle(method: String, pathInfo: String, query: String?, contentType: String?, contentEncoding: String?,
                       body: [UInt8], user: String, allowPush: Bool, extraEnvironment: [String: String] = [:]) async throws -> Response {
        var env = Repositories.baseEnvironment
        env["GIT_PROJECT_ROOT"] = repositories.root
        env["GIT_HTTP_EXPORT_ALL"] = "1"
        env["REQUEST_METHOD"] = method
        env["PATH_INFO"] = pathInfo
        env["QUERY_STRING"] = query ?? ""
        env["REMOTE_USER"] = user
        env["REMOTE_ADDR"] = "127.0.0.1"
        env["CONTENT_TYPE"] = contentType ?? ""
        env["CONTENT_LENGTH"] = String(body.count)
        if let contentEncoding { env["HTTP_CONTENT_ENCODING"] = contentEncoding }
        env["GIT_CONFIG_COUNT"] = "2"
        env["GIT_CONFIG_KEY_0"] = "http.receivepack"
        env["GIT_CONFIG_VALUE_0"] = allowPush ? "true" : "false"
        env["GIT_CONFIG_KEY_1"] = "http.uploadpack"
        env["GIT_CONFIG_VALUE_1"] = "true"
        for (k, v) in extraEnvironment { env[k] = v }
        let backend = (repositories.gitPath as NSString).deletingLastPathComponent == "/usr/bin"
            ? "/usr/lib/git-core/git-http-backend" : repositories.gitPath
        let args = backend.hasSuffix("git-http-backend") ? [] : ["http-backend"]
        let out = try await ChildProcess.run(backend, args, environment: env, input: body)
        return try Self.parseCGI(out.stdout, stderr: out.stderr)
    }

    /// Splits a CGI answer into status, headers and body.
    static func parseCGI(_ bytes: [UInt8], stderr: [UInt8]) throws -> Response {
        var headerEnd: Int?
        var i = 0
        while i + 1 < bytes.count {
            if bytes[i] == 0x0A && bytes[i + 1] == 0x0A { headerEnd = i; break }
            if i + 3 < bytes.count && bytes[i] == 0x0D && bytes[i + 1] == 0x0A && bytes[i + 2] == 0x0D && bytes[i + 3] == 0x0A { headerEnd = i; break }
            i += 1
        }
        guard let end = headerEnd else {
            throw RepositoryError("git http-backend gave no headers: \(String(decoding: stderr, as: UTF8.self))")
        }
        let head = String(decoding: bytes[0..<end], as: UTF8.self)
        let bodyStart = bytes[end] == 0x0D ? end + 4 : end + 2
        var status = 200
        var headers: [(String, String)] = []
        for line in head.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name.lowercased() == "status" { status = Int(value.prefix(3)) ?? 200 } else { headers.append((name, value)) }
        }
        return Response(status: status, headers: headers, body: Array(bytes[bodyStart...]))
    }
}
