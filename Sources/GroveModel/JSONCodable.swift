import Foundation

// Lets typed records hold free-form JSON (attributes, parameters, payloads) and still be Codable.
extension JSON: Codable {
    public init(from decoder: any Decoder) throws {
        if let fast = decoder as? ValueDecoder { self = fast.value; return }
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let i = try? c.decode(Int64.self) { self = .int(i); return }
        if let d = try? c.decode(Double.self) { self = .double(d); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let a = try? c.decode([JSON].self) { self = .array(a); return }
        let keyed = try decoder.container(keyedBy: AnyKey.self)
        var o = JSONObject()
        for k in keyed.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {
            o[k.stringValue] = try keyed.decode(JSON.self, forKey: k)
        }
        self = .object(o)
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null: var c = encoder.singleValueContainer(); try c.encodeNil()
        case .bool(let b): var c = encoder.singleValueContainer(); try c.encode(b)
        case .int(let i): var c = encoder.singleValueContainer(); try c.encode(i)
        case .double(let d): var c = encoder.singleValueContainer(); try c.encode(d)
        case .string(let s): var c = encoder.singleValueContainer(); try c.encode(s)
        case .array(let a): var c = encoder.unkeyedContainer(); for v in a { try c.encode(v) }
        case .object(let o):
            var c = encoder.container(keyedBy: AnyKey.self)
            for (k, v) in o { try c.encode(v, forKey: AnyKey(k)) }
        }
    }
}

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}

extension JSONObject: Codable {
    public init(from decoder: any Decoder) throws {
        if let fast = decoder as? ValueDecoder, case .object(let o) = fast.value { self = o; return }
        guard case .object(let o) = try JSON(from: decoder) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "expected an object"))
        }
        self = o
    }
    public func encode(to encoder: any Encoder) throws { try JSON.object(self).encode(to: encoder) }
}
