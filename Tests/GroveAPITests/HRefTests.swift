@testable import GroveAPI
import Testing

@Suite("Link targets")
struct HRefTests {
    @Test func regionLinksGoUnderApiAndAccountsLinksStayPathAbsolute() {
        let base = "http://grove.test"
        #expect(HRef.make(base: base, path: "/projects/abc/environments/main") == "http://grove.test/api/projects/abc/environments/main")
        #expect(HRef.make(base: base, path: "/projects/abc") == "http://grove.test/api/projects/abc")
        #expect(HRef.make(base: base, path: "/projects/abc?x=1") == "http://grove.test/api/projects/abc?x=1")
        #expect(HRef.make(base: base, path: "/projects/abc/user-access") == "/projects/abc/user-access")
        #expect(HRef.make(base: base, path: "/projects/abc/team-access/t1") == "/projects/abc/team-access/t1")
        #expect(HRef.make(base: base, path: "/projects/abc/invitations?state=pending") == "/projects/abc/invitations?state=pending")
        #expect(HRef.make(base: base, path: "/projects/abc/invitationsx") == "http://grove.test/api/projects/abc/invitationsx")
        #expect(HRef.make(base: base, path: "/organizations/o1/members") == "/organizations/o1/members")
        #expect(HRef.make(base: base, path: "/ref/projects?in=a") == "/ref/projects?in=a")
    }
}
