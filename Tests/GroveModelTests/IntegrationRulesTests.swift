import GroveModel
import Testing

@Suite("Integration specs and activity filters")
struct IntegrationRulesTests {
    func activity(_ type: String, _ state: ActivityState = .complete, result: ActivityResult? = .success, env: [String] = ["main"]) -> Activity {
        var a = Activity(projectId: "p", environments: env, type: type, userId: nil, description: "", text: "", seq: 1, createdAt: "t")
        a.state = state
        a.result = result
        return a
    }

    @Test func globsMatchWholeNames() {
        #expect(IntegrationActivityFilter.glob("*", "environment.push"))
        #expect(IntegrationActivityFilter.glob("environment.*", "environment.push"))
        #expect(IntegrationActivityFilter.glob("environment.%", "environment.push"))
        #expect(!IntegrationActivityFilter.glob("environment.*", "project.variable.create"))
        #expect(IntegrationActivityFilter.glob("*.variable.*", "project.variable.create"))
        #expect(!IntegrationActivityFilter.glob("main", "main-2"))
        #expect(IntegrationActivityFilter.glob("pr-*", "pr-12"))
        #expect(IntegrationActivityFilter.glob("a*b*c", "axxbyyc") && !IntegrationActivityFilter.glob("a*b*c", "axxbyy"))
    }

    @Test func filtersByEventStateResultAndEnvironment() {
        let f = IntegrationActivityFilter()
        #expect(f.matches(activity("environment.push")))
        #expect(!f.matches(activity("environment.push", .inProgress, result: nil)), "only complete by default")
        #expect(!f.matches(activity("integration.webhook")), "deliveries never trigger deliveries")
        var g = IntegrationActivityFilter(events: ["environment.push"], states: ["in_progress", "complete"], result: "failure",
                                          environments: ["*"], excludedEnvironments: ["pr-*"])
        #expect(g.matches(activity("environment.push", result: .failure)))
        #expect(!g.matches(activity("environment.push", result: .success)))
        #expect(!g.matches(activity("environment.push", result: .failure, env: ["pr-3"])))
        #expect(!g.matches(activity("environment.branch", result: .failure)))
        g.environments = ["main"]
        #expect(!g.matches(activity("environment.push", result: .failure, env: ["feature"])))
        #expect(g.matches(activity("environment.push", result: .failure, env: [])), "project-level activities pass environment filters")
    }

    @Test func createFillsDefaultsAndKeepsSecretsApart() throws {
        let spec = try #require(IntegrationSpec.named("webhook"))
        let (settings, secrets) = try spec.apply(["type": "webhook", "url": "https://example.com/h", "shared_key": "k"], to: nil)
        #expect(settings["events"] == ["*"] && settings["states"] == ["complete"] && settings["result"] == "*")
        #expect(settings["shared_key"] == nil && secrets["shared_key"] == "k")
        let shown = spec.rendered(settings, secrets: secrets)
        #expect(shown["shared_key"] == .null && shown["url"] == "https://example.com/h")
        #expect(throws: IntegrationInputError("url", "is required for webhook integrations")) { try spec.apply(["type": "webhook"], to: nil) }
    }

    @Test func updatesKeepUnnamedSecretsAndRefuseReadOnlyFields() throws {
        let spec = try #require(IntegrationSpec.named("github"))
        let created = try spec.apply(["token": "t1", "repository": "a/b"], to: nil)
        #expect(created.settings["token_type"] == "classic_personal_token" || created.settings["token_type"] == nil)
        let updated = try spec.apply(["fetch_branches": false], to: created)
        #expect(updated.secrets["token"] == "t1" && updated.settings["fetch_branches"] == false)
        #expect(throws: IntegrationInputError.self) { try spec.apply(["token_type": "github_app"], to: created) }
        #expect(throws: IntegrationInputError.self) { try spec.apply(["build_pull_requests": "yes"], to: created) }
        #expect(throws: IntegrationInputError.self) { try spec.apply(["token": .null], to: created) }
    }

    @Test func headersAreSecretAndCredentialsSplit() throws {
        let http = try #require(IntegrationSpec.named("httplog"))
        let h = try http.apply(["url": "https://logs.example.com", "headers": ["Authorization": "Bearer x"]], to: nil)
        #expect(http.rendered(h.settings, secrets: h.secrets)["headers"] == ["Authorization": "******"])
        #expect(throws: IntegrationInputError.self) { try http.apply(["url": "https://x.example", "headers": ["A\r\nB": "x"]], to: nil) }
        #expect(throws: IntegrationInputError.self) { try http.apply(["url": "https://x.example", "headers": ["A": "x\r\nInjected: y"]], to: nil) }
        let bb = try #require(IntegrationSpec.named("bitbucket"))
        let b = try bb.apply(["repository": "t/r", "app_credentials": ["key": "k", "secret": "s"]], to: nil)
        #expect(b.settings["app_credentials"] == ["key": "k"] && b.secrets["app_credentials"] == ["secret": "s"])
        #expect(throws: IntegrationInputError.self) { try bb.apply(["repository": "t/r", "app_credentials": ["other": "x"]], to: nil) }
    }

    @Test func everyTypeIsDescribedOnceAndVendorOnlyOnesAreRefused() {
        let types = IntegrationSpec.all.map(\.type)
        #expect(Set(types).count == types.count)
        for t in ["github", "gitlab", "bitbucket", "bitbucket_server", "webhook", "health.email", "health.webhook", "health.slack",
                  "health.pagerduty", "syslog", "httplog", "splunk", "sumologic", "newrelic", "otlplog", "script"] {
            #expect(types.contains(t), "\(t)")
        }
        #expect(IntegrationSpec.refused["blackfire"] != nil && IntegrationSpec.refused["fastly"] != nil)
    }
}

extension IntegrationSpec {
    /// Bodies written as JSON literals.
    func apply(_ body: JSON, to current: (settings: JSONObject, secrets: JSONObject)?) throws -> (settings: JSONObject, secrets: JSONObject) {
        try apply(body.objectValue ?? JSONObject(), to: current)
    }
}
