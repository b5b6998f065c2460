/// The durable records the platform keeps. They hold what the store persists; the API decides what is shown.

public struct User: Codable, Sendable, Equatable {
    /// ISO 3166 "unknown" (ZZ): the API requires a two-letter country and Grove does not ask for one.
    public static let unknownCountry = "ZZ"
    public var id: String
    public var username: String
    public var email: String
    public var firstName: String
    public var lastName: String
    public var passwordHash: String?
    public var emailVerified: Bool
    public var deactivated: Bool
    public var createdAt: String
    public var updatedAt: String

    public init(id: String, username: String, email: String, firstName: String = "", lastName: String = "",
                passwordHash: String? = nil, createdAt: String) {
        self.id = id; self.username = username; self.email = email; self.firstName = firstName; self.lastName = lastName
        self.passwordHash = passwordHash; self.emailVerified = true; self.deactivated = false
        self.createdAt = createdAt; self.updatedAt = createdAt
    }

    public var displayName: String {
        let n = [firstName, lastName].filter { !$0.isEmpty }.joined(separator: " ")
        return n.isEmpty ? username : n
    }
}

public struct APIToken: Codable, Sendable, Equatable {
    public var id: String
    public var userId: String
    public var name: String
    /// SHA-256 of the secret; the secret itself is shown once at creation and never stored.
    public var tokenHash: String
    public var createdAt: String
    public var updatedAt: String
    public var lastUsedAt: String?

    public init(id: String, userId: String, name: String, tokenHash: String, createdAt: String) {
        self.id = id; self.userId = userId; self.name = name; self.tokenHash = tokenHash
        self.createdAt = createdAt; self.updatedAt = createdAt
    }
}

public struct RefreshToken: Codable, Sendable, Equatable {
    public var id: String
    public var tokenHash: String
    public var userId: String
    public var grant: String
    public var expiresAt: String
    public var createdAt: String
    public init(id: String, tokenHash: String, userId: String, grant: String, expiresAt: String, createdAt: String) {
        self.id = id; self.tokenHash = tokenHash; self.userId = userId; self.grant = grant; self.expiresAt = expiresAt; self.createdAt = createdAt
    }
}

public struct Organization: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var label: String
    public var ownerId: String
    public var country: String
    public var createdAt: String
    public var updatedAt: String
    public init(id: String, name: String, label: String, ownerId: String, country: String = "", createdAt: String) {
        self.id = id; self.name = name; self.label = label; self.ownerId = ownerId; self.country = country
        self.createdAt = createdAt; self.updatedAt = createdAt
    }
}

public struct OrganizationMember: Codable, Sendable, Equatable {
    public var id: String
    public var organizationId: String
    public var userId: String
    public var permissions: [OrganizationPermission]
    public var owner: Bool
    public var createdAt: String
    public var updatedAt: String
    public init(id: String, organizationId: String, userId: String, permissions: [OrganizationPermission], owner: Bool, createdAt: String) {
        self.id = id; self.organizationId = organizationId; self.userId = userId; self.permissions = permissions; self.owner = owner
        self.createdAt = createdAt; self.updatedAt = createdAt
    }
    public func has(_ p: OrganizationPermission) -> Bool { owner || permissions.contains(.admin) || permissions.contains(p) }
}

public enum ProjectSettings {
    /// Settings a new project starts with; clients read these names from `GET /projects/{id}/settings`.
    public static let defaults: JSONObject = JSONObject([
        ("initialize", .object(JSONObject())),
        ("product_name", "Grove"),
        ("product_code", "grove"),
        ("ui_uri_template", "{public_url}/projects/{project}"),
        ("variables_prefix", "PLATFORM_"),
        ("bot_email", "bot@grove.local"),
        ("application_config_file", ".platform.app.yaml"),
        ("project_config_dir", ".platform"),
        ("use_drupal_defaults", false),
        ("use_legacy_subdomains", false),
        ("development_service_size", "S"),
        ("development_application_size", "S"),
        ("enable_certificate_provisioning", true),
        ("certificate_style", "ecdsa"),
        ("certificate_renewal_activity", true),
        ("development_domain_template", JSON.null),
        ("enable_state_api_deployments", true),
        ("temporary_disk_size", JSON.null),
        ("cron_minimum_interval", 5),
        ("cron_maximum_jitter", 20),
        ("concurrency_limits", .object(JSONObject([("default", 1)]))),
        ("flexible_build_cache", false),
        ("strict_configuration", true),
        ("has_sleepy_crons", false),
        ("crons_in_git", true),
        ("custom_error_template", JSON.null),
        ("app_error_page_template", JSON.null),
        ("environment_name_strategy", "name-and-hash"),
        ("data_retention", .object(JSONObject([
            ("production", .object(JSONObject([("max_backups", 12), ("default_config", .object(JSONObject([("manual_count", 3), ("schedule", .array([]))])))]))),
            ("development", .object(JSONObject([("max_backups", 3), ("default_config", .object(JSONObject([("manual_count", 3), ("schedule", .array([]))])))]))),
        ]))),
        ("enable_codesource_integration_push", true),
        ("enforce_mfa", false),
        ("systemd", true),
        ("router_gen2", false),
        ("build_resources", .object(JSONObject([("cpu", 1.0), ("memory", 2048)]))),
        ("outbound_restrictions_default_policy", "allow"),
        ("self_upgrade", true),
        ("additional_hosts", .object(JSONObject())),
        ("max_allowed_routes", 50000),
        ("max_allowed_redirects_paths", 50000),
        ("enable_incremental_backups", false),
        ("sizing_api_enabled", false),
        ("enable_cache_grace_period", true),
        ("enable_zero_downtime_deployments", false),
        ("enable_admin_agent", false),
        ("certifier_url", ""),
        ("centralized_permissions", true),
        ("glue_server_max_request_size", 1_048_576),
        ("persistent_endpoints_ssh", false),
        ("persistent_endpoints_ssl_certificates", false),
        ("enable_disk_health_monitoring", false),
        ("enable_paused_environments", true),
        ("enable_unified_configuration", true),
        ("enable_routes_tracing", false),
        ("image_deployment_validation", true),
        ("support_generic_images", false),
        ("enable_github_app_token_exchange", false),
        ("continuous_profiling", .object(JSONObject([("supported_runtimes", .array([]))]))),
        ("disable_agent_error_reporter", false),
        ("requires_domain_ownership", false),
        ("enable_guaranteed_resources", false),
        ("git_server", .object(JSONObject([("push_size_hard_limit", 1_073_741_824)]))),
        ("activity_logs_max_size", 10_485_760),
        ("allow_manual_deployments", true),
        ("allow_rolling_deployments", false),
        ("allow_burst", false),
        ("router_resources", .object(JSONObject([("baseline_cpu", 0.0), ("baseline_memory", 0), ("max_cpu", 0.0), ("max_memory", 0)]))),
        // Concepts Grove does not have, at their neutral values (docs/api.md).
        ("allow_activity_reschedule", false),
        ("allow_scaling_to_zero", false),
        ("cron_production_expiry_interval", 0),
        ("cron_non_production_expiry_interval", 0),
        ("enable_explicit_empty_routes", false),
        ("local_disk_size", JSON.null),
        ("locations_script_default", false),
        ("maintenance_window", JSON.null),
        ("save_applications_vendors", false),
        ("self_upgrade_latest_major", false),
        ("support_oci_images", false),
    ])
}

public struct Project: Codable, Sendable, Equatable {
    public var id: String
    public var organizationId: String
    public var ownerId: String
    public var subscriptionId: String
    public var title: String
    public var description: String
    public var defaultBranch: String
    public var region: String
    public var timezone: String
    public var attributes: JSONObject
    public var plan: String
    public var environmentsLimit: Int
    public var storage: Int
    public var userLicenses: Int
    /// Random per-project value exposed later as PLATFORM_PROJECT_ENTROPY.
    public var entropy: String
    public var settings: JSONObject
    public var createdAt: String
    public var updatedAt: String

    public init(id: String, organizationId: String, ownerId: String, subscriptionId: String, title: String, defaultBranch: String,
                region: String, createdAt: String) {
        self.id = id; self.organizationId = organizationId; self.ownerId = ownerId; self.subscriptionId = subscriptionId
        self.title = title; self.description = ""; self.defaultBranch = defaultBranch; self.region = region
        self.timezone = "UTC"; self.attributes = JSONObject(); self.plan = "development"; self.environmentsLimit = 3
        self.storage = 5120; self.userLicenses = 1; self.entropy = Identifier.secret(bytes: 24)
        self.settings = ProjectSettings.defaults
        self.createdAt = createdAt; self.updatedAt = createdAt
    }
}

public enum SubscriptionStatus: String, Codable, Sendable {
    case requested, provisioning, active, suspended, deleted
    case provisioningFailure = "provisioning failure"
}

public struct Subscription: Codable, Sendable, Equatable {
    public var id: String
    public var organizationId: String
    public var ownerId: String
    public var projectId: String?
    public var status: SubscriptionStatus
    public var plan: String
    public var projectRegion: String
    public var projectTitle: String
    public var defaultBranch: String
    public var environments: Int
    public var storage: Int
    public var userLicenses: Int
    public var createdAt: String
    public var updatedAt: String

    public init(id: String, organizationId: String, ownerId: String, plan: String, projectRegion: String, projectTitle: String,
                defaultBranch: String, environments: Int, storage: Int, createdAt: String) {
        self.id = id; self.organizationId = organizationId; self.ownerId = ownerId; self.status = .requested; self.plan = plan
        self.projectRegion = projectRegion; self.projectTitle = projectTitle; self.defaultBranch = defaultBranch
        self.environments = environments; self.storage = storage; self.userLicenses = 1
        self.createdAt = createdAt; self.updatedAt = createdAt
    }
}

public struct HTTPAccess: Codable, Sendable, Equatable {
    public struct Address: Codable, Sendable, Equatable {
        public var permission: String
        public var address: String
        public init(permission: String, address: String) { self.permission = permission; self.address = address }
    }
    public var isEnabled: Bool
    public var addresses: [Address]
    public var basicAuth: [String: String]
    public init(isEnabled: Bool = true, addresses: [Address] = [], basicAuth: [String: String] = [:]) {
        self.isEnabled = isEnabled; self.addresses = addresses; self.basicAuth = basicAuth
    }
}

public struct Environment: Codable, Sendable, Equatable {
    public var projectId: String
    public var id: String
    public var name: String
    public var machineName: String
    public var title: String
    public var type: EnvironmentType
    public var parent: String?
    public var status: EnvironmentStatus
    public var attributes: JSONObject
    public var cloneParentOnCreate: Bool
    public var enableSmtp: Bool
    public var restrictRobots: Bool
    public var httpAccess: HTTPAccess
    public var headCommit: String?
    public var isMain: Bool
    public var deploymentTarget: String
    public var lastActiveAt: String?
    public var lastBackupAt: String?
    public var createdAt: String
    public var updatedAt: String

    public init(projectId: String, name: String, title: String, type: EnvironmentType, parent: String?, status: EnvironmentStatus,
                isMain: Bool, createdAt: String) {
        self.projectId = projectId; self.id = name; self.name = name
        self.machineName = EnvironmentName.machineName(for: name)
        self.title = title; self.type = type; self.parent = parent; self.status = status; self.attributes = JSONObject()
        self.cloneParentOnCreate = true; self.enableSmtp = type == .production; self.restrictRobots = type != .production
        self.httpAccess = HTTPAccess(); self.headCommit = nil; self.isMain = isMain; self.deploymentTarget = "local"
        self.createdAt = createdAt; self.updatedAt = createdAt
    }

    public var hasCode: Bool { headCommit != nil }
}

public struct Variable: Codable, Sendable, Equatable {
    public var projectId: String
    /// nil for a project-level variable.
    public var environmentId: String?
    public var name: String
    public var value: String
    public var attributes: JSONObject
    public var isJson: Bool
    public var isSensitive: Bool
    public var visibleBuild: Bool
    public var visibleRuntime: Bool
    public var applicationScope: [String]
    public var isInheritable: Bool
    public var isEnabled: Bool
    public var createdAt: String
    public var updatedAt: String

    public init(projectId: String, environmentId: String?, name: String, value: String, createdAt: String) {
        self.projectId = projectId; self.environmentId = environmentId; self.name = name; self.value = value
        self.attributes = JSONObject(); self.isJson = false; self.isSensitive = false; self.visibleBuild = true
        self.visibleRuntime = true; self.applicationScope = []; self.isInheritable = true; self.isEnabled = true
        self.createdAt = createdAt; self.updatedAt = createdAt
    }
}

/// A user's grant on one project; organization owners and admins need none.
public struct ProjectGrant: Codable, Sendable, Equatable {
    public var projectId: String
    public var userId: String
    public var permissions: [String]
    public var grantedAt: String
    public var updatedAt: String
    public init(projectId: String, userId: String, permissions: [String], grantedAt: String) {
        self.projectId = projectId; self.userId = userId; self.permissions = permissions; self.grantedAt = grantedAt; self.updatedAt = grantedAt
    }
}
