import CompressNIO
@testable import GroveAPI
import NIOCore
import Testing

@Suite("Content encoding of cached answers")
struct ContentEncodingTests {
    @Test func acceptEncodingHeadersAreReadByTheirQualities() {
        #expect(ContentEncoding.acceptsGzip("gzip"))
        #expect(ContentEncoding.acceptsGzip("deflate, gzip, br, zstd"))
        #expect(ContentEncoding.acceptsGzip("GZIP;q=0.5"))
        #expect(ContentEncoding.acceptsGzip("x-gzip"))
        #expect(ContentEncoding.acceptsGzip("br;q=1.0, *;q=0.1"))
        #expect(ContentEncoding.acceptsGzip(" gzip ; q=1 , identity"))
        #expect(!ContentEncoding.acceptsGzip(nil))
        #expect(!ContentEncoding.acceptsGzip(""))
        #expect(!ContentEncoding.acceptsGzip("identity"))
        #expect(!ContentEncoding.acceptsGzip("br, deflate"))
        #expect(!ContentEncoding.acceptsGzip("gzip;q=0"))
        #expect(!ContentEncoding.acceptsGzip("gzip;q=0.000, *"))
        #expect(!ContentEncoding.acceptsGzip("*;q=0"))
        #expect(!ContentEncoding.acceptsGzip("gzip;q=nonsense"))
        // A hostile header (tens of thousands of items, every one refusing) is read in one pass and refused.
        let flood = Array(repeating: "gzip;q=0, x;q=1;q=0;a=b", count: 20_000).joined(separator: ", ")
        #expect(!ContentEncoding.acceptsGzip(flood))
        #expect(ContentEncoding.acceptsGzip(flood + ", gzip"))
    }

    @Test func gzipRoundTripsAndShrinksJSON() throws {
        var json = "["
        for i in 0..<200 { json += #"{"id":"env-\#(i)","status":"active","_links":{"self":{"href":"http://grove.test/api/projects/p/environments/env-\#(i)"}}},"# }
        json += "{}]"
        let body = ByteBuffer(string: json)
        var gz = try #require(ContentEncoding.gzip(body))
        #expect(gz.readableBytes < body.readableBytes / 5)
        // A gzip member starts with its magic bytes (RFC 1952), which is what clients check.
        #expect(gz.getBytes(at: gz.readerIndex, length: 2) == [0x1f, 0x8b])
        let back = try gz.decompress(with: .gzip())
        #expect(back == body)
    }

    @Test func theGzipFormIsKeptWithItsEntryAndDroppedWithItsVersion() throws {
        let cache = ResponseCache()
        let body = ByteBuffer(string: String(repeating: #"{"a":"b"},"#, count: 500))
        cache.put("k", version: 1, body: body)
        let first = try #require(cache.get("k", version: 1))
        #expect(first.gzipped == nil)
        let gz = try #require(cache.gzipped("k", version: 1, entry: first))
        #expect(cache.get("k", version: 1)?.gzipped == gz)
        #expect(cache.get("k", version: 2) == nil)
        // A write moved the version on while compressing: the new entry does not get the old answer's gzip form.
        cache.put("k", version: 2, body: ByteBuffer(string: "[]"))
        _ = cache.gzipped("k", version: 1, entry: first)
        #expect(cache.get("k", version: 2)?.gzipped == nil)
    }
}
