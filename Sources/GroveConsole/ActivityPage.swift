import Foundation
import GroveModel

/// One activity with its log, followed live while it runs; and the activity tables other pages show.
enum ActivityPage {
    static func render(_ ctx: PageContext, projectId: String, activityId: String) async -> ConsoleResponse {
        let base = "/projects/\(ConsolePath.encode(projectId))"
        async let projectAnswer = ctx.get(base)
        async let activityAnswer = ctx.get(base + "/activities/\(ConsolePath.encode(activityId))")
        let (project, activity) = await (projectAnswer, activityAnswer)
        guard project.ok else { return HomePage.failure(ctx, project) }
        guard activity.ok else { return HomePage.failure(ctx, activity) }
        let a = activity.json
        let projectTitle = project.json["title"]?.stringValue ?? projectId
        let state = a["state"]?.stringValue ?? ""
        let finished = state == "complete" || state == "cancelled"
        let environments: [Markup] = (a["environments"]?.arrayValue ?? []).compactMap(\.stringValue).map {
            "<a href=\"\(ConsolePath.environment(projectId, $0))\">\($0)</a> "
        }
        let result: Markup = a["result"]?.stringValue.map { Layout.status($0) } ?? ""
        let content: Markup = """
        <section class="card"><dl class="facts"><dt>What</dt><dd>\(a["text"]?.stringValue ?? "")</dd>\
        <dt>Type</dt><dd><code>\(a["type"]?.stringValue ?? "")</code></dd>\
        <dt>State</dt><dd><span id="activity-state">\(Layout.status(state))</span> \(result)</dd>\
        <dt>Environments</dt><dd>\(environments)</dd>\
        <dt>Started</dt><dd>\(Layout.time(a["started_at"]?.stringValue))</dd>\
        <dt>Completed</dt><dd>\(Layout.time(a["completed_at"]?.stringValue))</dd></dl></section>\
        <h2>Log</h2><pre id="log" aria-live="polite" data-events="\(ConsolePath.activity(projectId, activityId))/events" \
        data-finished-reload="\(finished ? "no" : "yes")"></pre>
        """
        return .page(ctx.layout(title: "Activity", crumbs: [("Projects", "/console/"), (projectTitle, ConsolePath.project(projectId)), ("Activity", nil)], content))
    }

    static let pageSize = 30

    /// All of a project's activities, newest first, a page at a time (`before`: the creation time of the last one
    /// shown, `skip`: its id, since the API's `starts_at` includes that instant).
    static func list(_ ctx: PageContext, projectId: String, before: String?, skip: String?) async -> ConsoleResponse {
        let base = "/projects/\(ConsolePath.encode(projectId))"
        var query = "?count=\(pageSize + 2)"
        if let before, !before.isEmpty { query += "&starts_at=" + ConsolePath.encode(before) }
        async let projectAnswer = ctx.get(base)
        async let activitiesAnswer = ctx.get(base + "/activities" + query)
        let (project, activities) = await (projectAnswer, activitiesAnswer)
        guard project.ok else { return HomePage.failure(ctx, project) }
        guard activities.ok else { return HomePage.failure(ctx, activities) }
        var items = activities.items
        if let skip, let i = items.firstIndex(where: { $0["id"]?.stringValue == skip }) { items.removeSubrange(...i) }
        let more = items.count > pageSize
        items = Array(items.prefix(pageSize))
        let title = project.json["title"]?.stringValue ?? projectId
        var content = table(items, projectId: projectId, heading: false)
        if more, let last = items.last, let at = last["created_at"]?.stringValue, let id = last["id"]?.stringValue {
            content += "<p><a id=\"older\" href=\"\(ConsolePath.project(projectId))/activities?before=\(ConsolePath.encode(at))&amp;skip=\(ConsolePath.encode(id))\">Older activities</a></p>"
        }
        if before != nil { content += "<p><a href=\"\(ConsolePath.project(projectId))/activities\">Newest activities</a></p>" }
        return .page(ctx.layout(title: "Activities", crumbs: [("Projects", "/console/"), (title, ConsolePath.project(projectId)), ("Activities", nil)], content))
    }

    /// Recent activities with a bar for how long each took (relative to the longest shown).
    static func table(_ activities: [JSON], projectId: String, heading: Bool = true) -> Markup {
        let h: Markup = heading ? "<h2>Activities</h2>" : ""
        guard !activities.isEmpty else { return h + "<p class=\"muted\">Nothing has happened here yet.</p>" }
        let durations = activities.map(duration)
        let longest = max(durations.compactMap { $0 }.max() ?? 1, 1)
        let rows: [Markup] = zip(activities, durations).map { a, d in
            let id = a["id"]?.stringValue ?? ""
            let state = a["result"]?.stringValue ?? a["state"]?.stringValue ?? ""
            let bar: Markup = d.map { seconds in
                let share = max(1, Int((seconds / longest) * 1000))
                let text = String(format: "%.1f s", seconds)
                return "<progress class=\"bar\" max=\"1000\" value=\"\(share)\" aria-label=\"\(text)\"></progress> <span class=\"muted\">\(text)</span>"
            } ?? ""
            return """
            <tr><td><a href="\(ConsolePath.activity(projectId, id))">\(a["text"]?.stringValue ?? id)</a></td><td>\(Layout.status(state))</td>\
            <td class="opt">\(Layout.time(a["created_at"]?.stringValue))</td><td class="opt">\(bar)</td></tr>
            """
        }
        return """
        \(h)<div class="table-wrap"><table id="activities"><thead><tr><th>Activity</th><th>State</th><th class="opt">When</th>\
        <th class="opt">Duration</th></tr></thead><tbody>\(rows)</tbody></table></div>
        """
    }

    static func duration(_ a: JSON) -> Double? {
        guard let s = a["started_at"]?.stringValue, let c = a["completed_at"]?.stringValue,
              let start = Timestamp.parse(s), let end = Timestamp.parse(c) else { return nil }
        return max(0, end.timeIntervalSince(start))
    }
}
