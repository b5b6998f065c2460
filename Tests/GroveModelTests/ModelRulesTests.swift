import GroveModel
import Testing

@Suite("Names, roles, lifecycle rules and JSON")
struct ModelRulesTests {
    @Test(arguments: ["main", "feature/login", "release-1.2", "a_b+c", "UPPER"])
    func validNames(_ n: String) { #expect(EnvironmentName.problem(with: n) == nil) }

    @Test(arguments: ["", "-x", "a..b", "a b", "x/", "x.lock", "/x", "a//b", "ü", "x~1", "a:b", "HEAD", "@"])
    func invalidNames(_ n: String) { #expect(EnvironmentName.problem(with: n) != nil) }

    @Test func machineNames() {
        #expect(EnvironmentName.machineName(for: "Feature/Login_Page", suffix: "abc1234") == "feature-login-page-abc1234")
        #expect(EnvironmentName.machineName(for: String(repeating: "x", count: 80), suffix: "s").count == 34)
    }

    @Test func permissionsParseAndMerge() throws {
        let l = try ProjectAccessLevel.parse(permissions: ["development:contributor", "production:viewer"]).get()
        #expect(l.projectRole == .viewer)
        #expect(l.allows(.contributor, on: .development))
        #expect(!l.allows(.contributor, on: .production))
        #expect(l.role(on: .staging) == nil)
        let admin = try ProjectAccessLevel.parse(permissions: ["admin"]).get()
        #expect(admin.allows(.admin, on: .staging))
        #expect(l.merged(with: admin).isAdmin)
        #expect(l.permissions == ["viewer", "production:viewer", "development:contributor"])
        if case .success = ProjectAccessLevel.parse(permissions: ["development:owner"]) { Issue.record("accepted a bad role") }
    }

    @Test func lifecycleLinks() {
        var e = Environment(projectId: "p", name: "dev", title: "Dev", type: .development, parent: "main", status: .active, isMain: false, createdAt: "t")
        let admin = ProjectAccessLevel(projectRole: .admin)
        let contributor = ProjectAccessLevel(projectRole: .viewer, environmentTypeRoles: [.development: .contributor])
        #expect(EnvironmentRules.allowed(.branch, environment: e, isDefault: false, hasRunningActivity: false, access: contributor))
        #expect(!EnvironmentRules.allowed(.deactivate, environment: e, isDefault: false, hasRunningActivity: false, access: contributor))
        #expect(EnvironmentRules.allowed(.deactivate, environment: e, isDefault: false, hasRunningActivity: false, access: admin))
        #expect(!EnvironmentRules.allowed(.delete, environment: e, isDefault: false, hasRunningActivity: false, access: admin))
        e.status = .inactive
        #expect(EnvironmentRules.allowed(.delete, environment: e, isDefault: false, hasRunningActivity: false, access: admin))
        #expect(EnvironmentRules.allowed(.activate, environment: e, isDefault: false, hasRunningActivity: false, access: admin))
        #expect(!EnvironmentRules.allowed(.branch, environment: e, isDefault: false, hasRunningActivity: false, access: admin))
        #expect(!EnvironmentRules.allowed(.delete, environment: e, isDefault: true, hasRunningActivity: false, access: admin))
    }

    @Test func jsonRoundTrip() throws {
        let text = #"{"b":1,"a":[true,null,"x\n\u00e9"],"c":{"d":-2.5,"e":9007199254740993}}"#
        let j = try JSON.parse(text)
        #expect(j["c"]?["e"]?.intValue == 9007199254740993)
        #expect(j.serialized() == #"{"b":1,"a":[true,null,"x\né"],"c":{"d":-2.5,"e":9007199254740993}}"#)
        #expect(throws: JSONParseError.self) { try JSON.parse("{\"a\":}") }
        #expect(throws: JSONParseError.self) { try JSON.parse("[1] x") }
    }

    @Test func activityStates() {
        var a = Activity(projectId: "p", environments: ["main"], type: "t", userId: nil, description: "", text: "", seq: 1, createdAt: "t")
        #expect(a.state.isCancellable)
        a.cancel(at: "now")
        #expect(a.state == .cancelled && a.result == .failure && a.completionPercent == 100)
        #expect(!a.state.isCancellable)
    }
}

@Suite("Timestamps")
struct TimestampTests {
    @Test func normalizeKeepsMicroseconds() {
        #expect(Timestamp.normalize("2026-01-02T03:04:05.123456+00:00") == "2026-01-02T03:04:05.123456+00:00")
        #expect(Timestamp.normalize("2026-01-02T03:04:05Z") == "2026-01-02T03:04:05.000000+00:00")
        #expect(Timestamp.normalize("2026-01-02T05:04:05.5+02:00") == "2026-01-02T03:04:05.500000+00:00")
        // The official CLI's unencoded `+` arrives as a space.
        #expect(Timestamp.normalize("2026-12-01T10:00:00.910348 00:00") == "2026-12-01T10:00:00.910348+00:00")
        #expect(Timestamp.normalize("2026-12-01T12:00:00 02:00") == "2026-12-01T10:00:00.000000+00:00")
        #expect(Timestamp.parse("2026-12-01T10:00:00.910348 00:00") != nil)
        #expect(Timestamp.normalize("2026-12-01T10:00:00.910348 zz") == nil)
        #expect(Timestamp.normalize("yesterday") == nil)
    }
}
