import Testing
@testable import GroveModel

@Suite struct MemoTests {
    @Test func aValueIsComputedOnceWhileRemembered() {
        let memo = BoundedMemo<String, Int>(budget: 100)
        var calls = 0
        for _ in 0..<3 { #expect(memo.value(for: "a", cost: 10) { calls += 1; return 1 } == 1) }
        #expect(calls == 1)
        #expect(memo.value(for: "b", cost: 10) { calls += 1; return 2 } == 2)
        #expect(calls == 2)
    }

    @Test func theBudgetBoundsWhatIsKept() {
        let memo = BoundedMemo<Int, Int>(budget: 50)
        for i in 0..<1000 { _ = memo.value(for: i, cost: 10) { i } }
        // Two generations of at most five entries each.
        #expect(memo.count <= 10)
        // A recently used entry survives while others age out.
        var calls = 0
        for i in 1000..<1040 {
            _ = memo.value(for: 7, cost: 10) { calls += 1; return 7 }
            _ = memo.value(for: i, cost: 10) { i }
        }
        #expect(calls == 1)
    }

    @Test func aZeroBudgetComputesEveryTime() {
        let memo = BoundedMemo<String, Int>(budget: 0)
        var calls = 0
        for _ in 0..<3 { _ = memo.value(for: "a", cost: 1) { calls += 1; return 1 } }
        #expect(calls == 3)
        #expect(!memo.isEnabled)
    }

    @Test func errorsAreNotRemembered() throws {
        struct Failure: Error {}
        let memo = BoundedMemo<String, Int>(budget: 100)
        #expect(throws: Failure.self) { try memo.value(for: "a", cost: 1) { throw Failure() } }
        #expect(memo.value(for: "a", cost: 1) { 5 } == 5)
    }
}
