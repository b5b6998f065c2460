import Foundation
import GroveModel
import GroveStore
import GroveTLS

/// User-supplied TLS certificates. The router serves each for the https hosts its names cover, at once.
/// The private key is kept for the router and never returned.
enum CertificateHandlers {
    static func register(_ r: inout Routes, _ s: ServerContext) {
        r.add("list-projects-certificates") { req in
            let (p, l) = try req.project()
            return .json(.ok, .array(try await s.store.certificates(projectId: p.id).map { render(s, $0, canManage: l.permits(.administer)) }))
        }
        r.add("create-projects-certificates") { req in
            let (p, l) = try req.project()
            try s.requireProjectAdmin(l)
            let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: ["certificate", "key", "chain", "is_invalid"])
            guard let cert = try b.string("certificate", required: true, nonEmpty: true, maxLength: 1 << 16),
                  let key = try b.string("key", required: true, nonEmpty: true, maxLength: 1 << 16) else {
                throw APIError.badRequest("certificate and key are required")
            }
            let chain = try b.stringArray("chain") ?? []
            let bundle = try check(certificate: cert, key: key, chain: chain)
            var c = TLSCertificate(projectId: p.id, id: bundle.id, certificate: cert, key: key, chain: chain, isRoot: bundle.isRoot,
                                   domains: bundle.domains, issuer: bundle.issuer.map { .init(oid: $0.oid, alias: $0.alias, value: $0.value) },
                                   expiresAt: Timestamp.format(bundle.expiresAt), createdAt: Timestamp.now())
            c.isInvalid = try b.bool("is_invalid") ?? false
            do { try await s.store.insertCertificate(c) } catch StoreError.conflict {
                throw APIError.conflict("This certificate is already added to the project.")
            }
            let a = try await refresh(s, p, req, action: "added a certificate to")
            return .json(.created, resultEnvelope(render(s, c, canManage: true), activities: [s.render.activity(a, canCancel: false)], code: 201))
        }
        r.add("get-projects-certificates") { req in
            let (p, l) = try req.project()
            return .json(.ok, render(s, try await find(s, p, req.param("certificateId")), canManage: l.permits(.administer)))
        }
        r.add("update-projects-certificates") { req in
            let (p, l) = try req.project()
            try s.requireProjectAdmin(l)
            var c = try await find(s, p, req.param("certificateId"))
            let b = try BodyReader(try req.jsonObject(allowEmpty: false), allowed: ["chain", "is_invalid"])
            if let chain = try b.stringArray("chain") {
                _ = try check(certificate: c.certificate, key: c.key, chain: chain)
                c.chain = chain
            }
            if let invalid = try b.bool("is_invalid") { c.isInvalid = invalid }
            c.updatedAt = Timestamp.now()
            try await s.store.updateCertificate(c)
            let a = try await refresh(s, p, req, action: "updated a certificate of")
            return .json(.ok, resultEnvelope(render(s, c, canManage: true), activities: [s.render.activity(a, canCancel: false)]))
        }
        r.add("delete-projects-certificates") { req in
            let (p, l) = try req.project()
            try s.requireProjectAdmin(l)
            let c = try await find(s, p, req.param("certificateId"))
            try await s.store.deleteCertificate(projectId: p.id, id: c.id)
            let a = try await refresh(s, p, req, action: "deleted a certificate of")
            return .json(.ok, resultEnvelope(nil, activities: [s.render.activity(a, canCancel: false)]))
        }
    }

    static func check(certificate: String, key: String, chain: [String]) throws -> CertificateBundle {
        do { return try CertificateBundle(certificate: certificate, key: key, chain: chain) } catch {
            switch error { case .invalid(let field, let reason): throw APIError.badRequest(reason, field: field) }
        }
    }

    /// The routers of the project's environments take the change through an activity on the worker; the answer waits
    /// for it, so the certificate is served (or the failure known) when it comes.
    static func refresh(_ s: ServerContext, _ p: Project, _ req: APIRequest, action: String) async throws -> Activity {
        let a = s.makeActivity(type: "project.certificate.refresh", project: p, environment: nil, user: try req.requireUser(), action: action + " the project")
        let done = try await s.runOnWorker(a)
        if done?.result == .failure {
            s.logger.error("router did not take the certificate change", metadata: ["project": "\(p.id)", "activity": "\(a.id)"])
            throw APIError(.internalServerError, "The certificate is saved but the router did not load it: see activity \(a.id)")
        }
        return done ?? a
    }

    static func find(_ s: ServerContext, _ p: Project, _ id: String) async throws -> TLSCertificate {
        guard let c = try await s.store.certificate(projectId: p.id, id: id) else { throw APIError.notFound("Certificate \(id)") }
        return c
    }

    static func render(_ s: ServerContext, _ c: TLSCertificate, canManage: Bool) -> JSON {
        var l = Links(base: s.publicURL)
        let path = "/projects/\(c.projectId)/certificates/\(c.id)"
        l.add("self", path)
        if canManage {
            l.add("#edit", path, method: "patch")
            l.add("#delete", path, method: "delete")
        }
        return .object(JSONObject([
            ("id", .string(c.id)), ("created_at", .string(c.createdAt)), ("updated_at", .string(c.updatedAt)),
            ("certificate", .string(c.certificate)), ("chain", JSON(c.chain)), ("is_provisioned", false),
            ("is_invalid", .bool(c.isInvalid)), ("is_root", .bool(c.isRoot)), ("domains", JSON(c.domains)), ("auth_type", .array([])),
            ("issuer", .array(c.issuer.map { .object(JSONObject([("oid", .string($0.oid)), ("alias", .string($0.alias)), ("value", .string($0.value))])) })),
            ("expires_at", .string(c.expiresAt)), ("_links", l.json),
        ]))
    }
}
