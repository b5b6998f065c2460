@testable import GroveStore
import Testing

@Suite("Answer versions per project")
struct AnswerVersionsTests {
    @Test("a project's version moves with its writes and with writes about no one project, never with another's")
    func scoping() {
        let v = AnswerVersions()
        let (p0, q0, all0) = (v.project("p"), v.project("q"), v.all)
        v.bump(project: "q")
        #expect(v.project("p") == p0)
        #expect(v.project("q") != q0)
        #expect(v.all != all0)
        let (p1, q1) = (v.project("p"), v.project("q"))
        v.bump(project: nil)
        #expect(v.project("p") != p1 && v.project("q") != q1)
        // After an account write, a project's own write still moves its version past it.
        let p2 = v.project("p")
        v.bump(project: "p")
        #expect(v.project("p") > p2)
        // A project never written follows the account version.
        let r0 = v.project("never-written")
        v.bump(project: "p")
        #expect(v.project("never-written") == r0)
    }

    @Test("a transaction's writes are gathered: the projects it wrote, or everything once it wrote anything else")
    func transactions() {
        let scopes = WriteScopes()
        #expect(scopes.written == .nothing)
        scopes.record(project: "p")
        scopes.record(project: "q")
        scopes.record(project: "p")
        #expect(scopes.written == .projects(["p", "q"]))
        let v = AnswerVersions()
        let (p0, q0, r0) = (v.project("p"), v.project("q"), v.project("r"))
        v.bump(scopes.written)
        #expect(v.project("p") != p0 && v.project("q") != q0 && v.project("r") == r0)

        scopes.record(project: nil)
        scopes.record(project: "s")
        #expect(scopes.written == .account)
        let r1 = v.project("r")
        v.bump(scopes.written)
        #expect(v.project("r") != r1)

        // Nothing written moves nothing.
        let all = v.all
        v.bump(WriteScopes().written)
        #expect(v.all == all)
    }
}
