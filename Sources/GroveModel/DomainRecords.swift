/// A custom domain. Production domains belong to the project (`environmentId` nil); a preview environment's
/// domain replaces one production domain on that environment (`replacementFor`).
public struct Domain: Codable, Sendable, Equatable {
    public var projectId: String
    public var environmentId: String?
    public var name: String
    public var attributes: [String: String]
    public var isDefault: Bool
    public var replacementFor: String?
    public var createdAt: String
    public var updatedAt: String

    public init(projectId: String, environmentId: String?, name: String, createdAt: String) {
        self.projectId = projectId; self.environmentId = environmentId; self.name = name
        attributes = [:]; isDefault = false; replacementFor = nil
        self.createdAt = createdAt; self.updatedAt = createdAt
    }

    /// `prod` or `replacement`, as the API names the two kinds.
    public var type: String { replacementFor == nil ? "prod" : "replacement" }

    /// The registrable part of the name (`www.example.com` -> `example.com`).
    public var registeredName: String {
        let labels = name.split(separator: ".")
        return labels.count <= 2 ? name : labels.suffix(2).joined(separator: ".")
    }

    /// Lower-case labels of letters, digits and hyphens, at least two of them, none starting or ending with a hyphen.
    public static func isValidName(_ name: String) -> Bool {
        guard name.count <= 253, name == name.lowercased() else { return false }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        return labels.allSatisfy { l in
            !l.isEmpty && l.count <= 63 && !l.hasPrefix("-") && !l.hasSuffix("-")
                && l.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" }
        }
    }
}

/// A user-supplied TLS certificate with its private key (never returned by the API).
public struct TLSCertificate: Codable, Sendable, Equatable {
    public struct IssuerAttribute: Codable, Sendable, Equatable {
        public var oid: String
        public var alias: String
        public var value: String
        public init(oid: String, alias: String, value: String) { self.oid = oid; self.alias = alias; self.value = value }
    }

    public var projectId: String
    public var id: String
    public var certificate: String
    public var key: String
    public var chain: [String]
    public var isInvalid: Bool
    public var isRoot: Bool
    public var domains: [String]
    public var issuer: [IssuerAttribute]
    public var expiresAt: String
    public var createdAt: String
    public var updatedAt: String

    public init(projectId: String, id: String, certificate: String, key: String, chain: [String], isRoot: Bool, domains: [String],
                issuer: [IssuerAttribute], expiresAt: String, createdAt: String) {
        self.projectId = projectId; self.id = id; self.certificate = certificate; self.key = key; self.chain = chain
        isInvalid = false; self.isRoot = isRoot; self.domains = domains; self.issuer = issuer; self.expiresAt = expiresAt
        self.createdAt = createdAt; self.updatedAt = createdAt
    }
}

/// A snapshot of an environment's service data and mounts, with the commit it ran.
public struct Backup: Codable, Sendable, Equatable {
    public var projectId: String
    public var environmentId: String
    public var id: String
    public var commitId: String?
    public var safe: Bool
    public var status: String
    public var sizeOfVolumes: Int64
    public var sizeUsed: Int64
    public var restorable: Bool
    public var automated: Bool
    public var attributes: [String: String]
    /// How the data is kept: the volume driver's snapshot or copy.
    public var method: String
    public var createdAt: String
    public var updatedAt: String
    public var expiresAt: String?

    public init(projectId: String, environmentId: String, id: String, commitId: String?, safe: Bool, method: String, createdAt: String) {
        self.projectId = projectId; self.environmentId = environmentId; self.id = id; self.commitId = commitId; self.safe = safe
        status = "CREATED"; sizeOfVolumes = 0; sizeUsed = 0; restorable = true; automated = false; attributes = [:]
        self.method = method; self.createdAt = createdAt; updatedAt = createdAt; expiresAt = nil
    }
}
