import Foundation
import Synchronization
import GroveModel
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An error the API answered with, or a transport failure.
public struct ClientError: Error, CustomStringConvertible, Sendable {
    public let status: Int
    public let message: String
    public let body: JSON?
    public init(status: Int, message: String, body: JSON? = nil) { self.status = status; self.message = message; self.body = body }
    public var description: String {
        if status == 0 { return message }
        var m = "\(message) (HTTP \(status))"
        if case .object(let d)? = body?["detail"], !d.isEmpty { m += " " + JSON.object(d).serialized() }
        return m
    }
}

/// A typed-enough client of the Grove REST API: JSON in, JSON out, with HAL links followed as given.
public final class APIClient: Sendable {
    public let baseURL: String
    public let tokenSource: TokenSource
    let session: URLSession

    public init(baseURL: String, tokenSource: TokenSource) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.tokenSource = tokenSource
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = 60
        self.session = URLSession(configuration: config)
    }

    public func url(_ pathOrURL: String) -> String {
        pathOrURL.hasPrefix("http://") || pathOrURL.hasPrefix("https://") ? pathOrURL : baseURL + pathOrURL
    }

    @discardableResult
    public func get(_ path: String) async throws -> JSON { try await send("GET", path, nil) }
    @discardableResult
    public func post(_ path: String, _ body: JSON? = nil) async throws -> JSON { try await send("POST", path, body ?? .object(JSONObject())) }
    @discardableResult
    public func patch(_ path: String, _ body: JSON) async throws -> JSON { try await send("PATCH", path, body) }
    @discardableResult
    public func delete(_ path: String) async throws -> JSON { try await send("DELETE", path, nil) }

    public func send(_ method: String, _ path: String, _ body: JSON?) async throws -> JSON {
        let (status, json) = try await raw(method, path, body, retryOn401: true)
        guard (200..<300).contains(status) else {
            throw ClientError(status: status, message: json?["message"]?.stringValue ?? json?["error_description"]?.stringValue ?? "request failed", body: json)
        }
        return json ?? .null
    }

    func raw(_ method: String, _ path: String, _ body: JSON?, retryOn401: Bool) async throws -> (Int, JSON?) {
        guard let u = URL(string: url(path)) else { throw ClientError(status: 0, message: "invalid URL \(url(path))") }
        var req = URLRequest(url: u)
        req.httpMethod = method
        req.setValue("application/json", forHTTPHeaderField: "Accept")
        req.setValue("grove-cli/\(GroveClientVersion.string)", forHTTPHeaderField: "User-Agent")
        req.setValue("Bearer " + (try await tokenSource.accessToken(client: self)), forHTTPHeaderField: "Authorization")
        if let body {
            req.httpBody = Data(body.serialized().utf8)
            req.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await perform(req)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        if status == 401 && retryOn401 {
            await tokenSource.invalidate()
            return try await raw(method, path, body, retryOn401: false)
        }
        return (status, data.isEmpty ? nil : try? JSON.parse(Array(data)))
    }

    func perform(_ req: URLRequest) async throws -> (Data, URLResponse) {
        do { return try await session.data(for: req) } catch {
            throw ClientError(status: 0, message: "cannot reach \(req.url?.absoluteString ?? "?"): \(error.localizedDescription)")
        }
    }

    /// POSTs a form to the token endpoint without a bearer token.
    public func tokenRequest(_ form: [(String, String)]) async throws -> JSON {
        guard let u = URL(string: baseURL + "/oauth2/token") else { throw ClientError(status: 0, message: "invalid API URL \(baseURL)") }
        var req = URLRequest(url: u)
        req.httpMethod = "POST"
        req.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        req.setValue("Basic " + Data("grove-cli:".utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
        req.httpBody = Data(form.map { "\($0.0)=\(formEscape($0.1))" }.joined(separator: "&").utf8)
        let (data, response) = try await perform(req)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let json = try? JSON.parse(Array(data))
        guard status == 200, let json else {
            throw ClientError(status: status, message: json?["error_description"]?.stringValue ?? "token request failed", body: json)
        }
        return json
    }

    public func revoke(_ token: String) async {
        guard let u = URL(string: baseURL + "/oauth2/revoke") else { return }
        var req = URLRequest(url: u)
        req.httpMethod = "POST"
        req.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        req.httpBody = Data("token=\(formEscape(token))&client_id=grove-cli".utf8)
        _ = try? await perform(req)
    }

    /// Streams an NDJSON resource, calling `onLine` for each parsed line until the server closes it.
    public func streamLines(_ path: String, onLine: @Sendable @escaping (JSON) -> Void) async throws {
        guard let u = URL(string: url(path)) else { throw ClientError(status: 0, message: "invalid URL") }
        var req = URLRequest(url: u)
        req.timeoutInterval = 3600
        let bearer = "Bearer " + (try await tokenSource.accessToken(client: self))
        if let target = BlockingLineStream.Target(u) {
            try await BlockingLineStream().run(target, method: "GET", headers: ["Authorization": bearer], body: nil, onLine: onLine)
            return
        }
        req.setValue(bearer, forHTTPHeaderField: "Authorization")
        let stream = LineStream()
        try await stream.run(req, onLine: onLine)
    }

    func formEscape(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}

public enum GroveClientVersion {
    public static let string = "0.1.0"
}

/// Delegate-based streaming so lines arrive as the server flushes them (corelibs URLSession has no async bytes).
/// URLSession calls the delegate on its own queue; the state lives in a mutex so the class is checked Sendable.
final class LineStream: NSObject, URLSessionDataDelegate, Sendable {
    private struct State {
        var buffer = Data()
        var onLine: (@Sendable (JSON) -> Void)?
        var continuation: CheckedContinuation<Void, any Error>?
        var status = 0
    }

    private let state = Mutex(State())

    func run(_ req: URLRequest, onLine: @Sendable @escaping (JSON) -> Void) async throws {
        state.withLock { $0.onLine = onLine }
        let session = URLSession(configuration: .ephemeral, delegate: self, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            state.withLock { $0.continuation = c }
            session.dataTask(with: req).resume()
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        let code = (response as? HTTPURLResponse)?.statusCode ?? 0
        state.withLock { $0.status = code }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        // Complete lines are taken out under the lock and handed on outside it.
        let (lines, onLine) = state.withLock { s -> ([JSON], (@Sendable (JSON) -> Void)?) in
            s.buffer.append(data)
            var lines: [JSON] = []
            while let nl = s.buffer.firstIndex(of: 0x0A) {
                let line = s.buffer[s.buffer.startIndex..<nl]
                s.buffer = Data(s.buffer[(nl + 1)...])
                if s.status == 200, let j = try? JSON.parse(Array(line)) { lines.append(j) }
            }
            return (lines, s.onLine)
        }
        for line in lines { onLine?(line) }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        let (last, onLine, status, c) = state.withLock { s -> (JSON?, (@Sendable (JSON) -> Void)?, Int, CheckedContinuation<Void, any Error>?) in
            // A last line without its newline still counts.
            let last = error == nil && s.status == 200 && !s.buffer.isEmpty ? try? JSON.parse(Array(s.buffer)) : nil
            s.buffer = Data()
            let c = s.continuation
            s.continuation = nil
            return (last, s.onLine, s.status, c)
        }
        if let last { onLine?(last) }
        if let error { c?.resume(throwing: ClientError(status: 0, message: "log stream failed: \(error.localizedDescription)")) }
        else if status != 200 { c?.resume(throwing: ClientError(status: status, message: "log stream refused")) }
        else { c?.resume() }
    }
}

/// POSTs a JSON body and streams the NDJSON answer line by line (used by git hooks calling their server).
public enum NDJSONRequest {
    public static func post(_ url: String, headers: [String: String], body: [UInt8], onLine: @Sendable @escaping (JSON) -> Void) async throws {
        guard let u = URL(string: url) else { throw ClientError(status: 0, message: "invalid URL \(url)") }
        if let target = BlockingLineStream.Target(u) {
            var h = headers
            h["Content-Type"] = "application/json"
            try await BlockingLineStream().run(target, method: "POST", headers: h, body: body, onLine: onLine)
            return
        }
        var req = URLRequest(url: u)
        req.httpMethod = "POST"
        req.timeoutInterval = 3700
        req.httpBody = Data(body)
        req.setValue("application/json", forHTTPHeaderField: "Content-Type")
        for (k, v) in headers { req.setValue(v, forHTTPHeaderField: k) }
        try await LineStream().run(req, onLine: onLine)
    }
}
