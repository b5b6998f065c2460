import Foundation
import Testing
@testable import GroveModel

@Suite struct JSONTests {
    @Test func stringsWithAndWithoutEscapesParse() throws {
        #expect(try JSON.parse(#""plain text""#) == .string("plain text"))
        #expect(try JSON.parse(#""a\"b\\c\/d\n\t""#) == .string("a\"b\\c/d\n\t"))
        #expect(try JSON.parse(#""caf\u00e9 \ud83d\ude00""#) == .string("café 😀"))
        #expect(try JSON.parse(#""prefix then \n escape""#) == .string("prefix then \n escape"))
        #expect(try JSON.parse("\"ünïcödé\"") == .string("ünïcödé"))
    }

    @Test func badStringsAreRefused() {
        #expect(throws: JSONParseError.self) { try JSON.parse([0x22, 0xFF, 0xFE, 0x22]) }  // invalid UTF-8
        #expect(throws: JSONParseError.self) { try JSON.parse("\"tab\there\"") }  // raw control character
        #expect(throws: JSONParseError.self) { try JSON.parse(#""unterminated"#) }
        #expect(throws: JSONParseError.self) { try JSON.parse(#""\ud83d alone""#) }
        #expect(throws: JSONParseError.self) { try JSON.parse(#""\q""#) }
    }

    @Test func repeatedKeysKeepTheFirstPlaceAndTheLastValue() throws {
        let small = try JSON.parse(#"{"a":1,"b":2,"a":3}"#)
        #expect(small.objectValue?.keys == ["a", "b"])
        #expect(small["a"] == .int(3))
        // Objects above eight keys take the hashed path.
        let keys = (0..<12).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        let large = try JSON.parse("{" + keys + #","k3":"again"}"#)
        #expect(large.objectValue?.count == 12)
        #expect(large.objectValue?.keys.first == "k0")
        #expect(large["k3"] == .string("again"))
        // A body of 60,000 keys, each twice: parsed in one pass (a setter per key would be 3.6e9 comparisons).
        let hostile = "{" + (0..<60_000).map { "\"k\($0 % 30_000)\":\($0)" }.joined(separator: ",") + "}"
        let parsed = try JSON.parse(hostile)
        #expect(parsed.objectValue?.count == 30_000)
        #expect(parsed["k7"] == .int(30_007))
        let distinct = try JSON.parse("{" + keys + "}")
        #expect(distinct.objectValue?.count == 12 && distinct["k11"] == .int(11))
    }

    @Test func anyCollectionOfBytesParses() throws {
        // Not contiguous: the parser copies it first.
        let bytes = Array(#"{"x":[1,"two",null]}"#.utf8)
        let lazy = bytes.lazy.map { $0 }
        #expect(try JSON.parse(lazy) == JSON.parse(bytes))
        #expect(try JSON.parse(bytes[1...3]) == .string("x"))
        #expect(throws: JSONParseError.self) { try JSON.parse(bytes[0...4]) }
    }

    @Test func literalsMustBeWhole() throws {
        #expect(try JSON.parse("[true,false,null]") == .array([.bool(true), .bool(false), .null]))
        for bad in ["tru", "nul", "falsy", "trUe"] {
            #expect(throws: JSONParseError.self) { try JSON.parse(bad) }
        }
    }

    @Test func serializationRoundTrips() throws {
        let value: JSON = .object(JSONObject([
            ("s", .string("quote \" backslash \\ newline \n control \u{01} é")), ("b", .bool(true)), ("f", .bool(false)),
            ("n", .null), ("i", .int(-42)), ("a", .array([.int(1), .string("x")])), ("o", .object(JSONObject())),
        ]))
        let text = value.serialized()
        #expect(text.contains(#""b":true"#) && text.contains(#""f":false"#) && text.contains(#"\u0001"#))
        #expect(try JSON.parse(text) == value)
        let viaFoundation = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        #expect(viaFoundation?["s"] as? String == "quote \" backslash \\ newline \n control \u{01} é")
    }

    @Test func objectsKeepOrderAndLastDuplicateWins() throws {
        guard case .object(let o) = try JSON.parse(#"{"z":1,"a":2,"z":3}"#) else { Issue.record("not an object"); return }
        #expect(o.keys == ["z", "a"])
        #expect(o["z"] == .int(3))
        var copy = o
        copy["a"] = nil
        #expect(copy.keys == ["z"])
        #expect(Array(o.map(\.key)) == ["z", "a"])
    }

    struct Inner: Codable, Equatable { var count: Int; var tags: [String] }
    struct Outer: Codable, Equatable { var name: String; var inner: Inner; var flag: Bool?; var list: [Inner] }

    @Test func decoderReadsNestedValuesAndNamesTheFailingPath() throws {
        let ok = try JSONValueDecoder.decode(Outer.self, from: Array(#"{"name":"n","inner":{"count":2,"tags":["a"]},"list":[{"count":1,"tags":[]}]}"#.utf8))
        #expect(ok == Outer(name: "n", inner: Inner(count: 2, tags: ["a"]), flag: nil, list: [Inner(count: 1, tags: [])]))
        do {
            _ = try JSONValueDecoder.decode(Outer.self, from: Array(#"{"name":"n","inner":{"count":2,"tags":["a"]},"list":[{"count":"x","tags":[]}]}"#.utf8))
            Issue.record("decoded a string as an integer")
        } catch DecodingError.typeMismatch(_, let context) {
            #expect(context.codingPath.map(\.stringValue) == ["list", "0", "count"])
        }
        do {
            _ = try JSONValueDecoder.decode(Outer.self, from: Array(#"{"name":"n","inner":{"count":2,"tags":[3]},"list":[]}"#.utf8))
            Issue.record("decoded a number as a string")
        } catch DecodingError.typeMismatch(_, let context) {
            #expect(context.codingPath.map(\.stringValue) == ["inner", "tags", "0"])
        }
    }
}
