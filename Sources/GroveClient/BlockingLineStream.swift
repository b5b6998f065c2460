import Foundation
import GroveModel
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// NDJSON over plain HTTP/1.1 read with blocking socket calls on a thread of its own. A log follow can last minutes
/// (a build); the thread sleeps in `read` until the server writes, so waiting costs no CPU. (corelibs URLSession's
/// streaming delegate polls its socket and kept a core busy while a push built.) https URLs use URLSession.
final class BlockingLineStream: Sendable {
    struct Target {
        let host: String
        let port: Int
        let path: String

        init?(_ url: URL) {
            guard url.scheme == "http", let host = url.host else { return nil }
            self.host = host
            port = url.port ?? 80
            var p = url.path.isEmpty ? "/" : url.path
            if let q = url.query { p += "?" + q }
            path = p
        }
    }

    /// The socket while one is open, and whether the task was cancelled: the cancellation handler shuts the socket down
    /// to wake the reading thread.
    private let socketState = Mutex<(fd: Int32, cancelled: Bool)>((-1, false))

    /// Sends the request and calls `onLine` for each line of a 200 answer; throws the status otherwise.
    func run(_ target: Target, method: String, headers: [String: String], body: [UInt8]?, onLine: @Sendable @escaping (JSON) -> Void) async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let thread = Thread { [self] in
                    do {
                        try exchange(target, method: method, headers: headers, body: body, onLine: onLine)
                        c.resume()
                    } catch {
                        c.resume(throwing: error)
                    }
                }
                thread.name = "grove-line-stream"
                thread.start()
            }
        } onCancel: {
            socketState.withLock { state in
                state.cancelled = true
                if state.fd >= 0 { shutdown(state.fd, Int32(SHUT_RDWR)) }
            }
        }
    }

    private func exchange(_ t: Target, method: String, headers: [String: String], body: [UInt8]?, onLine: (JSON) -> Void) throws {
        let socketFD = try connect(t)
        let stop = socketState.withLock { state in
            state.fd = socketFD
            return state.cancelled
        }
        defer {
            socketState.withLock { $0.fd = -1 }
            close(socketFD)
        }
        if stop { throw CancellationError() }
        var head = "\(method) \(t.path) HTTP/1.1\r\nHost: \(t.host):\(t.port)\r\nConnection: close\r\nAccept: application/x-ndjson\r\n"
        for (k, v) in headers where !k.contains("\r") && !k.contains("\n") && !v.contains("\r") && !v.contains("\n") { head += "\(k): \(v)\r\n" }
        if let body { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        try writeAll(socketFD, Array(head.utf8) + (body ?? []))

        var reader = Reader(fd: socketFD)
        let statusLine = try reader.line()
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw ClientError(status: 0, message: "log stream: not an HTTP answer") }
        var chunked = false
        var length: Int?
        while true {
            let h = try reader.line()
            if h.isEmpty { break }
            guard let colon = h.firstIndex(of: ":") else { continue }
            let name = h[..<colon].lowercased()
            let value = h[h.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name == "transfer-encoding", value.lowercased().contains("chunked") { chunked = true }
            if name == "content-length" { length = Int(value) }
        }
        var pending: [UInt8] = []
        func feed(_ bytes: ArraySlice<UInt8>) {
            pending += bytes
            while let nl = pending.firstIndex(of: 0x0A) {
                let line = Array(pending[..<nl])
                pending.removeSubrange(...nl)
                if status == 200, let j = try? JSON.parse(line) { onLine(j) }
            }
        }
        if chunked {
            while true {
                let sizeLine = try reader.line()
                guard let size = Int(sizeLine.split(separator: ";").first.map(String.init) ?? "", radix: 16) else {
                    throw ClientError(status: 0, message: "log stream: bad chunk")
                }
                if size == 0 { break }
                feed(try reader.bytes(size)[...])
                _ = try reader.line()
            }
        } else if let length {
            feed(try reader.bytes(length)[...])
        } else {
            while let more = try reader.some() { feed(more[...]) }
        }
        // A last line without its newline still counts.
        if status == 200, !pending.isEmpty, let j = try? JSON.parse(pending) { onLine(j) }
        guard status == 200 else { throw ClientError(status: status, message: "log stream refused") }
    }

    private func connect(_ t: Target) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(t.host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), String(t.port), &hints, &res) == 0, let first = res else {
            throw ClientError(status: 0, message: "cannot resolve \(t.host)")
        }
        defer { freeaddrinfo(res) }
        var ai: UnsafeMutablePointer<addrinfo>? = first
        while let a = ai {
            let s = socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
            if s >= 0 {
                if Glibc.connect(s, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 {
                    // A server that stops answering altogether ends the wait after an hour, as URLSession's timeout did.
                    var limit = timeval(tv_sec: 3700, tv_usec: 0)
                    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
                    return s
                }
                close(s)
            }
            ai = a.pointee.ai_next
        }
        throw ClientError(status: 0, message: "cannot connect to \(t.host):\(t.port)")
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw ClientError(status: 0, message: "log stream: write failed") }
            offset += n
        }
    }

    /// Buffered blocking reads from the socket.
    struct Reader {
        let fd: Int32
        var buffer: [UInt8] = []

        init(fd: Int32) { self.fd = fd }

        /// Reads once; nil at the end of the stream.
        mutating func fill() throws -> Bool {
            var chunk = [UInt8](repeating: 0, count: 16384)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n < 0 { throw ClientError(status: 0, message: "log stream: read failed") }
                if n == 0 { return false }
                buffer += chunk[..<n]
                return true
            }
        }

        /// A CRLF- (or LF-) terminated line without its terminator.
        mutating func line() throws -> String {
            while true {
                if let nl = buffer.firstIndex(of: 0x0A) {
                    var line = Array(buffer[..<nl])
                    buffer.removeSubrange(...nl)
                    if line.last == 0x0D { line.removeLast() }
                    return String(decoding: line, as: UTF8.self)
                }
                guard try fill() else { throw ClientError(status: 0, message: "log stream ended early") }
            }
        }

        mutating func bytes(_ count: Int) throws -> [UInt8] {
            while buffer.count < count {
                guard try fill() else { throw ClientError(status: 0, message: "log stream ended early") }
            }
            let out = Array(buffer[..<count])
            buffer.removeSubrange(..<count)
            return out
        }

        /// Whatever is buffered or arrives next; nil at the end.
        mutating func some() throws -> [UInt8]? {
            if buffer.isEmpty, try !fill() { return nil }
            defer { buffer.removeAll() }
            return buffer
        }
    }
}
