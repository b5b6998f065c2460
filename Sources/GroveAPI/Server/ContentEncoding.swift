import CompressNIO
import NIOCore

/// gzip for answers served again from the response cache. An answer is compressed the first time it is reused, once
/// per change version, so a read-once answer never pays for it; answers rendered anew are sent as they are, because
/// compressing costs more CPU than rendering them (a 173 KB environment list: ~0.6 ms at level 1, down to ~8 KB).
enum ContentEncoding {
    /// Smaller answers gain nothing worth the header and the CPU.
    static let minimumBytes = 1024

    /// Whether an `Accept-Encoding` header lets the answer be gzip (RFC 9110 §12.5.3): `gzip` or `x-gzip` (or `*`)
    /// with a quality above zero; an explicit `gzip;q=0` refuses it even when `*` allows it.
    static func acceptsGzip(_ header: String?) -> Bool {
        guard let header, !header.isEmpty else { return false }
        var gzip: Bool?
        var any: Bool?
        for item in header.split(separator: ",") {
            let parts = item.split(separator: ";")
            guard let name = parts.first?.trimmingSpaces.lowercased() else { continue }
            var quality = 1.0
            for p in parts.dropFirst() {
                let kv = p.trimmingSpaces
                if kv.lowercased().hasPrefix("q=") { quality = Double(kv.dropFirst(2)) ?? 0 }
            }
            switch name {
            case "gzip", "x-gzip": gzip = quality > 0
            case "*": any = quality > 0
            default: break
            }
        }
        return gzip ?? any ?? false
    }

    /// The gzip member of `body` at the fastest level; nil if zlib fails (the caller then sends the body as it is).
    static func gzip(_ body: ByteBuffer) -> ByteBuffer? {
        var input = body
        return try? input.compress(with: .gzip(configuration: .init(compressionLevel: .fastestCompression)))
    }
}

private extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while let c = s.first, c == " " || c == "\t" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" { s = s.dropLast() }
        return s
    }
}
