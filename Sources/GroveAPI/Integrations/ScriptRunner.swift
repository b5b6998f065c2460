import Foundation
import GroveDriver
import GroveModel
import GroveOrchestrator
import GroveStore

/// `integration.script`: an activity script (JavaScript) run on a matching activity, as Platform.sh runs them: the
/// globals `activity` (the activity as the API renders it), `project` and `variables()` (the project's variables), a
/// synchronous `fetch(url, options)`, and `console.log` into the activity's log. It runs under Debian's Node.js in the
/// same sandbox as application commands (unprivileged, its own network like a build, no view of the host's files),
/// with a time limit.
struct ScriptRunner: ActivityRunner {
    let runtime: IntegrationRuntime
    var resumable: Bool { true }
    static let timeLimit = 30

    func run(_ ctx: ActivityContext) async throws {
        guard let i = try await integration(of: ctx) else { return }
        guard let apps = runtime.apps else { throw ActivityFailure("This worker has no runtime to run activity scripts in.") }
        guard let sourceId = ctx.activity.parameters["activity"]?.stringValue, let source = try await ctx.store.activity(id: sourceId),
              let project = try await ctx.store.project(id: i.projectId) else {
            try await ctx.log("The activity or project no longer exists.")
            return
        }
        var variables = JSONObject()
        for v in try await ctx.store.variables(projectId: project.id, environmentId: nil) { variables[v.name] = .string(v.value) }
        let context: JSON = .object(JSONObject([
            ("activity", runtime.render.activity(source, canCancel: false)),
            ("project", .object(JSONObject([("id", .string(project.id)), ("title", .string(project.title)), ("region", .string(project.region)),
                                            ("default_branch", .string(project.defaultBranch)), ("organization", .string(project.organizationId)),
                                            ("created_at", .string(project.createdAt))]))),
            ("variables", .object(variables)),
        ]))
        let dir = (runtime.scriptDirectory as NSString).appendingPathComponent(ctx.activity.id)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, text) in [("context.json", context.serialized()), ("script.js", i.string("script") ?? ""), ("run.js", Self.harness), ("fetch.js", Self.fetcher)] {
            guard FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(text.utf8), attributes: [.posixPermissions: 0o644]) else {
                throw ActivityFailure("Cannot prepare the script.")
            }
        }
        try await ctx.log("Running the activity script of integration \(i.id) for \(source.type) (\(source.state.rawValue)).")
        let artifact = Artifact(key: "activity-script", hostPath: dir, appDir: "/app", runtimeEnvironment: [:], reused: true)
        let command = CommandSpec(environment: EnvironmentKey(projectId: project.id, environmentId: "_integrations"), app: "script", artifact: artifact,
                                  script: "exec node /app/run.js", variables: ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8"],
                                  mounts: [], size: "S", runtime: "nodejs:20", timeout: Self.timeLimit, logName: "activity-script",
                                  network: .isolatedWorld, indent: "  ")
        let status = try await apps.run(command) { try await ctx.log($0) }
        if status == 124 { throw ActivityFailure("The script did not finish within \(Self.timeLimit) seconds and was stopped.") }
        guard status == 0 else { throw ActivityFailure("The script failed (exit status \(status)).") }
    }

    /// Sets up the documented globals, then runs the script in this context.
    static let harness = #"""
    'use strict';
    const fs = require('fs');
    const childProcess = require('child_process');
    const context = JSON.parse(fs.readFileSync('/app/context.json', 'utf8'));
    globalThis.activity = context.activity;
    globalThis.project = context.project;
    globalThis.variables = () => Object.assign({}, context.variables);
    globalThis.fetch = function (url, options) {
      const r = childProcess.spawnSync(process.execPath, ['/app/fetch.js'], {
        input: JSON.stringify({ url: String(url), options: options || {} }), timeout: 15000, encoding: 'utf8' });
      let answer;
      try { answer = JSON.parse(r.stdout); } catch (e) { answer = { error: (r.stderr || 'fetch failed').trim() }; }
      if (answer.error) { throw new Error('fetch ' + url + ': ' + answer.error); }
      return { ok: answer.status >= 200 && answer.status < 300, status: answer.status, headers: answer.headers,
               body: answer.body, text: () => answer.body, json: () => JSON.parse(answer.body) };
    };
    const vm = require('vm');
    vm.runInThisContext(fs.readFileSync('/app/script.js', 'utf8'), { filename: 'activity-script.js' });
    """#

    /// One HTTP request for the synchronous `fetch`, printed as JSON.
    static let fetcher = #"""
    'use strict';
    let input = '';
    process.stdin.on('data', (d) => { input += d; });
    process.stdin.on('end', async () => {
      try {
        const { url, options } = JSON.parse(input);
        const r = await fetch(url, options);
        const headers = {};
        r.headers.forEach((v, k) => { headers[k] = v; });
        process.stdout.write(JSON.stringify({ status: r.status, headers, body: await r.text() }));
      } catch (e) {
        process.stdout.write(JSON.stringify({ error: String(e && e.cause ? e.cause : e) }));
      }
    });
    """#
}
