import GroveModel

/// What clients ask before creating a project: regions, plans, price estimates, verification state.
/// A self-hosted Grove has one region (the server's), no billing and no verification step.
enum DiscoveryHandlers {
    /// The region is this server: it exists since the process started.
    static let regionSince = Timestamp.now()

    static func region(_ s: ServerContext) -> JSON {
        var l = Links(base: s.publicURL)
        l.add("self", "/regions/\(s.region)")
        return .object(JSONObject([
            ("id", .string(s.region)), ("label", .string(s.region.capitalizedFirst)), ("zone", "self-hosted"),
            ("selection_label", .string("\(s.region.capitalizedFirst) (this Grove server)")), ("project_label", .string(s.region.capitalizedFirst)),
            ("timezone", "UTC"), ("available", true), ("private", false), ("endpoint", .string(s.publicURL)),
            ("provider", .object(JSONObject([("name", "Grove")]))),
            ("datacenter", .object(JSONObject([("name", .string(s.region)), ("label", .string(s.region)), ("location", "")]))),
            ("compliance", .object(JSONObject())), ("created_at", .string(regionSince)), ("updated_at", .string(regionSince)),
            ("_links", l.json),
        ]))
    }

    static func register(_ r: inout Routes, _ s: ServerContext) {
        let regionList: Handler = { _ in
            var l = Links(base: s.publicURL)
            l.add("self", "/regions")
            return .json(.ok, .object(JSONObject([("count", 1), ("regions", .array([region(s)])), ("_links", l.json)])))
        }
        r.add("list-regions", regionList)
        r.add("get-region") { req in
            guard req.param("region_id") == s.region else { throw APIError.notFound("Region \(req.param("region_id"))") }
            return .json(.ok, region(s))
        }
        r.add("list-referenced-regions") { req in
            var out = JSONObject()
            for id in req.queryValues("in") { out[id] = id == s.region ? region(s) : .null }
            return .json(.ok, .object(out))
        }
        r.add("list-org-regions") { req in
            _ = try await OrganizationHandlers.visible(req, s)
            return try await regionList(req)
        }
        r.add("get-org-setup-options") { req in
            _ = try await OrganizationHandlers.visible(req, s)
            return .json(.ok, .object(JSONObject([
                // Plain names: the official CLI offers these and sends one back as `plan`.
                ("plans", .array(["development"])),
                ("regions", .array([.string(s.region)])),
            ])))
        }
        r.add("estimate-new-org-subscription") { req in
            _ = try await OrganizationHandlers.visible(req, s)
            return .json(.ok, .object(JSONObject([("plan", "0.00"), ("user_licenses", "0.00"), ("environments", "0.00"),
                                                  ("storage", "0.00"), ("total", "0.00"), ("options", .object(JSONObject()))])))
        }
        r.add("get-current-user-verification-status-full") { _ in .json(.ok, .object(JSONObject([("state", false), ("type", "")]))) }
        r.add("get-current-user-verification-status") { _ in .json(.ok, .object(JSONObject([("state", false)]))) }
    }
}
