import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP request Grove sends for an integration: the target checked by `OutboundPolicy` first, redirects not
/// followed (a public URL redirecting into a private network would undo the check), a bounded answer read back.
public enum OutboundHTTP {
    public struct Response: Sendable {
        public let status: Int
        public let body: [UInt8]
        public var ok: Bool { (200..<300).contains(status) }
        public var text: String { String(decoding: body.prefix(2048), as: UTF8.self) }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func send(_ method: String = "POST", url: String, headers: [(String, String)], body: [UInt8], policy: OutboundPolicy,
                            timeout: TimeInterval = 10, verifyTLS: Bool = true) async throws -> Response {
        let target: URL
        do { target = try policy.check(url: url) } catch { throw Failure(description: "\(error)") }
        if !verifyTLS, target.scheme?.lowercased() == "https" {
            return try await UnverifiedHTTPS.send(method, url: target, headers: headers, body: body, timeout: timeout)
        }
        var request = URLRequest(url: target, timeoutInterval: timeout)
        request.httpMethod = method
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        if method != "GET" { request.httpBody = Data(body) }
        let delegate = NoRedirects()
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = timeout
        config.timeoutIntervalForResource = timeout
        config.httpCookieStorage = nil
        config.urlCache = nil
        let session = URLSession(configuration: config, delegate: delegate, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        return try await withCheckedThrowingContinuation { (c: CheckedContinuation<Response, any Error>) in
            session.dataTask(with: request) { data, response, error in
                if let error { c.resume(throwing: Failure(description: error.localizedDescription)); return }
                guard let http = response as? HTTPURLResponse else { c.resume(throwing: Failure(description: "no HTTP answer")); return }
                c.resume(returning: Response(status: http.statusCode, body: Array((data ?? Data()).prefix(64 * 1024))))
            }.resume()
        }
    }

    final class NoRedirects: NSObject, URLSessionTaskDelegate, Sendable {
        func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
            completionHandler(nil)
        }
    }
}
