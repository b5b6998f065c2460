import Foundation
import GroveModel
import GroveOrchestrator

/// `integration.<provider>.status`: sets the commit status of a push that came from the provider.
struct CommitStatusRunner: ActivityRunner {
    let runtime: IntegrationRuntime
    var resumable: Bool { true }

    func run(_ ctx: ActivityContext) async throws {
        guard let i = try await integration(of: ctx) else { return }
        let p = ctx.activity.parameters
        guard let commit = p["commit"]?.stringValue, let state = p["status"]?.stringValue else { return }
        let env = p["environment"]?.stringValue ?? ""
        let target = runtime.publicURL.value + "/console/projects/\(i.projectId)/environments/\(env)"
        let description = state == "pending" ? "Grove is deploying \(env)" : state == "success" ? "Deployed to \(env)" : "The deployment of \(env) failed"
        guard let request = SourceProvider.statusRequest(i, commit: commit, state: state, targetURL: target, description: description,
                                                         endpoints: runtime.providers) else { return }
        let credentials: (git: String?, api: [(String, String)])
        do {
            credentials = try await SourceProvider.credentials(i, try IntegrationSecrets.open(ctx.store, i), endpoints: runtime.providers, policy: runtime.outbound)
        } catch { throw ActivityFailure("\(error)") }
        try await deliver(ctx, runtime: runtime, url: request.url, headers: credentials.api, body: request.body.bytes, what: "the \(state) status of \(commit.prefix(7))")
    }
}
