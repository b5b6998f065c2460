import GroveModel

/// Environments as the parent/child tree Platform.sh draws: roots are those without a parent (or whose parent is
/// gone), children in name order. A cycle in hostile data cannot loop: each environment is placed once.
struct EnvironmentTree {
    struct Node {
        let environment: JSON
        var children: [Node]
        var id: String { environment["id"]?.stringValue ?? "" }
    }

    static func build(_ environments: [JSON]) -> [Node] {
        var byParent: [String: [JSON]] = [:]
        let ids = Set(environments.compactMap { $0["id"]?.stringValue })
        var roots: [JSON] = []
        for e in environments {
            if let parent = e["parent"]?.stringValue, ids.contains(parent), parent != e["id"]?.stringValue {
                byParent[parent, default: []].append(e)
            } else {
                roots.append(e)
            }
        }
        var placed = Set<String>()
        func node(_ e: JSON) -> Node? {
            let id = e["id"]?.stringValue ?? ""
            guard placed.insert(id).inserted else { return nil }
            let kids = (byParent[id] ?? []).sorted { ($0["id"]?.stringValue ?? "") < ($1["id"]?.stringValue ?? "") }
            return Node(environment: e, children: kids.compactMap(node))
        }
        // The default branch (no parent) first, then other roots by name.
        var out = roots.sorted { ($0["id"]?.stringValue ?? "") < ($1["id"]?.stringValue ?? "") }.compactMap(node)
        // Environments caught in a parent cycle have no root; show them at the top level rather than hide them.
        for e in environments where !placed.contains(e["id"]?.stringValue ?? "") {
            if let n = node(e) { out.append(n) }
        }
        return out
    }
}
