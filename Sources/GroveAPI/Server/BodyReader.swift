import GroveModel

/// Reads a JSON object body field by field; every mistake names the field and the reason.
struct BodyReader {
    let object: JSONObject

    init(_ object: JSONObject, allowed: [String]) throws {
        self.object = object
        let known = Set(allowed)
        if let unknown = object.keys.first(where: { !known.contains($0) }) {
            throw APIError.badRequest("unknown field; allowed fields are \(allowed.joined(separator: ", "))", field: unknown)
        }
        // NUL ends strings in the C code below us (paths, PostgreSQL text, processes' environments): refused anywhere.
        for (key, value) in object where Self.containsNUL(value) {
            throw APIError.badRequest("must not contain NUL characters", field: key)
        }
    }

    static func containsNUL(_ v: JSON) -> Bool {
        switch v {
        case .string(let s): return s.utf8.contains(0)
        case .array(let a): return a.contains(where: containsNUL)
        case .object(let o): return o.contains { $0.key.utf8.contains(0) || containsNUL($0.value) }
        default: return false
        }
    }

    /// Control characters other than tab and line breaks: never wanted in a name, a title or an address.
    static func hasControlCharacters(_ s: String, allowLineBreaks: Bool = true) -> Bool {
        s.unicodeScalars.contains { c in
            (c.value < 0x20 && !(allowLineBreaks && (c == "\t" || c == "\n" || c == "\r"))) || c.value == 0x7F
        }
    }

    func has(_ key: String) -> Bool { object[key] != nil }

    func string(_ key: String, required: Bool = false, nonEmpty: Bool = false, maxLength: Int = 1024) throws -> String? {
        guard let v = object[key], !v.isNull || required else {
            if required { throw APIError.badRequest("is required", field: key) }
            return nil
        }
        guard case .string(let s) = v else { throw APIError.badRequest("must be a string, not \(v.typeName)", field: key) }
        if nonEmpty && s.trimmingCharacters(in: .whitespaces).isEmpty { throw APIError.badRequest("must not be empty", field: key) }
        if s.count > maxLength { throw APIError.badRequest("must be at most \(maxLength) characters", field: key) }
        return s
    }

    /// `.some(nil)` when the field is present and null (for fields that may be cleared).
    func nullableString(_ key: String) throws -> String?? {
        guard let v = object[key] else { return .none }
        if v.isNull { return .some(nil) }
        guard case .string(let s) = v else { throw APIError.badRequest("must be a string or null, not \(v.typeName)", field: key) }
        return .some(s)
    }

    func bool(_ key: String) throws -> Bool? {
        guard let v = object[key] else { return nil }
        guard case .bool(let b) = v else { throw APIError.badRequest("must be a boolean, not \(v.typeName)", field: key) }
        return b
    }

    func int(_ key: String, min: Int = 0, max: Int = Int(Int32.max)) throws -> Int? {
        guard let v = object[key] else { return nil }
        guard let i = v.intValue else { throw APIError.badRequest("must be an integer, not \(v.typeName)", field: key) }
        guard i >= min && i <= max else { throw APIError.badRequest("must be between \(min) and \(max)", field: key) }
        return Int(i)
    }

    func stringArray(_ key: String) throws -> [String]? {
        guard let v = object[key] else { return nil }
        guard case .array(let a) = v else { throw APIError.badRequest("must be an array of strings, not \(v.typeName)", field: key) }
        return try a.map {
            guard case .string(let s) = $0 else { throw APIError.badRequest("must contain only strings", field: key) }
            return s
        }
    }

    func objectValue(_ key: String) throws -> JSONObject? {
        guard let v = object[key] else { return nil }
        guard case .object(let o) = v else { throw APIError.badRequest("must be an object, not \(v.typeName)", field: key) }
        return o
    }

    /// A string-valued object such as `attributes`.
    func stringMap(_ key: String) throws -> JSONObject? {
        guard let o = try objectValue(key) else { return nil }
        for (k, v) in o where v.stringValue == nil {
            throw APIError.badRequest("value of '\(k)' must be a string, not \(v.typeName)", field: key)
        }
        return o
    }

    func enumValue<E: RawRepresentable & CaseIterable>(_ key: String, _: E.Type, required: Bool = false) throws -> E? where E.RawValue == String {
        guard let s = try string(key, required: required) else { return nil }
        guard let e = E(rawValue: s) else {
            throw APIError.badRequest("'\(s)' is not one of \(E.allCases.map(\.rawValue).joined(separator: ", "))", field: key)
        }
        return e
    }
}
