import Foundation
import Logging

/// Sends notification mail (invitations, MFA reminders) through the SMTP server of `grove serve --smtp-url
/// smtp://[user:password@]host[:port]`; without one, each message is written to the server log instead.
/// Plain SMTP with optional AUTH PLAIN: meant for a local relay (Postfix, a relay container) that does TLS onward.
public struct Mailer: Sendable {
    public struct Config: Sendable, Equatable {
        public var host: String
        public var port: UInt16
        public var username: String?
        public var password: String?
        public var from: String
    }

    let config: Config?
    let logger: Logger

    init(config: Config?, logger: Logger) { self.config = config; self.logger = logger }

    public init(url: String?, from: String = "grove@localhost", logger: Logger) throws {
        self.logger = logger
        guard let url else { config = nil; return }
        guard let c = URLComponents(string: url), c.scheme == "smtp", let host = c.host, !host.isEmpty else {
            throw MailError("--smtp-url must look like smtp://[user:password@]host[:port], not \(url)")
        }
        config = Config(host: host, port: UInt16(c.port ?? 25), username: c.user?.removingPercentEncoding,
                        password: c.password?.removingPercentEncoding, from: c.queryItems?.first { $0.name == "from" }?.value ?? from)
    }

    /// A plausible single address: one `@`, no spaces, angle brackets or line breaks.
    static func isAddress(_ s: String) -> Bool {
        let parts = s.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && s.count <= 254
            && !s.contains(where: { $0 == " " || $0 == "<" || $0 == ">" || $0 == "," || $0.isNewline })
    }

    /// Sends one message and reports failure (notifications whose outcome is logged in an activity).
    public func deliver(to recipient: String, subject: String, body: String, from: String? = nil) async throws {
        guard var config else { throw MailError("no SMTP server is configured (grove serve --smtp-url)") }
        if let from { config.from = from }
        let c = config
        try await Task.detached { try SMTPSession.deliver(c, to: recipient, subject: subject, body: body) }.value
    }

    /// Sends one message; failures are logged, never thrown: mail is a notification, not the operation.
    public func send(to recipient: String, subject: String, body: String) async {
        guard let config else {
            // Warning level: without a relay nobody receives this, so whoever runs the server must pass it on.
            logger.warning("mail not sent (no --smtp-url) to \(recipient): \(subject)\n\(body)")
            return
        }
        do {
            try await Task.detached { try SMTPSession.deliver(config, to: recipient, subject: subject, body: body) }.value
            logger.info("mail sent to \(recipient): \(subject)")
        } catch {
            logger.error("mail to \(recipient) failed: \(error)")
        }
    }
}

public struct MailError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ d: String) { description = d }
}

/// One blocking SMTP conversation (RFC 5321), with a 10-second timeout on every read.
enum SMTPSession {
    static func deliver(_ c: Mailer.Config, to recipient: String, subject: String, body: String) throws {
        guard !recipient.contains("\r"), !recipient.contains("\n"), !subject.contains("\n") else { throw MailError("header injection refused") }
        let fd = try connect(c.host, c.port)
        defer { close(fd) }
        var reader = LineReader(fd: fd)
        func expect(_ code: Int) throws {
            var line = try reader.line()
            while line.count > 3, line[line.index(line.startIndex, offsetBy: 3)] == "-" { line = try reader.line() }
            guard line.hasPrefix(String(code)) else { throw MailError("SMTP server answered '\(line)' (expected \(code))") }
        }
        func say(_ s: String) throws { try write(fd, s + "\r\n") }
        try expect(220)
        try say("EHLO grove")
        try expect(250)
        if let user = c.username {
            let token = Data(("\u{0}" + user + "\u{0}" + (c.password ?? "")).utf8).base64EncodedString()
            try say("AUTH PLAIN " + token)
            try expect(235)
        }
        try say("MAIL FROM:<\(c.from)>")
        try expect(250)
        try say("RCPT TO:<\(recipient)>")
        try expect(250)
        try say("DATA")
        try expect(354)
        let date = DateFormatter()
        date.locale = Locale(identifier: "en_US_POSIX")
        date.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        // Dot-stuffing: a line starting with "." gets another.
        let text = body.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(".") ? "." + $0 : String($0) }.joined(separator: "\r\n")
        try write(fd, "From: Grove <\(c.from)>\r\nTo: <\(recipient)>\r\nSubject: \(subject)\r\nDate: \(date.string(from: Date()))\r\n"
                  + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n.\r\n")
        try expect(250)
        try? say("QUIT")
    }

    static func connect(_ host: String, _ port: UInt16) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &res) == 0, let first = res else { throw MailError("cannot resolve SMTP host \(host)") }
        defer { freeaddrinfo(res) }
        var ai: UnsafeMutablePointer<addrinfo>? = first
        while let a = ai {
            let fd = socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
            if fd >= 0 {
                var tv = timeval(tv_sec: 10, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                if Glibc.connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 { return fd }
                close(fd)
            }
            ai = a.pointee.ai_next
        }
        throw MailError("cannot connect to SMTP server \(host):\(port)")
    }

    static func write(_ fd: Int32, _ s: String) throws {
        var bytes = Array(s.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw MailError("SMTP connection lost while writing") }
            bytes = bytes.dropFirst(n)
        }
    }

    struct LineReader {
        let fd: Int32
        var buffer: [UInt8] = []
        mutating func line() throws -> String {
            while true {
                if let i = buffer.firstIndex(of: 0x0A) {
                    let line = String(decoding: buffer[..<i], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                    buffer.removeFirst(i + 1)
                    return line
                }
                var chunk = [UInt8](repeating: 0, count: 1024)
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard n > 0 else { throw MailError("SMTP server closed the connection or timed out") }
                buffer += chunk[..<n]
            }
        }
    }
}
