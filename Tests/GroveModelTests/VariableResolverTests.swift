import GroveModel
import Testing

@Suite("Variable resolution (platform-config §6)")
struct VariableResolverTests {
    func v(_ name: String, _ value: String, env: String? = nil, inheritable: Bool = true, enabled: Bool = true,
           build: Bool = true, runtime: Bool = true, scope: [String] = []) -> Variable {
        var x = Variable(projectId: "p", environmentId: env, name: name, value: value, createdAt: "t")
        x.isInheritable = inheritable; x.isEnabled = enabled; x.visibleBuild = build; x.visibleRuntime = runtime; x.applicationScope = scope
        return x
    }

    func values(_ r: [EffectiveVariable]) -> [String: String] {
        Dictionary(uniqueKeysWithValues: r.map { ($0.variable.name, $0.variable.value) })
    }

    @Test func environmentOverridesProject() {
        let r = VariableResolver.effective(project: [v("A", "project")], ancestors: [[v("A", "env", env: "main")]], environmentIds: ["main"])
        #expect(values(r) == ["A": "env"])
        #expect(r.first?.source == .environment)
    }

    @Test func projectVariableAppliesWhenNoEnvironmentDefinesIt() {
        let r = VariableResolver.effective(project: [v("A", "project")], ancestors: [[]], environmentIds: ["main"])
        #expect(r.first?.source == .project)
    }

    @Test func childInheritsFromNearestAncestor() {
        let r = VariableResolver.effective(project: [], ancestors: [[], [v("A", "parent", env: "dev")], [v("A", "root", env: "main")]],
                                           environmentIds: ["feature", "dev", "main"])
        #expect(values(r) == ["A": "parent"])
        #expect(r.first?.source == .inherited(from: "dev"))
    }

    @Test func ownVariableOverridesInherited() {
        let r = VariableResolver.effective(project: [], ancestors: [[v("A", "own", env: "dev")], [v("A", "parent", env: "main")]],
                                           environmentIds: ["dev", "main"])
        #expect(values(r) == ["A": "own"])
    }

    @Test func nonInheritableFallsBackToProject() {
        let r = VariableResolver.effective(project: [v("A", "project")], ancestors: [[], [v("A", "parent", env: "main", inheritable: false)]],
                                           environmentIds: ["dev", "main"])
        #expect(values(r) == ["A": "project"])
    }

    @Test func nonInheritableStillAppliesToItsOwnEnvironment() {
        let r = VariableResolver.effective(project: [], ancestors: [[v("A", "own", env: "main", inheritable: false)]], environmentIds: ["main"])
        #expect(values(r) == ["A": "own"])
    }

    @Test func disabledVariablesAreIgnored() {
        let r = VariableResolver.effective(project: [v("A", "project")], ancestors: [[v("A", "off", env: "dev", enabled: false)], [v("A", "parent", env: "main")]],
                                           environmentIds: ["dev", "main"])
        #expect(values(r) == ["A": "parent"])
    }

    @Test func buildAndRuntimeVisibility() {
        let vars = [v("B", "1", build: true, runtime: false), v("R", "2", build: false, runtime: true)]
        #expect(Set(values(VariableResolver.effective(project: vars, ancestors: [[]], environmentIds: ["m"], visibility: .build)).keys) == ["B"])
        #expect(Set(values(VariableResolver.effective(project: vars, ancestors: [[]], environmentIds: ["m"], visibility: .runtime)).keys) == ["R"])
    }

    @Test func applicationScopeLimitsVariables() {
        let vars = [v("A", "1", scope: ["web"]), v("B", "2")]
        #expect(Set(values(VariableResolver.effective(project: vars, ancestors: [[]], environmentIds: ["m"], application: "worker")).keys) == ["B"])
        #expect(Set(values(VariableResolver.effective(project: vars, ancestors: [[]], environmentIds: ["m"], application: "web")).keys) == ["A", "B"])
    }
}
