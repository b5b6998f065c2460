import GroveModel

/// Display names and emails of users by id, through the accounts API's `/ref/users` (which answers only for users
/// sharing an organization with the caller).
enum UserNames {
    static func lookup(_ ctx: PageContext, _ ids: [String]) async -> [String: String] {
        let unique = Array(Set(ids.filter { !$0.isEmpty })).sorted()
        guard !unique.isEmpty else { return [:] }
        let query = unique.map { "in=" + ConsolePath.encode($0) }.joined(separator: "&")
        var names: [String: String] = [:]
        for (id, user) in (await ctx.get("/ref/users?" + query)).json.objectValue ?? JSONObject() {
            let parts = [user["display_name"]?.stringValue, user["email"]?.stringValue.map { "<\($0)>" }].compactMap { $0 }
            if !parts.isEmpty { names[id] = parts.joined(separator: " ") }
        }
        return names
    }
}
