import GroveModel
import Yams

/// Edits `.platform/routes.yaml` for the routes API: one route key added, replaced or removed, the other
/// routes kept in their order (comments are not kept: the file is written anew).
public enum RoutesFileEditor {
    public static let path = ".platform/routes.yaml"

    public struct EditError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The new file content. `route` nil removes `key`; `mustExist` refuses to add a missing key (update, delete),
    /// `mustNotExist` refuses to replace an existing one (create).
    public static func edit(_ existing: String?, key: String, route: JSON?, mustExist: Bool, mustNotExist: Bool) throws -> String {
        var pairs: [(Node, Node)] = []
        if let existing, !existing.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            let node: Node?
            do { node = try Yams.compose(yaml: existing) } catch { throw EditError(description: "\(path) is not valid YAML: \(error)") }
            if let node {
                guard case .mapping(let m) = node else { throw EditError(description: "\(path) is not a map of routes") }
                pairs = m.map { ($0.key, $0.value) }
            }
        }
        let index = pairs.firstIndex { $0.0.string == key }
        if mustExist, index == nil { throw EditError(description: "no route \(key) in \(path)") }
        if mustNotExist, index != nil { throw EditError(description: "the route \(key) already exists") }
        if let route {
            let value = node(route)
            if let index { pairs[index].1 = value } else { pairs.append((Node(key, Tag(.str), .doubleQuoted), value)) }
        } else if let index {
            pairs.remove(at: index)
        }
        if pairs.isEmpty { return "{}\n" }
        return try Yams.serialize(node: .mapping(Node.Mapping(pairs)))
    }

    /// The routes of a routes.yaml text in file order, as JSON (no tags resolved); empty when unreadable.
    public static func routes(_ text: String) -> [(String, JSON)] {
        guard let node = try? Yams.compose(yaml: text), case .mapping(let m) = node else { return [] }
        return m.compactMap { k, v in k.string.map { ($0, json(v)) } }
    }

    static func json(_ n: Node) -> JSON {
        switch n {
        case .mapping(let m): return .object(JSONObject(m.compactMap { k, v in k.string.map { ($0, json(v)) } }))
        case .sequence(let s): return .array(s.map(json))
        case .scalar(let sc):
            if sc.style == .plain {
                if let b = n.bool { return .bool(b) }
                if let i = n.int { return .int(Int64(i)) }
                if n.null != nil { return .null }
            }
            return .string(sc.string)
        case .alias: return .null
        }
    }

    static func node(_ j: JSON) -> Node {
        switch j {
        case .object(let o): return .mapping(Node.Mapping(o.map { (Node($0.key), node($0.value)) }))
        case .array(let a): return .sequence(Node.Sequence(a.map(node)))
        case .string(let s): return Node(s, Tag(.str), .doubleQuoted)
        case .bool(let b): return Node(b ? "true" : "false", Tag(.bool))
        case .null: return Node("null", Tag(.null))
        default: return Node(j.serialized())
        }
    }
}
