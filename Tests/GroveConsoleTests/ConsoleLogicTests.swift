import GroveModel
import Testing
@testable import GroveConsole

@Suite struct ConsoleLogicTests {
    @Test func interpolatedTextIsEscapedAndMarkupIsNot() {
        let title = "<script>alert('x')</script> & \"q\""
        let m: Markup = "<h1 title=\"\(title)\">\(title)</h1>\(Markup(raw: "<br>"))"
        #expect(m.html == "<h1 title=\"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;\">&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;</h1><br>")
        #expect(Markup.escape("plain") == "plain")
    }

    @Test func routesMatchWholeSegments() {
        let r = ConsoleRoute(method: "GET", parts: ["projects", "abc", "environments", "feature/x"])
        #expect(r.match("GET", "projects/*/environments/*") == ["abc", "feature/x"])
        #expect(r.match("POST", "projects/*/environments/*") == nil)
        #expect(r.match("GET", "projects/*") == nil)
        #expect(ConsoleRoute(method: "GET", parts: []).match("GET", "") == [])
        #expect(ConsolePath.segments("/console/projects/p1/environments/feature%2Fx") == ["console", "projects", "p1", "environments", "feature/x"])
        #expect(ConsolePath.environment("p1", "feature/x") == "/console/projects/p1/environments/feature%2Fx")
    }

    @Test func treeNestsChildrenAndSurvivesCycles() {
        func env(_ id: String, _ parent: String?) -> JSON { .object(JSONObject([("id", .string(id)), ("parent", JSON(parent))])) }
        let tree = EnvironmentTree.build([env("main", nil), env("b", "main"), env("a", "main"), env("a1", "a"), env("orphan", "gone")])
        #expect(tree.map(\.id) == ["main", "orphan"])
        #expect(tree[0].children.map(\.id) == ["a", "b"])
        #expect(tree[0].children[0].children.map(\.id) == ["a1"])
        let cycle = EnvironmentTree.build([env("x", "y"), env("y", "x"), env("self", "self")])
        #expect(Set(cycle.flatMap { [$0.id] + $0.children.map(\.id) }) == ["x", "y", "self"])
    }

    @Test func formsAndCookiesParse() {
        let form = ConsoleRequest.parseForm("a=1&title=two+words&enc=%3Cb%3E&empty=&flag")
        #expect(form.map(\.0) == ["a", "title", "enc", "empty", "flag"])
        #expect(form.map(\.1) == ["1", "two words", "<b>", "", ""])
        #expect(ConsoleRequest.parseCookies("a=1; grove_console=abc ; bad") == ["a": "1", "grove_console": "abc"])
    }

    @Test func tokenClaimsReadSubjectAndSecondFactor() {
        func jwt(_ claims: String) -> String {
            let b64 = Array(claims.utf8).base64url
            return "eyJhbGciOiJIUzI1NiJ9.\(b64).c2ln"
        }
        let c = TokenClaims(jwt(#"{"sub":"u1","amr":["pwd","mfa"]}"#))
        #expect(c?.subject == "u1" && c?.mfa == true)
        #expect(TokenClaims(jwt(#"{"sub":"u2","amr":["api_token"]}"#))?.mfa == false)
        #expect(TokenClaims("not.a-jwt") == nil)
    }
}

extension Array where Element == UInt8 {
    var base64url: String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out: [UInt8] = []
        var i = 0
        while i < count {
            let b0 = self[i], b1 = i + 1 < count ? self[i + 1] : 0, b2 = i + 2 < count ? self[i + 2] : 0
            out.append(table[Int(b0 >> 2)])
            out.append(table[Int((b0 & 3) << 4 | b1 >> 4)])
            if i + 1 < count { out.append(table[Int((b1 & 15) << 2 | b2 >> 6)]) }
            if i + 2 < count { out.append(table[Int(b2 & 63)]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
