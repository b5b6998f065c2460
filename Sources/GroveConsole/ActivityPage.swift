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

    /// Recent activities with a bar for how long each took (relative to the longest shown).
    static func table(_ activities: [JSON], projectId: String) -> Markup {
        guard !activities.isEmpty else { return "<h2>Activities</h2><p class=\"muted\">Nothing has happened here yet.</p>" }
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
        <h2>Activities</h2><div class="table-wrap"><table><thead><tr><th>Activity</th><th>State</th><th class="opt">When</th>\
        <th class="opt">Duration</th></tr></thead><tbody>\(rows)</tbody></table></div>
        """
    }

    static func duration(_ a: JSON) -> Double? {
        guard let s = a["started_at"]?.stringValue, let c = a["completed_at"]?.stringValue,
              let start = Timestamp.parse(s), let end = Timestamp.parse(c) else { return nil }
        return max(0, end.timeIntervalSince(start))
    }
}
