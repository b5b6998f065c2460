import GroveConfig
import GroveGit

/// Parsed configurations by commit. A commit's tree never changes, so what a push validated is what its activity
/// deploys: the push's check and the activity parse each commit once.
public actor ConfigCache {
    public static let shared = ConfigCache()
    private var entries: [String: ProjectConfig] = [:]
    private var order: [String] = []
    private let capacity = 64

    /// The configuration of `commit` (a full sha), parsed from `files` unless known. Invalid ones are not kept.
    public func config(commit: String, files: CommitFiles) async throws -> ProjectConfig {
        if let c = entries[commit] { return c }
        let c = try await ProjectConfig.load(from: files)
        if entries[commit] == nil {
            entries[commit] = c
            order.append(commit)
            if order.count > capacity { entries[order.removeFirst()] = nil }
        }
        return c
    }
}
