import Foundation
import GroveGit
import Testing

@Suite("Initialize: template sources and the first commit")
struct InitialCommitTests {
    @Test("repository strings: url@ref, scp-like form as https, refusals")
    func parsing() throws {
        var t = try TemplateSource.parse("https://github.com/platformsh-templates/flask.git@main")
        #expect(t == TemplateSource(url: "https://github.com/platformsh-templates/flask.git", ref: "main"))
        t = try TemplateSource.parse("https://github.com/org/repo.git")
        #expect(t.ref == nil && t.remoteRef == "HEAD")
        t = try TemplateSource.parse("git@github.com:platformsh/a-project-template.git@master")
        #expect(t == TemplateSource(url: "https://github.com/platformsh/a-project-template.git", ref: "master"))
        t = try TemplateSource.parse("git@github.com:org/repo.git")
        #expect(t == TemplateSource(url: "https://github.com/org/repo.git", ref: nil))
        t = try TemplateSource.parse("https://example.com/x.git@feature/new-thing")
        #expect(t.ref == "feature/new-thing")
        t = try TemplateSource.parse("http://127.0.0.1:8080/acme/t.git@v1.2")
        #expect(t == TemplateSource(url: "http://127.0.0.1:8080/acme/t.git", ref: "v1.2"))

        // Credentials, other transports, local paths, option-like refs and junk are refused with a reason.
        for bad in ["https://user:pw@github.com/x.git", "https://user@github.com/x.git", "file:///etc", "ext::sh -c touch% /tmp/pwned",
                    "/srv/git/repo.git", "../other.git", "ssh://git@github.com/x.git", "git://github.com/x.git",
                    "https://github.com/x.git@--upload-pack=touch", "https://github.com/x.git@a..b", "https://github.com/x.git@.hidden",
                    "https://github.com/x.git@main.lock", "https://github.com/", "-oProxyCommand=x:y", "host:-x", "", "https://a/b c.git",
                    "https://github.com/x.git@ma\u{7F}in", String(repeating: "a", count: 3000)] {
            #expect(throws: TemplateSource.Invalid.self, "\(bad.prefix(60))") { try TemplateSource.parse(bad) }
        }
    }

    @Test("layers: later files replace earlier ones, a file replaces a directory, executables and symlinks kept, no parents")
    func flatten() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("initial-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let repositories = Repositories(dataDir: dir)
        try await repositories.create("p1", defaultBranch: "main")
        let git = GitWriter(repositories: repositories, projectId: "p1")
        let author = GitWriter.Author(name: "Ada", email: "ada@example.com")
        let base = try await git.commitFiles([.init(path: "README", executable: false, contents: Array("template\n".utf8)),
                                              .init(path: "conf/app.yaml", executable: false, contents: Array("a: 1\n".utf8)),
                                              .init(path: "run.sh", executable: true, contents: Array("#!/bin/sh\n".utf8))],
                                             message: "template", author: author, holdRef: "refs/test/base")
        let over = try await git.commitFiles([.init(path: "README", executable: false, contents: Array("mine\n".utf8)),
                                              .init(path: "conf", executable: false, contents: Array("now a file\n".utf8)),
                                              .init(path: "secret/config.json", executable: false, contents: Array("{}".utf8))],
                                             message: "files", author: author, holdRef: "refs/test/over")
        let commit = try await git.flatten([base, over], message: "Initialize", author: author, holdRef: "refs/test/commit")
        #expect(try await git.commit(at: "refs/test/commit") == commit)
        let listing = try Self.git(repositories.path(for: "p1"), ["ls-tree", "-r", commit])
        #expect(listing.contains("100644 blob") && listing.contains("\tREADME") && listing.contains("\tconf\n") && !listing.contains("conf/app.yaml"))
        #expect(listing.contains("100755 blob") && listing.contains("\trun.sh") && listing.contains("\tsecret/config.json"), "\(listing)")
        #expect(try Self.git(repositories.path(for: "p1"), ["show", "\(commit):README"]) == "mine\n")
        #expect(try Self.git(repositories.path(for: "p1"), ["rev-list", "--count", commit]).trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        #expect(try Self.git(repositories.path(for: "p1"), ["log", "-1", "--format=%an <%ae>", commit]).contains("Ada <ada@example.com>"))
        #expect(try await git.commit(at: "refs/test/none") == nil)
    }

    @Test("a fetch with pins connects to the pinned address, whatever the name resolves to")
    func pinnedFetch() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pinned-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let repositories = Repositories(dataDir: dir)
        try await repositories.create("served", defaultBranch: "main")
        try await repositories.create("fetcher", defaultBranch: "main")
        let served = GitWriter(repositories: repositories, projectId: "served")
        let commit = try await served.commitFiles([.init(path: "a", executable: false, contents: [0x61])], message: "a",
                                                  author: .init(name: "A", email: "a@example.com"), holdRef: "refs/heads/main")
        _ = try Self.git(repositories.path(for: "served"), ["update-server-info"])
        // The repositories directory over HTTP (git's dumb protocol), on a loopback port the server picks and writes down.
        let portFile = dir + "/port"
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        server.arguments = ["-c", """
            import functools, http.server, sys
            s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1]))
            open(sys.argv[2] + ".tmp", "w").write(str(s.server_address[1]))
            __import__("os").rename(sys.argv[2] + ".tmp", sys.argv[2])
            s.serve_forever()
            """, dir + "/repositories", portFile]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        // SIGKILL: the test process may hand its children a blocked SIGTERM.
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        var announced: String?
        for _ in 0..<100 where announced == nil {
            announced = try? String(contentsOfFile: portFile, encoding: .utf8)
            if announced == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let port = try #require(announced.flatMap { Int($0) })
        let fetcher = GitWriter(repositories: repositories, projectId: "fetcher")
        let url = "http://grove-pinned.invalid:\(port)/served.git"
        // The name resolves nowhere: only the pin leads git to the server.
        await #expect(throws: (any Error).self) { try await fetcher.fetchRemote(url: url, refspecs: ["+HEAD:refs/test/unpinned"]) }
        try await fetcher.fetchRemote(url: url, refspecs: ["+HEAD:refs/test/pinned"], pins: ["grove-pinned.invalid:\(port):127.0.0.1"])
        #expect(try await fetcher.commit(at: "refs/test/pinned") == commit)
    }

    static func git(_ gitDir: String, _ args: [String]) throws -> String {
        let p = Process(), out = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        p.arguments = ["--git-dir=" + gitDir] + args
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
