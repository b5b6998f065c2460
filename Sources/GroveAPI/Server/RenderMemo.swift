import GroveModel

/// Everything an environment's API document is made of: the record, what the caller may do, whether it is busy, what
/// runs, where SSH is, and the base of its links. Equal inputs render equal bytes, so the bytes can be remembered.
struct EnvironmentRenderKey: Hashable, Sendable {
    let environment: Environment
    let defaultBranch: String
    let access: ProjectAccessLevel
    let busy: Bool
    let deployment: DeploymentSummary?
    let sshEndpoint: String?
    let base: String

    // Hashes what tells records apart cheaply; equality still compares every input.
    func hash(into h: inout Hasher) {
        h.combine(environment.id)
        h.combine(environment.updatedAt)
        h.combine(busy)
    }
}

extension ServerContext {
    /// One environment's API JSON as bytes; a list re-renders only the environments whose inputs changed since the
    /// last time (the whole input is the key, so nothing is ever served stale).
    func renderedEnvironment(_ e: Environment, project: Project, access: ProjectAccessLevel, busy: Bool, deployment: DeploymentSummary?,
                             sshEndpoint: String?) -> [UInt8] {
        let renderer = render
        let key = EnvironmentRenderKey(environment: e, defaultBranch: project.defaultBranch, access: access, busy: busy, deployment: deployment,
                                       sshEndpoint: sshEndpoint, base: renderer.base)
        return environmentRenders.value(for: key, cost: 4096) {
            renderer.environment(e, project: project, access: access, busy: busy, deployment: deployment, sshEndpoint: sshEndpoint).bytes
        }
    }
}
