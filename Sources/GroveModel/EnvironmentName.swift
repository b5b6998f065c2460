/// Rules that map git branch names to environment ids and machine names.
public enum EnvironmentName {
    /// Why a name cannot be an environment, or nil when it can. Environment ids are branch names, so they follow
    /// git's ref rules plus a conservative character set that is safe in URLs, hostnames (via machine_name) and paths.
    public static func problem(with name: String) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name.utf8.count > 255 { return "must be at most 255 bytes" }
        if name.hasPrefix("-") || name.hasPrefix("/") || name.hasPrefix(".") { return "must not start with '-', '/' or '.'" }
        if name.hasSuffix("/") || name.hasSuffix(".") || name.hasSuffix(".lock") { return "must not end with '/', '.' or '.lock'" }
        if name.contains("..") || name.contains("//") || name.contains("@{") || name.contains("/.") {
            return "must not contain '..', '//', '/.' or '@{'"
        }
        if name == "HEAD" || name == "@" { return "is reserved by git" }
        for s in name.unicodeScalars {
            let ok = (s >= "a" && s <= "z") || (s >= "A" && s <= "Z") || (s >= "0" && s <= "9") || s == "-" || s == "_" || s == "." || s == "/" || s == "+"
            if !ok { return "contains the character '\(s)'; allowed are letters, digits and - _ . / +" }
        }
        return nil
    }

    /// A lowercase, DNS-safe slug of at most 32 characters followed by a random suffix, e.g. `feature-x-ab12cd3`.
    public static func machineName(for name: String, suffix: String = Identifier.lowercaseAlphanumeric(7)) -> String {
        var slug = ""
        var lastDash = false
        for s in name.lowercased().unicodeScalars {
            let alnum = (s >= "a" && s <= "z") || (s >= "0" && s <= "9")
            if alnum { slug.unicodeScalars.append(s); lastDash = false } else if !lastDash && !slug.isEmpty { slug += "-"; lastDash = true }
        }
        while slug.hasSuffix("-") { slug.removeLast() }
        if slug.count > 32 { slug = String(slug.prefix(32)); while slug.hasSuffix("-") { slug.removeLast() } }
        if slug.isEmpty { slug = "env" }
        return slug + "-" + suffix
    }
}
