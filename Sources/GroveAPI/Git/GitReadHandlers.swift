import GroveGit
import GroveModel

/// `/projects/{projectId}/git/*`: read-only views of the repository (refs, commits, trees, blobs).
enum GitReadHandlers {
    static func register(_ r: inout Routes, _ s: ServerContext) {
        @Sendable func reader(_ req: APIRequest) async throws -> GitReader {
            let (p, _) = try req.project()
            guard s.repositories.exists(p.id) else { throw APIError.notFound("Repository of project \(p.id)") }
            return GitReader(repositories: s.repositories, projectId: p.id)
        }
        @Sendable func run(_ what: String, _ body: () async throws -> JSON) async throws -> APIResponse {
            do { return .json(.ok, try await body()) } catch let e as GitReader.ReadError {
                switch e {
                case .notFound: throw APIError.notFound(what)
                case .invalidId: throw APIError.badRequest("\(what) is not a git object id (4 to 64 hexadecimal digits)")
                }
            }
        }
        r.add("list-projects-git-refs") { req in
            let g = try await reader(req)
            return try await run("Refs") { .array(try await g.refs()) }
        }
        r.add("get-projects-git-refs") { req in
            let g = try await reader(req)
            return try await run("Ref \(req.param("repositoryRefId"))") { try await g.ref(req.param("repositoryRefId")) }
        }
        r.add("get-projects-git-commits") { req in
            let g = try await reader(req)
            return try await run("Commit \(req.param("repositoryCommitId"))") { try await g.commit(req.param("repositoryCommitId")) }
        }
        r.add("get-projects-git-trees") { req in
            let g = try await reader(req)
            return try await run("Tree \(req.param("repositoryTreeId"))") { try await g.tree(req.param("repositoryTreeId")) }
        }
        r.add("list-projects-git-diffs") { req in
            let g = try await reader(req)
            return try await run("Diff \(req.param("diffBaseId"))..\(req.param("diffTargetId"))") {
                .array(try await g.diffs(base: req.param("diffBaseId"), target: req.param("diffTargetId")))
            }
        }
        r.add("get-projects-git-blobs") { req in
            let g = try await reader(req)
            return try await run("Blob \(req.param("repositoryBlobId"))") { try await g.blob(req.param("repositoryBlobId")) }
        }
    }
}
