import GroveModel

/// A YAML value after tags and merge keys are resolved, remembering the file and line it came from so
/// every validation message can point at it.
public struct ConfigNode: Sendable {
    public indirect enum Value: Sendable {
        case null
        case bool(Bool)
        case int(Int)
        case double(Double)
        case string(String)
        case list([ConfigNode])
        case map([(key: String, node: ConfigNode)])
        /// `!archive "dir"`: a directory of the repository, by its path from the repository root.
        case archive(String)
    }

    public var value: Value
    public var file: String
    public var line: Int

    public init(_ value: Value, file: String, line: Int) {
        self.value = value
        self.file = file
        self.line = line
    }

    public var isNull: Bool { if case .null = value { return true }; return false }

    public var string: String? { if case .string(let s) = value { return s }; return nil }

    /// Scalars as text (numbers and booleans too), for places where YAML authors write `version: 16` or `3.12`.
    public var scalarText: String? {
        switch value {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .bool(let b): return b ? "true" : "false"
        default: return nil
        }
    }

    public var pairs: [(key: String, node: ConfigNode)]? { if case .map(let p) = value { return p }; return nil }
    public var items: [ConfigNode]? { if case .list(let l) = value { return l }; return nil }

    public subscript(key: String) -> ConfigNode? { pairs?.first { $0.key == key }?.node }

    /// The YAML type name used in messages.
    public var typeName: String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double: return "a number"
        case .string: return "a string"
        case .list: return "a list"
        case .map: return "a mapping"
        case .archive: return "an archive"
        }
    }

    /// The same value as JSON (archives become their directory path).
    public var json: JSON {
        switch value {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(Int64(i))
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .archive(let p): return .string(p)
        case .list(let l): return .array(l.map(\.json))
        case .map(let p): return .object(JSONObject(p.map { ($0.key, $0.node.json) }))
        }
    }
}
