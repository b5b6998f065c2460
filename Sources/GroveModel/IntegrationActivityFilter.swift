/// Which activities a webhook or activity script hears of: its `events` (activity types, `*` wildcards), `states`,
/// `result`, and `environments` / `excluded_environments` (names, `*` wildcards). Integration activities never
/// match, so a delivery cannot trigger another delivery.
public struct IntegrationActivityFilter: Sendable, Equatable {
    public var events: [String]
    public var states: [String]
    public var result: String
    public var environments: [String]
    public var excludedEnvironments: [String]

    public init(events: [String] = ["*"], states: [String] = ["complete"], result: String = "*", environments: [String] = ["*"],
                excludedEnvironments: [String] = []) {
        self.events = events; self.states = states; self.result = result; self.environments = environments
        self.excludedEnvironments = excludedEnvironments
    }

    public init(_ i: Integration) {
        func list(_ k: String, _ d: [String]) -> [String] { i.settings[k]?.arrayValue.map { $0.compactMap(\.stringValue) } ?? d }
        self.init(events: list("events", ["*"]), states: list("states", ["complete"]), result: i.string("result") ?? "*",
                  environments: list("environments", ["*"]), excludedEnvironments: list("excluded_environments", []))
    }

    public func matches(_ a: Activity) -> Bool {
        guard !a.type.hasPrefix("integration.") else { return false }
        guard events.isEmpty || events.contains(where: { Self.glob($0, a.type) }) else { return false }
        guard states.isEmpty || states.contains(a.state.rawValue) else { return false }
        if result != "*" {
            guard let r = a.result, r.rawValue == result else { return false }
        }
        // Project-level activities (no environment) pass the environment filters.
        for env in a.environments {
            if excludedEnvironments.contains(where: { Self.glob($0, env) }) { return false }
        }
        if !a.environments.isEmpty && !environments.isEmpty {
            guard a.environments.contains(where: { env in environments.contains { Self.glob($0, env) } }) else { return false }
        }
        return true
    }

    /// `*` matches any run of characters (also `%`, as the CLI allows); everything else literally.
    public static func glob(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.replacingOccurrences(of: "%", with: "*").utf8), t = Array(text.utf8)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && p[pi] != UInt8(ascii: "*") && p[pi] == t[ti] { pi += 1; ti += 1 }
            else if pi < p.count && p[pi] == UInt8(ascii: "*") { star = pi; mark = ti; pi += 1 }
            else if star >= 0 { pi = star + 1; mark += 1; ti = mark }
            else { return false }
        }
        while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}
