import Foundation
import GroveRuntime
import GroveVolumes
import Logging
import Testing

@Suite struct VolumeStoreTests {
    func root() -> String { FileManager.default.temporaryDirectory.appendingPathComponent("volumes-\(UUID().uuidString)").path }

    @Test func cloneIsIndependentOfItsSource() async throws {
        let dir = root()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try await VolumeStore.open(root: dir, logger: Logger(label: "test"))
        try await store.create("p/main/db")
        try "parent".write(toFile: store.path("p/main/db") + "/data", atomically: true, encoding: .utf8)
        try await store.clone(from: "p/main/db", to: "p/dev/db")
        #expect(try String(contentsOfFile: store.path("p/dev/db") + "/data", encoding: .utf8) == "parent")
        try "child".write(toFile: store.path("p/dev/db") + "/data", atomically: true, encoding: .utf8)
        #expect(try String(contentsOfFile: store.path("p/main/db") + "/data", encoding: .utf8) == "parent")
        await #expect(throws: VolumeError.self) { try await store.clone(from: "p/main/db", to: "p/dev/db") }
        await #expect(throws: VolumeError.self) { try await store.clone(from: "p/none/db", to: "p/x/db") }
        try await store.delete("p/dev/db")
        #expect(!store.exists("p/dev/db") && store.exists("p/main/db"))
        try await store.delete("p/dev/db")
    }

    @Test func sizesFollowPlatformShProfiles() {
        #expect(ResourceLimits.forSize("S", profile: .highCPU) == ResourceLimits(cpu: 0.40, memoryMB: 128))
        #expect(ResourceLimits.forSize("xl", profile: .highMemory) == ResourceLimits(cpu: 0.75, memoryMB: 2624))
        #expect(ResourceLimits.forSize("AUTO", profile: .highCPU) == nil)
        #expect(ResourceLimits.profile(forRuntime: "java") == .highMemory && ResourceLimits.profile(forRuntime: "php") == .highCPU)
        #expect(Cgroups.name(for: "p/main/app/web/3") == "p_main_app_web_3")
    }
}
