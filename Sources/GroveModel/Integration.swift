import Foundation

/// A project's connection to something outside Grove: a source repository, an activity webhook or script, a health
/// notification channel, a log sink. Public settings are kept as given; secrets (tokens, keys, header values) are
/// kept apart, sealed by the API before they reach the store, and never rendered.
public struct Integration: DocumentRecord, Equatable {
    public static let kind = "integration"
    public var id: String
    public var projectId: String
    public var type: String
    /// The public fields, as the API renders them.
    public var settings: JSONObject
    /// The secret fields as one sealed JSON object (`SecretSealer` form); empty when there are none.
    public var sealedSecrets: String
    /// Source integrations: the sealed secret provider deliveries are signed or authenticated with.
    public var sealedHookSecret: String
    public var createdAt: String
    public var updatedAt: String
    public var documentId: String { id }
    public var documentParent: String { projectId }
    public var documentRef: String { type }

    public init(id: String = Identifier.short(), projectId: String, type: String, settings: JSONObject, sealedSecrets: String,
                sealedHookSecret: String, createdAt: String) {
        self.id = id; self.projectId = projectId; self.type = type; self.settings = settings; self.sealedSecrets = sealedSecrets
        self.sealedHookSecret = sealedHookSecret; self.createdAt = createdAt; self.updatedAt = createdAt
    }

    public var spec: IntegrationSpec? { IntegrationSpec.named(type) }
    public func string(_ key: String) -> String? { settings[key]?.stringValue }
    public func bool(_ key: String) -> Bool { settings[key]?.boolValue ?? false }
    public func strings(_ key: String) -> [String] { settings[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
}

/// What each integration type accepts: its fields, their kinds and defaults, which are secret.
public struct IntegrationSpec: Sendable {
    public enum Role: String, Sendable { case source, webhook, script, health, logs }

    public enum Kind: Sendable, Equatable {
        case string, nullableString, bool, int, strings, stringMap
        case choice([String])
        /// A write-only string: accepted, stored sealed, never rendered.
        case secret
        /// A string map whose values are secret (HTTP headers): names rendered, values masked.
        case secretHeaders
        /// An object of credentials: `publicKeys` rendered, `secretKeys` sealed.
        case credentials(publicKeys: [String], secretKeys: [String])
        /// Shown, never set through the API.
        case readOnly
    }

    public struct Field: Sendable {
        public let name: String
        public let kind: Kind
        public let defaultValue: JSON
        public let requiredOnCreate: Bool
        init(_ name: String, _ kind: Kind, _ defaultValue: JSON = .null, required: Bool = false) {
            self.name = name; self.kind = kind; self.defaultValue = defaultValue; self.requiredOnCreate = required
        }
        public var isSecret: Bool {
            switch kind {
            case .secret, .secretHeaders, .credentials: return true
            default: return false
            }
        }
    }

    public let type: String
    public let role: Role
    public let fields: [Field]

    public static func named(_ type: String) -> IntegrationSpec? { all.first { $0.type == type } }

    /// Types Platform.sh has that depend on a vendor's closed service.
    public static let refused: [String: String] = [
        "blackfire": "Blackfire integrations need Blackfire's own service, which Grove does not run.",
        "fastly": "Fastly integrations need Fastly's CDN, which Grove does not drive.",
        "newrelic-apm": "New Relic APM needs New Relic's agent service.",
    ]

    static let sourceCommon: [Field] = [
        Field("fetch_branches", .bool, true), Field("prune_branches", .bool, true),
        Field("environment_init_resources", .choice(["default", "manual", "minimum", "parent"]), "default"),
    ]
    static let activityFilters: [Field] = [
        Field("events", .strings, ["*"]), Field("environments", .strings, ["*"]), Field("excluded_environments", .strings, []),
        Field("states", .strings, ["complete"]), Field("result", .choice(["*", "failure", "success"]), "*"),
    ]
    static let logCommon: [Field] = [
        Field("extra", .stringMap, .object(JSONObject())), Field("tls_verify", .bool, true), Field("excluded_services", .strings, []),
    ]

    public static let all: [IntegrationSpec] = [
        IntegrationSpec(type: "github", role: .source, fields: sourceCommon + [
            Field("token", .secret, required: true), Field("base_url", .nullableString), Field("repository", .string, required: true),
            Field("build_pull_requests", .bool, true), Field("build_draft_pull_requests", .bool, true),
            Field("build_pull_requests_post_merge", .bool, false), Field("pull_requests_clone_parent_data", .bool, true),
            Field("token_type", .readOnly, "classic_personal_token"),
        ]),
        IntegrationSpec(type: "gitlab", role: .source, fields: sourceCommon + [
            Field("token", .secret, required: true), Field("base_url", .string, "https://gitlab.com"), Field("project", .string, required: true),
            Field("build_merge_requests", .bool, true), Field("build_wip_merge_requests", .bool, true),
            Field("merge_requests_clone_parent_data", .bool, true), Field("rotate_token", .bool, false),
            Field("rotate_token_validity_in_weeks", .int, 0), Field("token_expires_at", .readOnly),
        ]),
        IntegrationSpec(type: "bitbucket", role: .source, fields: sourceCommon + [
            Field("repository", .string, required: true),
            Field("app_credentials", .credentials(publicKeys: ["key"], secretKeys: ["secret"])),
            Field("addon_credentials", .credentials(publicKeys: ["addon_key", "client_key"], secretKeys: ["shared_secret"])),
            Field("build_pull_requests", .bool, true), Field("pull_requests_clone_parent_data", .bool, true),
            Field("resync_pull_requests", .bool, false),
        ]),
        IntegrationSpec(type: "bitbucket_server", role: .source, fields: sourceCommon + [
            Field("url", .string, required: true), Field("username", .string, required: true), Field("token", .secret, required: true),
            Field("project", .string, required: true), Field("repository", .string, required: true),
            Field("build_pull_requests", .bool, true), Field("pull_requests_clone_parent_data", .bool, true),
        ]),
        IntegrationSpec(type: "webhook", role: .webhook, fields: activityFilters + [
            Field("url", .string, required: true), Field("shared_key", .secret),
        ]),
        IntegrationSpec(type: "script", role: .script, fields: activityFilters + [Field("script", .string, required: true)]),
        IntegrationSpec(type: "health.email", role: .health, fields: [
            Field("from_address", .nullableString), Field("recipients", .strings, required: true),
        ]),
        IntegrationSpec(type: "health.webhook", role: .health, fields: [Field("url", .string, required: true), Field("shared_key", .secret)]),
        IntegrationSpec(type: "health.slack", role: .health, fields: [Field("token", .secret, required: true), Field("channel", .string, required: true)]),
        IntegrationSpec(type: "health.pagerduty", role: .health, fields: [Field("routing_key", .string, required: true)]),
        IntegrationSpec(type: "syslog", role: .logs, fields: logCommon + [
            Field("host", .string, required: true), Field("port", .int, 6514), Field("protocol", .choice(["tcp", "tls", "udp"]), "tls"),
            Field("facility", .int, 1), Field("message_format", .choice(["rfc3164", "rfc5424"]), "rfc5424"),
            Field("auth_token", .secret), Field("auth_mode", .choice(["prefix", "structured_data"]), "prefix"),
        ]),
        IntegrationSpec(type: "httplog", role: .logs, fields: logCommon + [Field("url", .string, required: true), Field("headers", .secretHeaders)]),
        IntegrationSpec(type: "splunk", role: .logs, fields: logCommon + [
            Field("url", .string, required: true), Field("index", .string, required: true), Field("token", .secret, required: true),
            Field("sourcetype", .string, ""),
        ]),
        IntegrationSpec(type: "sumologic", role: .logs, fields: logCommon + [Field("url", .string, required: true), Field("category", .string, "")]),
        IntegrationSpec(type: "newrelic", role: .logs, fields: logCommon + [
            Field("url", .string, required: true), Field("license_key", .secret, required: true),
        ]),
        IntegrationSpec(type: "otlplog", role: .logs, fields: logCommon + [Field("url", .string, required: true), Field("headers", .secretHeaders)]),
    ]

    /// Fields a body may name (besides `type`).
    public var writableFields: [String] { fields.filter { $0.kind != .readOnly }.map(\.name) }
}

/// A field of an integration body that is wrong, and why.
public struct IntegrationInputError: Error, Equatable, CustomStringConvertible {
    public let field: String
    public let message: String
    public init(_ field: String, _ message: String) { self.field = field; self.message = message }
    public var description: String { "\(field): \(message)" }
}

extension IntegrationSpec {
    /// Applies a create (`current` nil) or update body: the public settings and secret values after it.
    /// Secrets not named by an update keep their values; `null` clears an optional one.
    public func apply(_ body: JSONObject, to current: (settings: JSONObject, secrets: JSONObject)?) throws -> (settings: JSONObject, secrets: JSONObject) {
        var settings = current?.settings ?? JSONObject()
        var secrets = current?.secrets ?? JSONObject()
        for f in fields {
            let given = body[f.name]
            if given == nil {
                if current == nil {
                    if f.requiredOnCreate { throw IntegrationInputError(f.name, "is required for \(type) integrations") }
                    if !f.isSecret { settings[f.name] = f.defaultValue }
                }
                continue
            }
            guard let value = given else { continue }
            switch f.kind {
            case .readOnly:
                throw IntegrationInputError(f.name, "is set by Grove and cannot be changed")
            case .string:
                guard case .string(let s) = value else { throw IntegrationInputError(f.name, "must be a string, not \(value.typeName)") }
                if f.requiredOnCreate && s.trimmingCharacters(in: .whitespaces).isEmpty { throw IntegrationInputError(f.name, "must not be empty") }
                try Self.checkText(s, f.name, max: f.name == "script" ? 256 * 1024 : 2048)
                settings[f.name] = value
            case .nullableString:
                if value.isNull { settings[f.name] = .null; continue }
                guard case .string(let s) = value else { throw IntegrationInputError(f.name, "must be a string or null, not \(value.typeName)") }
                try Self.checkText(s, f.name, max: 2048)
                settings[f.name] = s.isEmpty ? .null : value
            case .bool:
                guard case .bool = value else { throw IntegrationInputError(f.name, "must be a boolean, not \(value.typeName)") }
                settings[f.name] = value
            case .int:
                guard let i = value.intValue, i >= 0, i <= 65535 * 100 else { throw IntegrationInputError(f.name, "must be a non-negative integer") }
                settings[f.name] = .int(i)
            case .strings:
                guard case .array(let a) = value, a.allSatisfy({ $0.stringValue != nil }) else {
                    throw IntegrationInputError(f.name, "must be an array of strings")
                }
                guard a.count <= 200 else { throw IntegrationInputError(f.name, "may hold at most 200 entries") }
                for s in a.compactMap(\.stringValue) { try Self.checkText(s, f.name, max: 512) }
                settings[f.name] = value
            case .stringMap:
                guard case .object(let o) = value, o.allSatisfy({ $0.value.stringValue != nil }) else {
                    throw IntegrationInputError(f.name, "must be an object of strings")
                }
                guard o.count <= 100 else { throw IntegrationInputError(f.name, "may hold at most 100 entries") }
                settings[f.name] = value
            case .choice(let options):
                guard case .string(let s) = value, options.contains(s) else {
                    throw IntegrationInputError(f.name, "must be one of \(options.joined(separator: ", "))")
                }
                settings[f.name] = value
            case .secret:
                if value.isNull {
                    if f.requiredOnCreate { throw IntegrationInputError(f.name, "is required for \(type) integrations") }
                    secrets[f.name] = nil
                    continue
                }
                guard case .string(let s) = value, !s.isEmpty else { throw IntegrationInputError(f.name, "must be a non-empty string") }
                try Self.checkText(s, f.name, max: 4096)
                secrets[f.name] = value
            case .secretHeaders:
                guard case .object(let o) = value, o.allSatisfy({ $0.value.stringValue != nil }) else {
                    throw IntegrationInputError(f.name, "must be an object of header names to values")
                }
                for (name, v) in o {
                    guard !name.isEmpty, name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x3A }) else {
                        throw IntegrationInputError(f.name, "'\(name)' is not a valid header name")
                    }
                    if let s = v.stringValue, s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                        throw IntegrationInputError(f.name, "the value of '\(name)' has control characters")
                    }
                }
                secrets[f.name] = value
            case .credentials(let publicKeys, let secretKeys):
                if value.isNull { settings[f.name] = .null; secrets[f.name] = nil; continue }
                guard case .object(let o) = value else { throw IntegrationInputError(f.name, "must be an object or null") }
                var shown = JSONObject(), hidden = JSONObject()
                for (k, v) in o {
                    guard let s = v.stringValue else { throw IntegrationInputError(f.name, "'\(k)' must be a string") }
                    try Self.checkText(s, f.name, max: 1024)
                    if publicKeys.contains(k) { shown[k] = v } else if secretKeys.contains(k) { hidden[k] = v } else {
                        throw IntegrationInputError(f.name, "unknown key '\(k)'; allowed: \((publicKeys + secretKeys).joined(separator: ", "))")
                    }
                }
                settings[f.name] = .object(shown)
                secrets[f.name] = .object(hidden)
            }
        }
        return (settings, secrets)
    }

    static func checkText(_ s: String, _ field: String, max: Int) throws {
        if s.utf8.count > max { throw IntegrationInputError(field, "must be at most \(max) bytes") }
        if s.utf8.contains(0) { throw IntegrationInputError(field, "must not contain NUL characters") }
    }

    /// The settings as rendered: every field of the type, secrets left out and header values masked.
    public func rendered(_ settings: JSONObject, secrets: JSONObject) -> JSONObject {
        var o = JSONObject()
        for f in fields {
            switch f.kind {
            case .secret:
                // The documented shape includes `shared_key`; it is never given back.
                if f.name == "shared_key" { o[f.name] = .null }
            case .secretHeaders:
                let names = secrets[f.name]?.objectValue?.keys ?? []
                o[f.name] = .object(JSONObject(names.map { ($0, JSON.string("******")) }))
            default:
                o[f.name] = settings[f.name] ?? f.defaultValue
            }
        }
        return o
    }
}
