import Foundation
import GroveConfig
import Testing

/// Configuration files written to hurt the server: each is refused naming the limit it reached, which is what bounds
/// the work (unbounded, these took minutes to hours). How long each takes is measured by bench/config.sh, not here:
/// wall-clock bounds in a suite sharing two cores with builds and servers only measure the neighbours.
@Suite struct HostileYAMLTests {
    static let app = "name: app\ntype: python:3.12\nweb: {commands: {start: python3 -m http.server $PORT}}\n"

    /// The classic "billion laughs": nine levels of ten aliases each expand to 10⁹ strings.
    static let billionLaughs: String = {
        var s = app + "variables:\n  env:\n    l0: &l0 \"lol\"\n"
        for i in 1...9 {
            s += "    l\(i): &l\(i) [" + Array(repeating: "*l\(i - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        return s
    }()

    @Test func billionLaughsIsRefusedAtOnce() async throws {
        let (config, issues) = await load([".platform.app.yaml": Self.billionLaughs])
        #expect(config == nil)
        #expect(rendered(issues).contains("expands to more than \(YAMLLimits.maxExpandedNodes) values"), "\(rendered(issues))")
        #expect(issues.first?.file == ".platform.app.yaml")
        #expect(issues.first?.line != nil)
    }

    @Test func aliasesUsedAsKeysAreBoundedToo() async throws {
        var doc = Self.app + "x0: &x0 {a: 1, b: 2}\n"
        for i in 1...30 { doc += "x\(i): &x\(i) {? *x\(i - 1) : 1, ? [*x\(i - 1)] : 2}\n" }
        let (config, issues) = await load([".platform.app.yaml": doc])
        #expect(config == nil)
        #expect(rendered(issues).contains("once its aliases are expanded"), "\(rendered(issues))")
    }

    @Test func deepNestingIsRefused() async throws {
        let depth = 100
        let doc = Self.app + "variables: {env: {deep: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}}\n"
        let (config, issues) = await load([".platform.app.yaml": doc])
        #expect(config == nil)
        #expect(rendered(issues).contains("nests deeper than \(YAMLLimits.maxDepth) levels"), "\(rendered(issues))")
        // Far deeper: libyaml's own nesting limit answers first, as a YAML error with its line.
        let deeper = Self.app + "x: " + String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000) + "\n"
        let (config2, issues2) = await load([".platform.app.yaml": deeper])
        #expect(config2 == nil && rendered(issues2).contains(".platform.app.yaml:4:"), "\(rendered(issues2))")
    }

    @Test func oversizedFilesAreRefused() async throws {
        let padding = "# " + String(repeating: "x", count: 1_000) + "\n"
        let doc = Self.app + String(repeating: padding, count: 600)
        let (config, issues) = await load([".platform.app.yaml": doc])
        #expect(config == nil)
        #expect(rendered(issues).contains("limited to \(YAMLLimits.maxFileBytes) bytes"), "\(rendered(issues))")
    }

    @Test func includesMultiplyingFilesStayWithinTheBudget() async throws {
        // Each level includes the next one many times: small files, an exponential tree once included.
        var files: [String: String] = [:]
        for level in 0..<6 {
            let next = level == 5 ? "'leaf'" : "!include l\(level + 1).yaml"
            files["conf/l\(level).yaml"] = "[" + Array(repeating: next, count: 40).joined(separator: ", ") + "]\n"
        }
        files[".platform.app.yaml"] = Self.app + "variables: {env: {big: !include conf/l0.yaml}}\n"
        let (config, issues) = await load(files)
        #expect(config == nil)
        #expect(rendered(issues).contains("more than \(YAMLLimits.maxConvertedNodes) values"), "\(rendered(issues))")
    }

    @Test func manyKeysAreRead() async throws {
        // 30,000 keys took 45 s when duplicates were looked for pair by pair; bench/config.sh times this file.
        var doc = Self.app + "variables:\n  env:\n"
        for i in 0..<30_000 { doc += "    k\(i): v\n" }
        let (config, issues) = await load([".platform.app.yaml": doc])
        #expect(issues.isEmpty, "\(rendered(issues).prefix(500))")
        #expect(config?.application("app")?.variables["env"]?.count == 30_000)
    }

    @Test func duplicateKeysAreStillFound() async throws {
        let doc = Self.app + "variables:\n  env:\n    A: 1\n    B: 2\n    A: 3\n"
        let (config, issues) = await load([".platform.app.yaml": doc])
        #expect(config == nil)
        #expect(rendered(issues).contains("A"), "\(rendered(issues))")
    }
}
