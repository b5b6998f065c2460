import Foundation

/// Fetches a source integration's remote repository into the project's repository, under a namespace of its
/// own (`refs/sources/heads/*`), so the platform's branches only move through the usual push activities.
extension GitWriter {
    public static let sourceNamespace = "refs/sources/heads/"

    /// Fetches remote refs into the source namespace: `refs` maps a remote ref (`refs/heads/x`, `refs/pull/3/head`) to the
    /// branch name it is kept as; empty fetches every branch and prunes those gone from the remote. `authorization` is
    /// an HTTP Authorization header value passed through git's environment (never its command line or a file).
    public func fetchSource(url: String, refs: [String: String], authorization: String?, pins: [String] = [], timeoutSeconds: Int = 300) async throws {
        let specs = refs.isEmpty ? ["+refs/heads/*:\(Self.sourceNamespace)*"] : refs.sorted { $0.key < $1.key }.map { "+\($0.key):\(Self.sourceNamespace)\($0.value)" }
        try await fetchRemote(url: url, refspecs: specs, authorization: authorization, pins: pins, prune: refs.isEmpty, timeoutSeconds: timeoutSeconds)
    }

    /// Fetches `refspecs` from an http(s) remote. Objects are checked like pushed ones; redirects, prompts, credential
    /// helpers and every other transport are off, so a URL can only ever be an HTTP request. `pins` (`host:port:address`,
    /// curl's resolve list) make git connect to addresses checked beforehand instead of resolving the name again.
    public func fetchRemote(url: String, refspecs: [String], authorization: String? = nil, pins: [String] = [], prune: Bool = false,
                            timeoutSeconds: Int = 300) async throws {
        var config: [(String, String)] = [("http.followRedirects", "false"), ("credential.helper", ""), ("core.askPass", ""),
                                          ("fetch.fsckObjects", "true")]
        if let authorization { config.append(("http.extraHeader", "Authorization: " + authorization)) }
        for pin in pins { config.append(("http.curloptResolve", pin)) }
        var env: [String: String] = ["GIT_CONFIG_COUNT": String(config.count), "GIT_TERMINAL_PROMPT": "0",
                                     "GIT_ALLOW_PROTOCOL": "http:https", "GIT_HTTP_LOW_SPEED_LIMIT": "1000",
                                     "GIT_HTTP_LOW_SPEED_TIME": String(timeoutSeconds)]
        for (n, (k, v)) in config.enumerated() {
            env["GIT_CONFIG_KEY_\(n)"] = k
            env["GIT_CONFIG_VALUE_\(n)"] = v
        }
        var args = ["fetch", "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules", "--quiet"]
        if prune { args.append("--prune") }
        let out = try await git(args + ["--", url] + refspecs, extraEnvironment: env)
        guard out.status == 0 else {
            var message = String(decoding: out.stderr.prefix(2000), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if let authorization { message = message.replacingOccurrences(of: authorization, with: "***") }
            throw RepositoryError("fetching \(url) failed: \(message)")
        }
    }

    /// The fetched remote branches and their commits.
    public func sourceBranches() async throws -> [String: String] {
        let out = try await git(["for-each-ref", "--format=%(objectname) %(refname)", Self.sourceNamespace])
        var result: [String: String] = [:]
        for line in String(decoding: out.stdout, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[1].hasPrefix(Self.sourceNamespace) else { continue }
            result[String(parts[1].dropFirst(Self.sourceNamespace.count))] = String(parts[0])
        }
        return result
    }

    /// Every branch of the project's repository and its commit.
    public func branches() async throws -> [String: String] {
        let out = try await git(["for-each-ref", "--format=%(objectname) %(refname)", "refs/heads/"])
        var result: [String: String] = [:]
        for line in String(decoding: out.stdout, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[1].hasPrefix("refs/heads/") else { continue }
            result[String(parts[1].dropFirst(11))] = String(parts[0])
        }
        return result
    }
}
