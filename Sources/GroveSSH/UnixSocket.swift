import Foundation

/// The few Unix-socket calls the OpenSSH bridge needs and NIO does not offer: passing descriptors (`SCM_RIGHTS`),
/// reading the peer's uid (`SO_PEERCRED`), and length-prefixed messages. Blocking calls, made on threads of their own.
public enum UnixSocket {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ what: String) { description = "\(what): \(String(cString: strerror(errno)))" }
    }

    /// Linux's values (the C headers' macros and enums do not all reach Swift).
    static let scmRights: Int32 = 1
    static let soPeerCred: Int32 = 17
    static let headerSize = MemoryLayout<cmsghdr>.size
    /// The largest message either side accepts.
    public static let maxMessage = 1 << 20

    static func address(_ path: String) throws -> sockaddr_un {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { throw Failure("socket path too long") }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        return addr
    }

    public static func connect(_ path: String) throws -> Int32 {
        var addr = try address(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket") }
        let r = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        guard r == 0 else { let f = Failure("connect \(path)"); close(fd); throw f }
        return fd
    }

    /// Binds and listens at `path` (a stale socket there is replaced), then sets its mode.
    public static func listen(_ path: String, mode: mode_t) throws -> Int32 {
        unlink(path)
        var addr = try address(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket") }
        let r = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        guard r == 0, chmod(path, mode) == 0, Glibc.listen(fd, 64) == 0 else { let f = Failure("listen \(path)"); close(fd); throw f }
        return fd
    }

    /// The uid of the process at the other end.
    public static func peerUID(_ fd: Int32) -> uid_t? {
        var cred = [UInt32](repeating: 0, count: 3)  // struct ucred: pid, uid, gid
        var length = socklen_t(12)
        let r = cred.withUnsafeMutableBytes { getsockopt(fd, SOL_SOCKET, soPeerCred, $0.baseAddress, &length) }
        return r == 0 ? cred[1] : nil
    }

    /// One message: a 4-byte big-endian length and the payload, with `fds` attached to its first byte.
    public static func send(_ fd: Int32, _ payload: [UInt8], fds: [Int32] = []) throws {
        guard payload.count <= maxMessage else { throw Failure("message too large") }
        var bytes = withUnsafeBytes(of: UInt32(payload.count).bigEndian) { Array($0) } + payload
        if !fds.isEmpty {
            let dataLength = fds.count * MemoryLayout<Int32>.size
            let space = headerSize + (dataLength + 7) / 8 * 8
            var control = [UInt8](repeating: 0, count: space)
            control.withUnsafeMutableBytes { raw in
                guard let base = raw.baseAddress else { return }
                let header = base.assumingMemoryBound(to: cmsghdr.self)
                header.pointee.cmsg_len = headerSize + dataLength
                header.pointee.cmsg_level = SOL_SOCKET
                header.pointee.cmsg_type = scmRights
                fds.withUnsafeBytes { if let source = $0.baseAddress { (base + headerSize).copyMemory(from: source, byteCount: dataLength) } }
            }
            let sent = withMessage(&bytes, &control) { sendmsg(fd, &$0, Int32(MSG_NOSIGNAL)) }
            guard sent == 1 else { throw Failure("sendmsg") }
            bytes.removeFirst()
        }
        try writeAll(fd, bytes)
    }

    /// Reads one message and the descriptors that came with it (closed on failure).
    public static func receive(_ fd: Int32, maxFDs: Int = 3) throws -> (payload: [UInt8], fds: [Int32]) {
        var first = [UInt8](repeating: 0, count: 1)
        var control = [UInt8](repeating: 0, count: headerSize + (maxFDs * 4 + 7) / 8 * 8)
        let got = withMessage(&first, &control) { recvmsg(fd, &$0, Int32(MSG_CMSG_CLOEXEC)) }
        guard got == 1 else { throw Failure("recvmsg") }
        var fds: [Int32] = []
        control.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            let header = base.assumingMemoryBound(to: cmsghdr.self).pointee
            guard header.cmsg_level == SOL_SOCKET, header.cmsg_type == scmRights, header.cmsg_len > headerSize else { return }
            let count = min((Int(header.cmsg_len) - headerSize) / 4, maxFDs)
            for i in 0..<count { fds.append(base.load(fromByteOffset: headerSize + i * 4, as: Int32.self)) }
        }
        do {
            let rest = try readExactly(fd, 3)
            let length = Int(([first[0]] + rest).reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            guard length <= maxMessage else { throw Failure("message too large") }
            return (try readExactly(fd, length), fds)
        } catch {
            for f in fds { close(f) }
            throw error
        }
    }

    /// A `msghdr` over the first byte of `data` and all of `control`, for `sendmsg` and `recvmsg`.
    static func withMessage(_ data: inout [UInt8], _ control: inout [UInt8], _ call: (inout msghdr) -> Int) -> Int {
        data.withUnsafeMutableBytes { bytes -> Int in
            control.withUnsafeMutableBytes { ctl -> Int in
                var iov = iovec(iov_base: bytes.baseAddress, iov_len: 1)
                return withUnsafeMutablePointer(to: &iov) { iovp in
                    var msg = msghdr()
                    msg.msg_iov = iovp
                    msg.msg_iovlen = 1
                    msg.msg_control = ctl.baseAddress
                    msg.msg_controllen = ctl.count
                    return call(&msg)
                }
            }
        }
    }

    static func readExactly(_ fd: Int32, _ count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let n = out.withUnsafeMutableBytes { buf -> Int in
                guard let base = buf.baseAddress else { return -1 }
                return read(fd, base + offset, count - offset)
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Failure("connection closed") }
            offset += n
        }
        return out
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { buf -> Int in
                guard let base = buf.baseAddress else { return -1 }
                return Glibc.send(fd, base + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Failure("send") }
            offset += n
        }
    }
}
