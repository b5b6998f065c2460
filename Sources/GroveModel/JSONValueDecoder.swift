/// Decodes `Decodable` values straight from a parsed `JSON` tree. The store reads every record through this;
/// it avoids Foundation's JSONDecoder, whose generic path dominated profiles of list endpoints.
public enum JSONValueDecoder {
    public static func decode<T: Decodable>(_ type: T.Type, from json: JSON) throws -> T {
        try T(from: ValueDecoder(value: json, codingPath: []))
    }

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        try decode(type, from: try JSON.parse(bytes))
    }
}

struct ValueDecoder: Decoder {
    let value: JSON
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let o) = value else { throw mismatch("an object") }
        return KeyedDecodingContainer(KeyedValueContainer<Key>(object: o, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let a) = value else { throw mismatch("an array") }
        return UnkeyedValueContainer(array: a, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleValueContainer(value: value, codingPath: codingPath) }

    func mismatch(_ expected: String) -> DecodingError {
        .typeMismatch(Any.self, .init(codingPath: codingPath, debugDescription: "expected \(expected), found \(value.typeName)"))
    }
}

/// Shared scalar conversions for the three container kinds. The coding path is built only when it is needed (an
/// error or a nested value): building it for every scalar was a measurable share of decoding a list.
enum ScalarDecoding {
    static func decode<T: Decodable>(_ type: T.Type, _ v: JSON, _ parent: [any CodingKey], _ key: (any CodingKey)?) throws -> T {
        func path() -> [any CodingKey] { key.map { parent + [$0] } ?? parent }
        func fail(_ what: String) -> DecodingError {
            .typeMismatch(T.self, .init(codingPath: path(), debugDescription: "expected \(what), found \(v.typeName)"))
        }
        let result: Any
        switch type {
        case is JSON.Type: result = v
        case is String.Type:
            guard case .string(let s) = v else { throw fail("a string") }
            result = s
        case is Bool.Type:
            guard case .bool(let b) = v else { throw fail("a boolean") }
            result = b
        case is Int.Type:
            guard let i = v.intValue else { throw fail("an integer") }
            result = Int(i)
        case is Int64.Type:
            guard let i = v.intValue else { throw fail("an integer") }
            result = i
        case is Double.Type:
            guard let d = v.doubleValue else { throw fail("a number") }
            result = d
        case is JSONObject.Type:
            guard case .object(let o) = v else { throw fail("an object") }
            result = o
        default:
            return try T(from: ValueDecoder(value: v, codingPath: path()))
        }
        guard let typed = result as? T else { throw fail("\(T.self)") }
        return typed
    }
}

struct KeyedValueContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: JSONObject
    let codingPath: [any CodingKey]

    var allKeys: [Key] { object.keys.compactMap { Key(stringValue: $0) } }
    func contains(_ key: Key) -> Bool { object[key.stringValue] != nil }

    func value(_ key: Key) throws -> JSON {
        guard let v = object[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing key \(key.stringValue)"))
        }
        return v
    }

    func decodeNil(forKey key: Key) throws -> Bool { object[key.stringValue]?.isNull ?? true }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try ScalarDecoding.decode(type, try value(key), codingPath, key)
    }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let v = object[key.stringValue], !v.isNull else { return nil }
        return try ScalarDecoding.decode(type, v, codingPath, key)
    }
    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try ValueDecoder(value: try value(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try ValueDecoder(value: try value(key), codingPath: codingPath + [key]).unkeyedContainer()
    }
    func superDecoder() throws -> any Decoder { ValueDecoder(value: .object(object), codingPath: codingPath) }
    func superDecoder(forKey key: Key) throws -> any Decoder { ValueDecoder(value: try value(key), codingPath: codingPath + [key]) }
}

struct UnkeyedValueContainer: UnkeyedDecodingContainer {
    let array: [JSON]
    let codingPath: [any CodingKey]
    var currentIndex = 0
    var count: Int? { array.count }
    var isAtEnd: Bool { currentIndex >= array.count }

    init(array: [JSON], codingPath: [any CodingKey]) {
        self.array = array
        self.codingPath = codingPath
    }

    mutating func next() throws -> JSON {
        guard !isAtEnd else { throw DecodingError.valueNotFound(JSON.self, .init(codingPath: codingPath, debugDescription: "array exhausted")) }
        defer { currentIndex += 1 }
        return array[currentIndex]
    }

    mutating func decodeNil() throws -> Bool {
        if !isAtEnd, array[currentIndex].isNull { currentIndex += 1; return true }
        return false
    }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let key = IndexKey(index: currentIndex)
        return try ScalarDecoding.decode(type, try next(), codingPath, key)
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try ValueDecoder(value: try next(), codingPath: codingPath).container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try ValueDecoder(value: try next(), codingPath: codingPath).unkeyedContainer()
    }
    mutating func superDecoder() throws -> any Decoder { ValueDecoder(value: try next(), codingPath: codingPath) }
}

struct SingleValueContainer: SingleValueDecodingContainer {
    let value: JSON
    let codingPath: [any CodingKey]
    func decodeNil() -> Bool { value.isNull }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try ScalarDecoding.decode(type, value, codingPath, nil) }
}

struct IndexKey: CodingKey {
    let index: Int
    var stringValue: String { String(index) }
    var intValue: Int? { index }
    init(index: Int) { self.index = index }
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { index = intValue }
}
