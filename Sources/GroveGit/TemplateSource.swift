import Foundation

/// Where `initialize` takes a project's first code from, as Platform.sh writes it: a repository URL with an optional
/// `@ref` (`https://github.com/platformsh-templates/flask.git@main`). The scp-like form templates are often written
/// in (`git@github.com:org/repo.git`) is read as the same repository over https: Grove fetches over http(s) only.
public struct TemplateSource: Sendable, Equatable {
    /// An http(s) URL without credentials.
    public let url: String
    /// The branch or tag; nil means the remote's default branch.
    public let ref: String?

    /// What a fetch asks the remote for.
    public var remoteRef: String { ref ?? "HEAD" }

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
        init(_ m: String) { description = m }
    }

    public init(url: String, ref: String?) { self.url = url; self.ref = ref }

    public static func parse(_ raw: String) throws -> TemplateSource {
        let text = raw.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { throw Invalid("the repository is empty") }
        guard text.utf8.count <= 2048 else { throw Invalid("the repository is longer than 2048 characters") }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F }) else {
            throw Invalid("the repository contains spaces or control characters")
        }
        var location = text
        var ref: String?
        // `url@ref`: the last `@` starts a ref when what precedes it already names a path (so `https://user@host/x`
        // and `git@host:x` keep theirs) and what follows has no `:`.
        if let at = text.lastIndex(of: "@") {
            let before = String(text[..<at]), after = String(text[text.index(after: at)...])
            let path = before.range(of: "://").map { String(before[$0.upperBound...]) } ?? before
            if !after.isEmpty, !after.contains(":"), path.contains("/") {
                location = before
                ref = after
            }
        }
        if let ref { try check(ref: ref) }
        return TemplateSource(url: try httpURL(location), ref: ref)
    }

    /// The http(s) URL of `location`, which is one already or the scp-like `user@host:path`.
    static func httpURL(_ location: String) throws -> String {
        if let scheme = location.range(of: "://") {
            let name = location[..<scheme.lowerBound].lowercased()
            guard name == "https" || name == "http" else {
                throw Invalid("\(name):// repositories are not fetched; use an https:// URL")
            }
            guard let url = URL(string: location), let host = url.host, !host.isEmpty else { throw Invalid("\(location) is not a URL with a host") }
            guard url.user == nil, url.password == nil else { throw Invalid("the repository URL must not hold credentials; use a public repository") }
            guard !url.path.isEmpty, url.path != "/" else { throw Invalid("\(location) names no repository path") }
            return location
        }
        // user@host:path (SSH in git's own syntax), fetched from the same host over https.
        guard let colon = location.firstIndex(of: ":") else {
            throw Invalid("\(location) is not a repository URL; use https://host/path.git (a local path or file:// is never fetched)")
        }
        var host = String(location[..<colon])
        if let at = host.lastIndex(of: "@") { host = String(host[host.index(after: at)...]) }
        let path = String(location[location.index(after: colon)...]).drop { $0 == "/" }
        guard !host.isEmpty, host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }), host.first != "-",
              !path.isEmpty, !path.hasPrefix("-") else {
            throw Invalid("\(location) is not a repository URL; use https://host/path.git")
        }
        let url = "https://\(host)/\(path)"
        guard URL(string: url) != nil else { throw Invalid("\(location) is not a repository URL; use https://host/path.git") }
        return url
    }

    /// A branch or tag name git would accept, and that no command line could read as an option.
    static func check(ref: String) throws {
        let allowed = ref.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "._/-".unicodeScalars.contains($0) }
        guard ref.utf8.count <= 255, allowed, !ref.hasPrefix("-"), !ref.hasPrefix("/"), !ref.hasPrefix("."), !ref.hasSuffix("/"), !ref.hasSuffix("."),
              !ref.hasSuffix(".lock"), !ref.contains(".."), !ref.contains("//"), !ref.contains("/.") else {
            throw Invalid("'\(ref.prefix(80))' is not a branch or tag name")
        }
    }
}
