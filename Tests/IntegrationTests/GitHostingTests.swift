import Foundation
import GroveModel
import Testing

@Suite("Hosted git repositories over smart HTTP")
struct GitHostingTests {
    func git(_ args: [String], in dir: String? = nil) throws -> (Int32, String) {
        let home = FileManager.default.temporaryDirectory.path
        var full = ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main"]
        if let dir { full += ["-C", dir] }
        return try Spawn.run("/usr/bin/git", full + args, env: ["GIT_TERMINAL_PROMPT": "0", "HOME": home, "GIT_CONFIG_NOSYSTEM": "1"])
    }

    @Test("clone, push and fetch with an API token; viewers read only; strangers are refused", arguments: Backend.allCases)
    func cloneAndPush(backend: Backend) async throws {
        let s = try await TestServer.start(backend)
        defer { s.stopNow() }
        let http = try await s.login()
        let project = try await s.createProject(http)
        let pid = try #require(project["id"]?.stringValue)
        let url = try #require(project["repository"]?["http_url"]?.stringValue)
        #expect(url == s.baseURL + "/\(pid).git")
        let authed = url.replacingOccurrences(of: "http://", with: "http://grove:\(s.initialToken)@")
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("git-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: work) }

        var (st, out) = try git(["clone", authed, work + "/a"])
        #expect(st == 0, "\(out)")
        try "hello\n".write(toFile: work + "/a/README", atomically: true, encoding: .utf8)
        _ = try git(["add", "README"], in: work + "/a")
        _ = try git(["commit", "-m", "first"], in: work + "/a")
        (st, out) = try git(["push", "origin", "HEAD:refs/heads/main"], in: work + "/a")
        #expect(st == 0, "\(out)")
        (st, out) = try git(["clone", authed, work + "/b"])
        #expect(st == 0, "\(out)")
        #expect((try? String(contentsOfFile: work + "/b/README", encoding: .utf8)) == "hello\n")
        // The read API answers what git itself says.
        let (_, headSha) = try git(["rev-parse", "HEAD"], in: work + "/a")
        let head = headSha.trimmingCharacters(in: .whitespacesAndNewlines)
        let refs = try await http.get("/projects/\(pid)/git/refs").json.arrayValue ?? []
        #expect(refs.contains { $0["ref"]?.stringValue == "refs/heads/main" && $0["sha"]?.stringValue == head && $0["object"]?["type"]?.stringValue == "commit" })
        #expect(try await http.get("/projects/\(pid)/git/refs/heads%2Fmain").json["sha"]?.stringValue == head)
        #expect(try await http.get("/projects/\(pid)/git/refs/heads%2Fnope").status == 404)
        let commit = try await http.get("/projects/\(pid)/git/commits/\(head)").json
        #expect(commit["message"]?.stringValue == "first\n")
        #expect(commit["author"]?["email"]?.stringValue == "test@example.com")
        #expect(commit["parents"]?.arrayValue?.isEmpty == true)
        let (_, treeSha) = try git(["rev-parse", "HEAD^{tree}"], in: work + "/a")
        #expect(commit["tree"]?.stringValue == treeSha.trimmingCharacters(in: .whitespacesAndNewlines))
        let tree = try await http.get("/projects/\(pid)/git/trees/\(commit["tree"]?.stringValue ?? "")").json
        let entry = try #require(tree["tree"]?.arrayValue?.first)
        #expect(entry["path"]?.stringValue == "README" && entry["mode"]?.stringValue == "100644" && entry["type"]?.stringValue == "blob")
        let blob = try await http.get("/projects/\(pid)/git/blobs/\(entry["sha"]?.stringValue ?? "")").json
        #expect(blob["content"]?.stringValue == "hello\n" && blob["encoding"]?.stringValue == "utf-8" && blob["size"]?.intValue == 6)
        #expect(try await http.get("/projects/\(pid)/git/blobs/\(head)").status == 404)  // a commit is not a blob
        #expect(try await http.get("/projects/\(pid)/git/commits/not-hex").status == 400)
        #expect(try await http.get("/projects/\(pid)/git/commits/0123456789abcdef0123456789abcdef01234567").status == 404)

        // An access token works as the password too.
        let access = try #require(http.bearer)
        (st, out) = try git(["ls-remote", url.replacingOccurrences(of: "http://", with: "http://token:\(access)@")])
        #expect(st == 0 && out.contains("refs/heads/main"), "\(out)")

        // No credentials: a Basic challenge (checked with curl: URLSession waits on Basic challenges).
        (st, out) = try Spawn.run("/usr/bin/curl", ["-s", "-i", "\(s.baseURL)/\(pid).git/info/refs?service=git-upload-pack"])
        #expect(out.hasPrefix("HTTP/1.1 401"), "\(out)")
        #expect(out.lowercased().contains("www-authenticate: basic"), "\(out)")
        (st, _) = try git(["ls-remote", url])
        #expect(st != 0)
        (st, _) = try git(["ls-remote", url.replacingOccurrences(of: "http://", with: "http://x:wrong@")])
        #expect(st != 0)
        (st, out) = try Spawn.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-u", "x:\(s.initialToken)",
                                                    "\(s.baseURL)/nosuchproject.git/info/refs?service=git-upload-pack"])
        #expect(out == "404")

        // A viewer clones but cannot push, and is told why.
        let viewerToken = try s.createUser(email: "viewer@example.com")
        _ = try s.admin(["admin:grant", "-p", pid, "--email", "viewer@example.com", "--permission", "viewer", "--permission", "production:viewer"])
        let viewerURL = url.replacingOccurrences(of: "http://", with: "http://v:\(viewerToken)@")
        (st, out) = try git(["clone", viewerURL, work + "/c"])
        #expect(st == 0, "\(out)")
        _ = try git(["commit", "--allow-empty", "-m", "second"], in: work + "/c")
        (st, out) = try git(["push", "origin", "HEAD:refs/heads/main"], in: work + "/c")
        #expect(st != 0)
        #expect(out.contains("403") || out.contains("read-only"), "\(out)")

        // Deleting the project removes its repository.
        #expect(try await http.delete("/projects/\(pid)").status == 200)
        #expect(!FileManager.default.fileExists(atPath: s.dataDir + "/repositories/\(pid).git"))
    }
}
