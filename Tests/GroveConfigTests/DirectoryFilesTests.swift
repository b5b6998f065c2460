import Foundation
import GroveConfig
import Testing

/// A local working directory read as a tree, as `grove app:config-validate` does.
@Suite struct DirectoryFilesTests {
    static func tree(_ files: [String: String], links: [String: String] = [:]) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("grove-dirfiles-\(UUID().uuidString)")
        for (path, content) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(content.utf8).write(to: url)
        }
        for (path, target) in links {
            try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent(path).path, withDestinationPath: target)
        }
        return root
    }

    @Test func aValidTreeLoadsAndGitIsSkipped() async throws {
        let root = try Self.tree([".platform.app.yaml": HostileYAMLTests.app, ".platform/routes.yaml": "\"https://{default}/\": {type: upstream, upstream: \"app:http\"}\n",
                                  ".git/config": "[core]\n", "src/main.py": "print(1)\n"])
        defer { try? FileManager.default.removeItem(at: root) }
        let files = DirectoryFiles(root)
        let paths = try await files.allPaths()
        #expect(paths == [".platform.app.yaml", ".platform/routes.yaml", "src/main.py"])
        let config = try await ProjectConfig.load(from: files)
        #expect(config.applications.map(\.name) == ["app"])
        #expect(config.routes.count == 1)
    }

    @Test func linksAreReportedNotFollowedAndPathsStayInside() async throws {
        let outside = try Self.tree(["secret.yaml": "name: stolen\n"])
        defer { try? FileManager.default.removeItem(at: outside) }
        let root = try Self.tree([".platform.app.yaml": HostileYAMLTests.app + "variables: {env: {x: !include conf/x.yaml}}\n"],
                                 links: ["conf": outside.path])
        defer { try? FileManager.default.removeItem(at: root) }
        let files = DirectoryFiles(root)
        #expect(try await files.symlinks() == ["conf"])
        #expect(try await files.read("conf/secret.yaml") == nil)
        #expect(try await files.read("../" + outside.lastPathComponent + "/secret.yaml") == nil)
        await #expect(throws: ConfigError.self) { try await ProjectConfig.load(from: files) }
    }

    @Test func errorsNameTheFileAndLine() async throws {
        let root = try Self.tree([".platform.app.yaml": HostileYAMLTests.app + "disk: lots\n"])
        defer { try? FileManager.default.removeItem(at: root) }
        do {
            _ = try await ProjectConfig.load(from: DirectoryFiles(root))
            Issue.record("a bad disk size was accepted")
        } catch let error as ConfigError {
            #expect(error.description.contains(".platform.app.yaml:4"), "\(error)")
        }
    }
}
