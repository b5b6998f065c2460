/// One problem found in a project's configuration, located by file, line and key.
public struct ConfigIssue: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    /// Dotted path of the offending key, e.g. `web.commands.start`; empty for problems of a whole file.
    public var key: String
    public var message: String

    public init(file: String, line: Int?, key: String, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    /// `file:line: key: message`, the form shown in push output and API errors.
    public var description: String {
        var s = file
        if let line { s += ":\(line)" }
        s += ": "
        if !key.isEmpty { s += "\(key): " }
        return s + message
    }
}

/// The configuration cannot be used; every error found is listed, not just the first.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var issues: [ConfigIssue]
    public init(_ issues: [ConfigIssue]) { self.issues = issues }
    public var description: String { issues.map(\.description).joined(separator: "\n") }
}

/// Collects errors and warnings while a configuration is read.
final class IssueSink {
    var errors: [ConfigIssue] = []
    var warnings: [ConfigIssue] = []

    func error(_ node: ConfigNode, _ key: String, _ message: String) {
        errors.append(ConfigIssue(file: node.file, line: node.line, key: key, message: message))
    }

    func warning(_ node: ConfigNode, _ key: String, _ message: String) {
        warnings.append(ConfigIssue(file: node.file, line: node.line, key: key, message: message))
    }

    func error(file: String, line: Int?, key: String = "", _ message: String) {
        errors.append(ConfigIssue(file: file, line: line, key: key, message: message))
    }
}
