/// Where an effective variable came from.
public enum VariableSource: Sendable, Equatable {
    case project
    case inherited(from: String)
    case environment
}

public struct EffectiveVariable: Sendable, Equatable {
    public var variable: Variable
    public var source: VariableSource
}

public enum VariableVisibility: Sendable {
    case build, runtime, any
}

/// Resolves the user variables that apply to one environment (platform-config §6.1):
/// own enabled variables win, then enabled inheritable ones of the nearest ancestor that defines the name,
/// then project variables. Disabled variables are skipped, so a disabled one lets the next level show through.
public enum VariableResolver {
    /// - Parameters:
    ///   - project: project-level variables.
    ///   - ancestors: the environment's own variables first, then its parent's, and so on up to the root.
    ///   - environmentIds: ids matching `ancestors`, used to report where inherited values come from.
    public static func effective(project: [Variable], ancestors: [[Variable]], environmentIds: [String],
                                 visibility: VariableVisibility = .any, application: String? = nil) -> [EffectiveVariable] {
        var out: [String: EffectiveVariable] = [:]
        for v in project where applies(v, visibility: visibility, application: application) {
            out[v.name] = EffectiveVariable(variable: v, source: .project)
        }
        // Walk from the root down so nearer definitions overwrite farther ones.
        for level in stride(from: ancestors.count - 1, through: 0, by: -1) {
            let own = level == 0
            for v in ancestors[level] where v.isEnabled && (own || v.isInheritable) && applies(v, visibility: visibility, application: application) {
                let source: VariableSource = own ? .environment : .inherited(from: level < environmentIds.count ? environmentIds[level] : "")
                out[v.name] = EffectiveVariable(variable: v, source: source)
            }
        }
        return out.values.sorted { $0.variable.name < $1.variable.name }
    }

    static func applies(_ v: Variable, visibility: VariableVisibility, application: String?) -> Bool {
        switch visibility {
        case .build where !v.visibleBuild: return false
        case .runtime where !v.visibleRuntime: return false
        default: break
        }
        if let application, !v.applicationScope.isEmpty, !v.applicationScope.contains(application) { return false }
        return true
    }
}
