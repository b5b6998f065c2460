import Foundation

/// A JSON value whose objects keep their key order, so HAL documents read the same way every time.
public enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    public subscript(key: String) -> JSON? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9.0e15: return Int64(d)
        default: return nil
        }
    }
    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }
    public var arrayValue: [JSON]? { if case .array(let a) = self { return a }; return nil }
    public var objectValue: JSONObject? { if case .object(let o) = self { return o }; return nil }
    public var isNull: Bool { if case .null = self { return true }; return false }

    /// The JSON type name used in validation messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int, .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

/// An insertion-ordered JSON object. Objects here are small (tens of keys), so a pair array with linear lookup
/// builds and serializes faster than hashing every key.
public struct JSONObject: Sendable, Equatable, Sequence {
    // Unlabeled pairs, so objects built from literals keep the caller's array instead of copying it.
    private var pairs: [(String, JSON)] = []

    public init() {}
    /// Builds an object from pairs whose keys are unique (as in literals); a repeated key keeps its first value.
    public init(_ pairs: [(String, JSON)]) {
        self.pairs = pairs
    }

    /// An object as parsed: keys in input order; a repeated key keeps its first position and its last value.
    init(parsed: [(String, JSON)]) {
        pairs = parsed
        guard parsed.count > 1 else { return }
        var repeated = false
        if parsed.count <= 8 {
            outer: for i in 1..<parsed.count {
                for j in 0..<i where parsed[j].0 == parsed[i].0 { repeated = true; break outer }
            }
        } else {
            var seen = Set<String>(minimumCapacity: parsed.count)
            for p in parsed where !seen.insert(p.0).inserted { repeated = true; break }
        }
        guard repeated else { return }
        // One pass with an index: a hostile body of many keys, some repeated, costs linear time.
        var position: [String: Int] = [:]
        var unique: [(String, JSON)] = []
        for (k, v) in parsed {
            if let i = position[k] { unique[i].1 = v } else { position[k] = unique.count; unique.append((k, v)) }
        }
        pairs = unique
    }

    public var keys: [String] { pairs.map(\.0) }

    public subscript(key: String) -> JSON? {
        get {
            for p in pairs where p.0 == key { return p.1 }
            return nil
        }
        set {
            if let i = pairs.firstIndex(where: { $0.0 == key }) {
                if let newValue { pairs[i].1 = newValue } else { pairs.remove(at: i) }
            } else if let newValue {
                pairs.append((key, newValue))
            }
        }
    }

    public var count: Int { pairs.count }
    public var isEmpty: Bool { pairs.isEmpty }

    public struct Iterator: IteratorProtocol {
        var base: IndexingIterator<[(String, JSON)]>
        public mutating func next() -> (key: String, value: JSON)? { base.next().map { (key: $0.0, value: $0.1) } }
    }

    public func makeIterator() -> Iterator { Iterator(base: pairs.makeIterator()) }

    /// Key order does not matter for equality.
    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        guard a.count == b.count else { return false }
        for (k, v) in a.pairs where b[k] != v { return false }
        return true
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, ExpressibleByFloatLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) { self = .object(JSONObject(elements)) }
    public init(nilLiteral: ()) { self = .null }
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension JSON {
    public init(_ s: String?) { self = s.map { .string($0) } ?? .null }
    public init(_ i: Int) { self = .int(Int64(i)) }
    public init(_ b: Bool) { self = .bool(b) }
    public init(_ strings: [String]) { self = .array(strings.map { .string($0) }) }
}

// MARK: - Serialization

public struct JSONParseError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public let offset: Int
    public var description: String { "\(message) at byte \(offset)" }
}

extension JSON {
    /// Parses UTF-8 JSON text. Integers stay integers so ids and counts round-trip exactly.
    public static func parse(_ bytes: some Collection<UInt8>) throws -> JSON {
        if let v = try bytes.withContiguousStorageIfAvailable({ try parse(buffer: $0) }) { return v }
        return try Array(bytes).withUnsafeBufferPointer { try parse(buffer: $0) }
    }

    public static func parse(_ text: String) throws -> JSON {
        var text = text
        return try text.withUTF8 { try parse(buffer: $0) }
    }

    // The parser reads a buffer in place: no copy of the input, no bounds-checked array access per byte.
    static func parse(buffer: UnsafeBufferPointer<UInt8>) throws -> JSON {
        var p = JSONParser(buffer)
        p.skipWhitespace()
        let v = try p.value(depth: 0)
        p.skipWhitespace()
        guard p.atEnd else { throw JSONParseError(message: "unexpected trailing characters", offset: p.index) }
        return v
    }

    public func serialized(pretty: Bool = false) -> String {
        String(decoding: bytes(pretty: pretty), as: UTF8.self)
    }

    /// UTF-8 JSON text.
    public func bytes(pretty: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(into: &out, pretty: pretty, indent: 0)
        return out
    }

    public var bytes: [UInt8] { bytes(pretty: false) }

    private static func newline(_ out: inout [UInt8], _ indent: Int) {
        out.append(0x0A)
        for _ in 0..<indent { out.append(0x20); out.append(0x20) }
    }

    private func write(into out: inout [UInt8], pretty: Bool, indent: Int) {
        switch self {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(let b):
            if b { out.append(contentsOf: [0x74, 0x72, 0x75, 0x65]) } else { out.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65]) }
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d):
            if d.isFinite {
                if d.rounded() == d && abs(d) < 1e15 { out.append(contentsOf: String(Int64(d)).utf8) } else { out.append(contentsOf: "\(d)".utf8) }
            } else { out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C]) }
        case .string(let s): JSON.writeString(s, into: &out)
        case .array(let a):
            if a.isEmpty { out.append(0x5B); out.append(0x5D); return }
            out.append(0x5B)
            for (i, v) in a.enumerated() {
                if i > 0 { out.append(0x2C) }
                if pretty { JSON.newline(&out, indent + 1) }
                v.write(into: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { JSON.newline(&out, indent) }
            out.append(0x5D)
        case .object(let o):
            if o.isEmpty { out.append(0x7B); out.append(0x7D); return }
            out.append(0x7B)
            var first = true
            for (k, v) in o {
                if !first { out.append(0x2C) }
                first = false
                if pretty { JSON.newline(&out, indent + 1) }
                JSON.writeString(k, into: &out)
                out.append(0x3A)
                if pretty { out.append(0x20) }
                v.write(into: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { JSON.newline(&out, indent) }
            out.append(0x7D)
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(0x22)
        var s = s
        s.withUTF8 { buf in
            var start = 0
            for (i, c) in buf.enumerated() where c < 0x20 || c == 0x22 || c == 0x5C {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[start..<i]))
                switch c {
                case 0x22: out.append(0x5C); out.append(0x22)
                case 0x5C: out.append(0x5C); out.append(0x5C)
                case 0x0A: out.append(0x5C); out.append(0x6E)
                case 0x0D: out.append(0x5C); out.append(0x72)
                case 0x09: out.append(0x5C); out.append(0x74)
                default:
                    out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hexDigits[Int(c >> 4)], hexDigits[Int(c & 0x0F)]])
                }
                start = i + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[start..<buf.count]))
        }
        out.append(0x22)
    }
}

private struct JSONParser {
    let b: UnsafeBufferPointer<UInt8>
    var index = 0
    init(_ b: UnsafeBufferPointer<UInt8>) { self.b = b }
    var atEnd: Bool { index >= b.count }

    mutating func skipWhitespace() {
        while index < b.count, b[index] == 0x20 || b[index] == 0x0A || b[index] == 0x0D || b[index] == 0x09 { index += 1 }
    }

    func fail(_ m: String) -> JSONParseError { JSONParseError(message: m, offset: index) }

    mutating func value(depth: Int) throws -> JSON {
        guard depth < 64 else { throw fail("nesting too deep") }
        guard index < b.count else { throw fail("unexpected end of input") }
        switch b[index] {
        case UInt8(ascii: "{"):
            index += 1
            var pairs: [(String, JSON)] = []
            skipWhitespace()
            if index < b.count, b[index] == UInt8(ascii: "}") { index += 1; return .object(JSONObject()) }
            pairs.reserveCapacity(8)
            while true {
                skipWhitespace()
                guard index < b.count, b[index] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                let k = try string()
                skipWhitespace()
                guard index < b.count, b[index] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                index += 1
                skipWhitespace()
                pairs.append((k, try value(depth: depth + 1)))
                skipWhitespace()
                guard index < b.count else { throw fail("unexpected end of input") }
                if b[index] == UInt8(ascii: ",") { index += 1; continue }
                if b[index] == UInt8(ascii: "}") { index += 1; return .object(JSONObject(parsed: pairs)) }
                throw fail("expected ',' or '}'")
            }
        case UInt8(ascii: "["):
            index += 1
            var arr: [JSON] = []
            skipWhitespace()
            if index < b.count, b[index] == UInt8(ascii: "]") { index += 1; return .array(arr) }
            while true {
                skipWhitespace()
                arr.append(try value(depth: depth + 1))
                skipWhitespace()
                guard index < b.count else { throw fail("unexpected end of input") }
                if b[index] == UInt8(ascii: ",") { index += 1; continue }
                if b[index] == UInt8(ascii: "]") { index += 1; return .array(arr) }
                throw fail("expected ',' or ']'")
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default:
            return try number()
        }
    }

    mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        guard index + n <= b.count else { throw fail("invalid literal") }
        let matches = word.withUTF8Buffer { w in b[index..<index + n].elementsEqual(w) }
        guard matches else { throw fail("invalid literal") }
        index += n
    }

    mutating func number() throws -> JSON {
        let start = index
        var isFloat = false
        if index < b.count, b[index] == UInt8(ascii: "-") { index += 1 }
        guard index < b.count, (0x30...0x39).contains(b[index]) else { throw fail("invalid value") }
        while index < b.count {
            let c = b[index]
            if (0x30...0x39).contains(c) { index += 1 }
            else if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
                isFloat = true; index += 1
            } else { break }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<index]), as: UTF8.self)
        if !isFloat, let i = Int64(text) { return .int(i) }
        guard let d = Double(text) else { throw fail("invalid number") }
        return .double(d)
    }

    mutating func string() throws -> String {
        index += 1  // opening quote
        // Most strings hold no escape: make them straight from the input.
        var end = index
        while end < b.count, b[end] != 0x22, b[end] != 0x5C, b[end] >= 0x20 { end += 1 }
        if end < b.count, b[end] == 0x22 {
            guard let s = String(validating: UnsafeBufferPointer(rebasing: b[index..<end]), as: UTF8.self) else { throw fail("invalid UTF-8 in string") }
            index = end + 1
            return s
        }
        var bytes: [UInt8] = Array(b[index..<end])
        index = end
        while index < b.count {
            let c = b[index]
            if c == UInt8(ascii: "\"") {
                index += 1
                guard let s = String(validating: bytes, as: UTF8.self) else { throw fail("invalid UTF-8 in string") }
                return s
            }
            if c < 0x20 { throw fail("control character in string") }
            if c == UInt8(ascii: "\\") {
                index += 1
                guard index < b.count else { break }
                let e = b[index]
                index += 1
                switch e {
                case UInt8(ascii: "\""): bytes.append(0x22)
                case UInt8(ascii: "\\"): bytes.append(0x5C)
                case UInt8(ascii: "/"): bytes.append(0x2F)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0C)
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800...0xDBFF).contains(code) {
                        guard index + 1 < b.count, b[index] == UInt8(ascii: "\\"), b[index + 1] == UInt8(ascii: "u") else {
                            throw fail("unpaired surrogate")
                        }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw fail("invalid surrogate pair") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw fail("invalid unicode escape") }
                    bytes.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: throw fail("invalid escape")
                }
                continue
            }
            bytes.append(c)
            index += 1
        }
        throw fail("unterminated string")
    }

    mutating func hex4() throws -> UInt32 {
        guard index + 4 <= b.count, let v = UInt32(String(decoding: UnsafeBufferPointer(rebasing: b[index..<index + 4]), as: UTF8.self), radix: 16) else {
            throw fail("invalid unicode escape")
        }
        index += 4
        return v
    }
}
