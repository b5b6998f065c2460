import GroveConfig

/// Loads a tree and returns either the config or the error's issues.
func load(_ files: [String: String]) async -> (ProjectConfig?, [ConfigIssue]) {
    do { return (try await ProjectConfig.load(from: InMemoryFiles(files)), []) } catch let e as ConfigError {
        return (nil, e.issues)
    } catch {
        return (nil, [ConfigIssue(file: "?", line: nil, key: "", message: "\(error)")])
    }
}

/// The issues rendered as `file:line: key: message`, for readable expectations.
func rendered(_ issues: [ConfigIssue]) -> String { issues.map(\.description).joined(separator: "\n") }
