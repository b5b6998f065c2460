import GroveConfig
import GroveDriver

/// nginx directives for the locations of one upstream route.
enum LocationConfig {
    static func quote(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }

    static func join(_ a: String, _ b: String) -> String {
        var s = a.hasSuffix("/") ? String(a.dropLast()) : a
        s += b.hasPrefix("/") ? b : "/" + b
        return s.isEmpty ? "/" : s
    }

    static func expires(_ e: String?) -> String {
        guard let e, e != "-1", e != "-1s", e != "0" else { return "" }
        return "      expires \(e);\n"
    }

    static func headers(_ h: [String]) -> String {
        h.map { line -> String in
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            return "      add_header \(parts[0]) \(quote(parts.count > 1 ? parts[1] : "")) always;\n"
        }.joined()
    }

    /// `named` is the named location that reaches the application; `fastcgi` the FastCGI block for PHP.
    static func render(routePath: String, locations: [WebLocation], hostDir: String, named: String, php: (scriptRoot: String, pass: String)?) -> String {
        var out = ""
        for loc in locations.sorted(by: { $0.path.count > $1.path.count }) {
            let prefix = join(routePath, loc.path)
            out += "    location \(prefix == "/" ? "/" : prefix) {\n"
            if let root = loc.root {
                let dir = root.isEmpty ? hostDir : hostDir + "/" + root
                if prefix == "/" {
                    out += "      root \(quote(dir));\n"
                } else {
                    out += "      alias \(quote(dir + (prefix.hasSuffix("/") ? "/" : "")));\n"
                }
                if !loc.index.isEmpty { out += "      index \(loc.index.joined(separator: " "));\n" } else { out += "      index __grove_no_index__;\n" }
            }
            out += expires(loc.expires) + headers(loc.headers)
            // Rules: regular expressions on the path override the location's settings.
            for rule in loc.rules {
                out += "      location ~ \(quote(rule.pattern)) {\n"
                out += expires(rule.expires ?? loc.expires).replacingOccurrences(of: "      ", with: "        ")
                out += headers(rule.headers.isEmpty ? loc.headers : rule.headers).replacingOccurrences(of: "      ", with: "        ")
                out += "        " + fallback(allow: rule.allow ?? loc.allow, passthru: rule.passthru ?? loc.passthru, hasRoot: loc.root != nil,
                                             hasIndex: !loc.index.isEmpty, named: named, php: php != nil) + "\n"
                out += "      }\n"
            }
            out += "      " + fallback(allow: loc.allow, passthru: loc.passthru, hasRoot: loc.root != nil, hasIndex: !loc.index.isEmpty,
                                         named: named, php: php != nil) + "\n"
            out += "    }\n"
        }
        if let php {
            // Scripts run by PHP-FPM, found under the document root (as the sandboxed PHP-FPM sees it).
            out += "    location ~ [^/]\\.php(/|$) {\n"
            out += "      fastcgi_split_path_info ^(.+?\\.php)(/.*)$;\n"
            for (k, v) in fastcgiParams { out += "      fastcgi_param \(k) \(v);\n" }
            out += "      fastcgi_param DOCUMENT_ROOT \(quote(php.scriptRoot));\n"
            out += "      fastcgi_param SCRIPT_FILENAME \(quote(php.scriptRoot + "$fastcgi_script_name"));\n"
            out += "      fastcgi_param PATH_INFO $fastcgi_path_info;\n"
            out += "      fastcgi_param HTTP_PROXY \"\";\n"
            out += "      fastcgi_pass \(php.pass);\n"
            out += "    }\n"
        }
        return out
    }

    /// What nginx's fastcgi_params holds, without depending on /etc/nginx.
    static let fastcgiParams: [(String, String)] = [
        ("QUERY_STRING", "$query_string"), ("REQUEST_METHOD", "$request_method"), ("CONTENT_TYPE", "$content_type"),
        ("CONTENT_LENGTH", "$content_length"), ("SCRIPT_NAME", "$fastcgi_script_name"), ("REQUEST_URI", "$request_uri"),
        ("DOCUMENT_URI", "$document_uri"), ("SERVER_PROTOCOL", "$server_protocol"), ("REQUEST_SCHEME", "$scheme"),
        ("HTTPS", "$https if_not_empty"), ("GATEWAY_INTERFACE", "CGI/1.1"), ("SERVER_SOFTWARE", "grove"), ("REMOTE_ADDR", "$remote_addr"),
        ("REMOTE_PORT", "$remote_port"), ("SERVER_ADDR", "$server_addr"), ("SERVER_PORT", "$server_port"), ("SERVER_NAME", "$server_name"),
        ("REDIRECT_STATUS", "200"),
    ]

    /// A directory is served only through its index files; without `index`, a request for a directory (`/` included)
    /// goes to the application like any missing file, as on Platform.sh (front controllers with no index set).
    static func fallback(allow: Bool, passthru: WebLocation.Passthru, hasRoot: Bool, hasIndex: Bool, named: String, php: Bool) -> String {
        let miss: String
        switch passthru {
        case .off: miss = "=404"
        case .on: miss = named
        case .path(let p): miss = p + "$is_args$args"
        }
        guard hasRoot else {
            switch passthru {
            case .off: return "return 404;"
            case .on: return php ? "return 404;" : "try_files /__grove_never__ \(named);"
            case .path(let p): return "try_files /__grove_never__ \(p)$is_args$args;"
            }
        }
        return allow ? "try_files $uri \(hasIndex ? "$uri/ " : "")\(miss);" : "try_files /__grove_never__ \(miss);"
    }
}
