import Foundation

/// A record kept in the store's documents table: found by id, by parent and by one reference.
public protocol DocumentRecord: Codable, Sendable {
    static var kind: String { get }
    var documentId: String { get }
    var documentParent: String { get }
    var documentRef: String { get }
    var createdAt: String { get }
}

/// A team of an organization; its project permissions apply on every project it is given access to.
public struct Team: DocumentRecord, Equatable {
    public static let kind = "team"
    public var id: String
    public var organizationId: String
    public var label: String
    public var projectPermissions: [String]
    public var createdAt: String
    public var updatedAt: String
    public var documentId: String { id }
    public var documentParent: String { organizationId }
    public var documentRef: String { "" }
    public init(id: String, organizationId: String, label: String, projectPermissions: [String], createdAt: String) {
        self.id = id; self.organizationId = organizationId; self.label = label; self.projectPermissions = projectPermissions
        self.createdAt = createdAt; self.updatedAt = createdAt
    }
}

public struct TeamMember: DocumentRecord, Equatable {
    public static let kind = "team_member"
    public var teamId: String
    public var userId: String
    public var createdAt: String
    public var updatedAt: String
    public var documentId: String { teamId + "/" + userId }
    public var documentParent: String { teamId }
    public var documentRef: String { userId }
    public init(teamId: String, userId: String, createdAt: String) {
        self.teamId = teamId; self.userId = userId; self.createdAt = createdAt; self.updatedAt = createdAt
    }
}

/// A team's access to a project (with the team's project permissions).
public struct TeamProjectAccess: DocumentRecord, Equatable {
    public static let kind = "team_access"
    public var teamId: String
    public var projectId: String
    public var createdAt: String
    public var updatedAt: String
    public var documentId: String { teamId + "/" + projectId }
    public var documentParent: String { teamId }
    public var documentRef: String { projectId }
    public init(teamId: String, projectId: String, createdAt: String) {
        self.teamId = teamId; self.projectId = projectId; self.createdAt = createdAt; self.updatedAt = createdAt
    }
}

public struct SSHKey: DocumentRecord, Equatable {
    public static let kind = "ssh_key"
    public var keyId: Int64
    public var userId: String
    public var title: String
    public var value: String
    public var fingerprint: String
    public var createdAt: String
    public var changed: String
    public var documentId: String { String(keyId) }
    public var documentParent: String { userId }
    /// Unique across users: one key identifies one user to the git and SSH servers.
    public var documentRef: String { fingerprint }
    public init(keyId: Int64, userId: String, title: String, value: String, fingerprint: String, createdAt: String) {
        self.keyId = keyId; self.userId = userId; self.title = title; self.value = value; self.fingerprint = fingerprint
        self.createdAt = createdAt; self.changed = createdAt
    }
}

/// A certificate `POST /ssh` issued: the key it certified stands for its user until the certificate expires.
/// (Grove's SSH server accepts the key itself for that time; see docs/architecture.md, "SSH".)
public struct IssuedSSHCertificate: DocumentRecord, Equatable {
    public static let kind = "ssh_certificate"
    public var serial: String
    public var userId: String
    /// The certified key's fingerprint (`SHA256:…`).
    public var fingerprint: String
    /// Seconds since the epoch after which neither the certificate nor the key counts.
    public var validBefore: Int64
    /// Issued from a token obtained with a second factor.
    public var mfa: Bool
    public var createdAt: String
    public var documentId: String { serial }
    public var documentParent: String { userId }
    public var documentRef: String { fingerprint }
    public init(serial: String, userId: String, fingerprint: String, validBefore: Int64, mfa: Bool, createdAt: String) {
        self.serial = serial; self.userId = userId; self.fingerprint = fingerprint; self.validBefore = validBefore; self.mfa = mfa
        self.createdAt = createdAt
    }
}

/// An invitation by email to an organization (permissions) or a project (permissions, as user-access).
public struct Invitation: DocumentRecord, Equatable {
    public static let kind = "invitation"
    public enum Target: String, Codable, Sendable { case organization, project }
    public enum State: String, Codable, Sendable { case pending, processing, accepted, cancelled, error }
    public var id: String
    public var target: Target
    /// The organization or project id.
    public var targetId: String
    public var email: String
    public var permissions: [String]
    public var state: State
    public var ownerId: String
    /// SHA-256 of the secret sent in the link; the secret itself is never stored.
    public var tokenHash: String
    public var createdAt: String
    public var updatedAt: String
    public var finishedAt: String?
    public var expiresAt: String
    public var documentId: String { id }
    public var documentParent: String { target.rawValue + ":" + targetId }
    public var documentRef: String { tokenHash }
    public init(id: String, target: Target, targetId: String, email: String, permissions: [String], ownerId: String, tokenHash: String,
                createdAt: String, expiresAt: String) {
        self.id = id; self.target = target; self.targetId = targetId; self.email = email; self.permissions = permissions
        self.state = .pending; self.ownerId = ownerId; self.tokenHash = tokenHash
        self.createdAt = createdAt; self.updatedAt = createdAt; self.finishedAt = nil; self.expiresAt = expiresAt
    }
}

/// A user's TOTP second factor: pending until a code confirms it; recovery codes kept hashed.
public struct TOTPEnrollment: DocumentRecord, Equatable {
    public static let kind = "totp"
    public var userId: String
    public var secret: String
    public var confirmed: Bool
    public var recoveryCodeHashes: [String]
    /// The last time step a code was accepted for, so a code works once.
    public var lastStep: Int64
    public var createdAt: String
    public var documentId: String { userId }
    public var documentParent: String { "" }
    public var documentRef: String { "" }
    public init(userId: String, secret: String, createdAt: String) {
        self.userId = userId; self.secret = secret; self.confirmed = false; self.recoveryCodeHashes = []; self.lastStep = 0
        self.createdAt = createdAt
    }
}

/// Whether an organization requires its members to use a second factor.
public struct MFAEnforcement: DocumentRecord, Equatable {
    public static let kind = "mfa_enforcement"
    public var organizationId: String
    public var enforced: Bool
    public var createdAt: String
    public var documentId: String { organizationId }
    public var documentParent: String { "" }
    public var documentRef: String { "" }
    public init(organizationId: String, enforced: Bool, createdAt: String) {
        self.organizationId = organizationId; self.enforced = enforced; self.createdAt = createdAt
    }
}

/// A user's postal address (profiles API).
public struct Address: DocumentRecord, Equatable {
    public static let kind = "address"
    public static let fields = ["country", "name_line", "premise", "sub_premise", "thoroughfare", "administrative_area",
                                "sub_administrative_area", "locality", "dependent_locality", "postal_code"]
    public var userId: String
    public var values: [String: String]
    public var createdAt: String
    public var documentId: String { userId }
    public var documentParent: String { "" }
    public var documentRef: String { "" }
    public init(userId: String, values: [String: String], createdAt: String) { self.userId = userId; self.values = values; self.createdAt = createdAt }
}

/// Profile settings beyond the user record (company, UI preferences), as the profiles API names them.
public struct ProfileExtras: DocumentRecord, Equatable {
    public static let kind = "profile"
    public static let stringFields = ["company_type", "company_name", "vat_number", "company_role", "ui_colorscheme", "default_catalog",
                                      "project_options_url", "picture", "website_url"]
    public var userId: String
    public var values: [String: String]
    public var marketing: Bool
    public var createdAt: String
    public var documentId: String { userId }
    public var documentParent: String { "" }
    public var documentRef: String { "" }
    public init(userId: String, values: [String: String] = [:], marketing: Bool = false, createdAt: String) {
        self.userId = userId; self.values = values; self.marketing = marketing; self.createdAt = createdAt
    }
}

/// A link mailed to confirm a change to an account: a new email address or a password reset. Only the hash of the
/// link's secret is stored; a link works once and until it expires.
public struct AccountLink: DocumentRecord, Equatable {
    public static let kind = "account_link"
    public enum Purpose: String, Codable, Sendable { case emailChange = "email_change", passwordReset = "password_reset" }
    public var id: String
    public var userId: String
    public var purpose: Purpose
    /// The new address (email changes only).
    public var email: String?
    public var tokenHash: String
    public var createdAt: String
    public var expiresAt: String
    /// When the link was used, or replaced by a newer one of the same purpose.
    public var finishedAt: String?
    public var documentId: String { id }
    public var documentParent: String { userId }
    public var documentRef: String { tokenHash }
    public init(id: String, userId: String, purpose: Purpose, email: String?, tokenHash: String, createdAt: String, expiresAt: String) {
        self.id = id; self.userId = userId; self.purpose = purpose; self.email = email; self.tokenHash = tokenHash
        self.createdAt = createdAt; self.expiresAt = expiresAt; self.finishedAt = nil
    }
}
