import GroveModel

/// Reads the keys of one YAML mapping into typed values, reporting wrong types as errors and keys nobody
/// asked for as warnings (Platform.sh grows keys faster than any reimplementation, so an unknown key
/// should not block a deploy, but the author should hear about it).
struct MapReader {
    let node: ConfigNode
    /// Dotted path of this mapping, the prefix of every key in messages.
    let path: String
    let sink: IssueSink
    private let consumed: Box = Box()

    final class Box { var keys: Set<String> = [] }

    init?(_ node: ConfigNode, path: String, sink: IssueSink) {
        guard node.pairs != nil else {
            if !node.isNull { sink.error(node, path, "must be a mapping, not \(node.typeName)") }
            return nil
        }
        self.node = node
        self.path = path
        self.sink = sink
    }

    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    var pairs: [(key: String, node: ConfigNode)] { node.pairs ?? [] }

    /// The node under `key`, marking it as read.
    func node(_ key: String) -> ConfigNode? {
        consumed.keys.insert(key)
        return node[key]
    }

    func has(_ key: String) -> Bool { node[key].map { !$0.isNull } ?? false }

    func string(_ key: String, scalars: Bool = false) -> String? {
        guard let n = node(key), !n.isNull else { return nil }
        if let s = n.string { return s }
        if scalars, let s = n.scalarText { return s }
        sink.error(n, keyPath(key), "must be a string, not \(n.typeName)")
        return nil
    }

    func int(_ key: String) -> Int? {
        guard let n = node(key), !n.isNull else { return nil }
        if case .int(let i) = n.value { return i }
        if let s = n.string, let i = Int(s) { return i }
        sink.error(n, keyPath(key), "must be an integer, not \(n.typeName)")
        return nil
    }

    func bool(_ key: String) -> Bool? {
        guard let n = node(key), !n.isNull else { return nil }
        if case .bool(let b) = n.value { return b }
        sink.error(n, keyPath(key), "must be true or false, not \(n.typeName)")
        return nil
    }

    func map(_ key: String) -> MapReader? {
        guard let n = node(key) else { return nil }
        return MapReader(n, path: keyPath(key), sink: sink)
    }

    func stringList(_ key: String) -> [String]? {
        guard let n = node(key), !n.isNull else { return nil }
        if let s = n.string { return [s] }
        guard let items = n.items else {
            sink.error(n, keyPath(key), "must be a list of strings, not \(n.typeName)")
            return nil
        }
        var out: [String] = []
        for item in items {
            if let s = item.scalarText { out.append(s) } else { sink.error(item, keyPath(key), "entries must be strings, not \(item.typeName)") }
        }
        return out
    }

    /// A mapping of string values (e.g. `headers`, `additional_hosts`).
    func stringMap(_ key: String) -> [String: String] {
        guard let m = map(key) else { return [:] }
        var out: [String: String] = [:]
        for (k, v) in m.pairs {
            if let s = v.scalarText { out[k] = s } else { sink.error(v, m.keyPath(k), "must be a string, not \(v.typeName)") }
        }
        return out
    }

    func json(_ key: String) -> JSON? { node(key).map(\.json) }

    func oneOf(_ key: String, _ allowed: Set<String>, scalars: Bool = false) -> String? {
        guard let s = string(key, scalars: scalars) else { return nil }
        guard allowed.contains(s) else {
            if let n = node[key] { sink.error(n, keyPath(key), "\(s) is not supported; use one of \(allowed.sorted().joined(separator: ", "))") }
            return nil
        }
        return s
    }

    /// Reports keys present but never read.
    func finish(ignoring: Set<String> = []) {
        for (k, v) in pairs where !consumed.keys.contains(k) && !ignoring.contains(k) {
            sink.warning(v, keyPath(k), "unknown key, ignored")
        }
    }
}
