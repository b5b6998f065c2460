/// The frame around every console page: head, top bar with breadcrumbs and logout, main content.
enum Layout {
    static func head(_ title: String) -> Markup {
        """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">\
        <title>\(title) · Grove</title><link rel="stylesheet" href="/console/assets/console.css">\
        <script src="/console/assets/console.js" defer></script></head>
        """
    }

    static func page(title: String, crumbs: [(String, String?)], csrf: String, _ content: Markup) -> Markup {
        let trail: [Markup] = crumbs.map { name, href in
            if let href { return "<li><a href=\"\(href)\">\(name)</a></li>" }
            return "<li aria-current=\"page\">\(name)</li>"
        }
        return """
        \(head(title))<body><a class="skip" href="#main">Skip to content</a>\
        <header class="top"><a class="brand" href="/console/">Grove</a>\
        <nav aria-label="Breadcrumb"><ol class="crumbs">\(trail)</ol></nav>\
        <a href="/console/account" class="account">Account</a>\
        <form method="post" action="/console/logout" class="logout"><input type="hidden" name="csrf" value="\(csrf)">\
        <button type="submit">Log out</button></form></header>\
        <main id="main" tabindex="-1"><h1>\(title)</h1>\(content)</main></body></html>
        """
    }

    /// Pages without a session (login, refusals).
    static func bare(title: String, _ content: Markup) -> Markup {
        """
        \(head(title))<body><header class="top"><a class="brand" href="/console/">Grove</a></header>\
        <main id="main" class="narrow"><h1>\(title)</h1>\(content)</main></body></html>
        """
    }

    static func error(_ message: String?) -> Markup {
        guard let message, !message.isEmpty else { return "" }
        return "<p class=\"error\" role=\"alert\">\(message)</p>"
    }

    /// An ISO-8601 time the browser shows in the user's zone (console.js rewrites the text).
    static func time(_ iso: String?) -> Markup {
        guard let iso, !iso.isEmpty else { return "<span class=\"muted\">never</span>" }
        return "<time datetime=\"\(iso)\">\(iso)</time>"
    }

    /// A hidden CSRF field and a submit button in one POST form.
    static func action(_ path: String, csrf: String, label: String, confirm: String? = nil, fields: Markup = "", style: String = "") -> Markup {
        let confirmAttr: Markup = confirm.map { "data-confirm=\"\($0)\"" } ?? ""
        return """
        <form method="post" action="\(path)" class="inline" \(confirmAttr)><input type="hidden" name="csrf" value="\(csrf)">\
        \(fields)<button type="submit" class="\(style)">\(label)</button></form>
        """
    }

    static func status(_ status: String) -> Markup {
        "<span class=\"status status-\(status)\">\(status)</span>"
    }

    /// An environment's status badge, kept current by console.js from the project's state events.
    static func environmentStatus(_ id: String, _ status: String, busy: Bool) -> Markup {
        "<span class=\"status status-\(status)\" data-environment-status=\"\(id)\">\(status)</span><span class=\"busy\" data-environment-busy=\"\(id)\"\(busy ? "" : " hidden")>activity running</span>"
    }
}
