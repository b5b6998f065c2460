import GroveModel
import HTTPTypes

/// Every operation the API declares, by operation id: routes bind handlers to these (`Routes.add`), and
/// `/openapi.json` is built from the operations the routes serve, so the two cannot drift apart.
public enum OperationCatalog {
    public static let operations: [String: Operation] = {
        var out: [String: Operation] = [:]
        for o in OpenAPISpec.declaredOperations() { out[o.id] = o }
        return out
    }()
}

/// The OpenAPI 3 document of the operations `routes` serve; CI runs schemathesis against it and checks its answers
/// against the official document.
enum OpenAPIDocument {
    static func bytes(_ operations: [Operation]) -> [UInt8] { Array(OpenAPISpec.document(operations).serialized().utf8) }
}

enum OpenAPISpec {
    // MARK: schema helpers

    static func ref(_ name: String) -> JSON { ["$ref": .string("#/components/schemas/\(name)")] }
    static let str: JSON = ["type": "string"]
    static let nstr: JSON = ["type": "string", "nullable": true]
    static let bool: JSON = ["type": "boolean"]
    static let nbool: JSON = ["type": "boolean", "nullable": true]
    static let int: JSON = ["type": "integer"]
    static let anyObject: JSON = ["type": "object", "additionalProperties": true]
    static let strMap: JSON = ["type": "object", "additionalProperties": ["type": "string"]]
    static func array(_ items: JSON) -> JSON { ["type": "array", "items": items] }
    static func enumOf(_ values: [String]) -> JSON { ["type": "string", "enum": JSON(values)] }

    static func object(_ props: [(String, JSON)], required: [String]? = nil) -> JSON {
        var o = JSONObject([("type", "object"), ("properties", .object(JSONObject(props)))])
        o["required"] = JSON(required ?? props.map(\.0).filter { $0 != "_links" })
        return .object(o)
    }

    static func param(_ name: String, in location: String = "path", _ schema: JSON = str, required: Bool? = nil) -> JSON {
        ["name": .string(name), "in": .string(location), "required": .bool(required ?? (location == "path")), "schema": schema]
    }

    static func json(_ schema: JSON) -> JSON { ["application/json": ["schema": schema]] }

    static func op(_ id: String, _ summary: String, tag: String, params: [JSON] = [], body: JSON? = nil, status: String = "200",
                   response: JSON? = nil, contentType: String = "application/json", secured: Bool = true) -> JSON {
        var responses = JSONObject()
        if let response { responses[status] = ["description": "OK", "content": [contentType: ["schema": response]]] } else { responses[status] = ["description": "No content"] }
        responses["default"] = ["description": "Error", "content": json(ref("Error"))]
        var o = JSONObject([("operationId", .string(id)), ("summary", .string(summary)), ("tags", [.string(tag)])])
        if !params.isEmpty { o["parameters"] = .array(params) }
        if let body { o["requestBody"] = ["required": true, "content": json(body)] }
        o["responses"] = .object(responses)
        if !secured { o["security"] = .array([]) }
        return .object(o)
    }

    static func result(_ entity: JSON?) -> JSON {
        var embedded: [(String, JSON)] = [("activities", array(ref("Activity")))]
        if let entity { embedded.insert(("entity", entity), at: 0) }
        return object([("status", str), ("code", int), ("_embedded", object(embedded, required: ["activities"]))])
    }

    static func collection(_ item: JSON) -> JSON {
        object([("count", int), ("items", array(item)), ("_links", ref("Links"))])
    }

    // MARK: document

    /// The document describing `operations` (their paths) with every schema.
    static func document(_ operations: [Operation]) -> JSON {
        var paths = JSONObject()
        for o in operations.sorted(by: { ($0.path, $0.method.rawValue) < ($1.path, $1.method.rawValue) }) {
            var item = paths[o.path]?.objectValue ?? JSONObject()
            item[o.method.rawValue.lowercased()] = o.spec
            paths[o.path] = .object(item)
        }
        return .object(JSONObject([
            ("openapi", "3.0.3"),
            ("info", ["title": "Grove API", "version": .string(GroveVersion.string),
                      "description": "Platform.sh-compatible REST API of Grove. Region collections are JSON arrays; accounts collections use items and cursor links."]),
            ("servers", [["url": "/"]]),
            ("security", [["bearer": []]]),
            ("paths", .object(paths)),
            ("components", ["securitySchemes": ["bearer": ["type": "http", "scheme": "bearer", "bearerFormat": "JWT"]], "schemas": .object(schemas())]),
        ]))
    }

    /// Each operation's method, path and description: the one place an endpoint is declared.
    static func declaredOperations() -> [Operation] {
        let P = param("projectId"), E = param("environmentId"), O = param("organization_id"), U = param("user_id")
        let page = [param("page[size]", in: "query", ["type": "integer", "minimum": 1, "maximum": 200]),
                    param("page[before]", in: "query"), param("page[after]", in: "query")]
        var operations: [Operation] = []
        func add(_ path: String, _ method: String, _ spec: JSON) {
            guard let id = spec["operationId"]?.stringValue else { return }
            let secured = spec["security"]?.arrayValue?.isEmpty != true
            operations.append(Operation(id: id, method: HTTPRequest.Method(rawValue: method.uppercased()) ?? .get, path: path, authenticated: secured, spec: spec))
        }

        add("/", "get", op("get-service-root", "Name and version of this server, and where its API document is", tag: "Service",
                           response: object([("name", str), ("version", str), ("openapi", str)]), secured: false))
        add("/openapi.json", "get", op("get-openapi-document", "This API's OpenAPI 3 document", tag: "Service", response: anyObject, secured: false))
        add("/ssh/authority", "get", op("get-ssh-authority", "The SSH certificate authorities this Grove's SSH servers trust (authorized_keys lines)", tag: "SSH Certificates",
                                        response: object([("authorities", array(str))]), secured: false))
        add("/ssh", "post", op("create-ssh-certificate", "Sign an SSH public key: a short-lived OpenSSH user certificate for the caller", tag: "SSH Certificates",
                               body: object([("key", str)], required: ["key"]), response: object([("certificate", str)])))

        let tokenBody = object([("grant_type", enumOf(["api_token", "password", "refresh_token"])), ("api_token", str), ("username", str),
                                ("password", str), ("refresh_token", str), ("client_id", str), ("client_secret", str)], required: ["grant_type"])
        var tokenOp = op("create-token", "Exchange an API token, password or refresh token for an access token", tag: "OAuth2",
                         response: ref("TokenResponse"), secured: false).objectValue ?? JSONObject()
        tokenOp["requestBody"] = ["required": true, "content": ["application/x-www-form-urlencoded": ["schema": tokenBody], "application/json": ["schema": tokenBody]]]
        tokenOp["responses"] = ["200": ["description": "Tokens", "content": json(ref("TokenResponse"))],
                                "default": ["description": "OAuth2 error", "content": json(ref("OAuthError"))]]
        add("/oauth2/token", "post", .object(tokenOp))
        let revokeBody = object([("token", str), ("token_type_hint", str), ("client_id", str), ("client_secret", str)], required: ["token"])
        var revokeOp = op("revoke-token", "Revoke a refresh or access token", tag: "OAuth2", response: anyObject, secured: false).objectValue ?? JSONObject()
        revokeOp["requestBody"] = ["required": true, "content": ["application/x-www-form-urlencoded": ["schema": revokeBody], "application/json": ["schema": revokeBody]]]
        revokeOp["responses"] = ["200": ["description": "Revoked", "content": json(anyObject)], "default": ["description": "OAuth2 error", "content": json(ref("OAuthError"))]]
        add("/oauth2/revoke", "post", .object(revokeOp))

        // Users and tokens.
        add("/users/me", "get", op("get-current-user", "Get the current user", tag: "Users", response: ref("User")))
        add("/me", "get", op("get-current-user-deprecated", "Current user (legacy shape)", tag: "Users", response: ref("LegacyMe")))
        add("/users/{user_id}", "get", op("get-user", "Get a user", tag: "Users", params: [U], response: ref("User")))
        add("/users/{user_id}", "patch", op("update-user", "Update the current user", tag: "Users", params: [U],
                                            body: object([("username", str), ("first_name", str), ("last_name", str), ("picture", str),
                                                          ("company", str), ("website", str), ("country", str)], required: []), response: ref("User")))
        add("/users/email={email}", "get", op("get-user-by-email-address", "Get a user by email", tag: "Users", params: [param("email")], response: ref("User")))
        add("/users/username={username}", "get", op("get-user-by-username", "Get a user by username", tag: "Users", params: [param("username")], response: ref("User")))
        add("/users/{user_id}/api-tokens", "get", op("list-api-tokens", "List a user's API tokens", tag: "API Tokens", params: [U], response: array(ref("APIToken"))))
        add("/users/{user_id}/api-tokens", "post", op("create-api-token", "Create an API token", tag: "API Tokens", params: [U],
                                                      body: object([("name", str)]), status: "201", response: ref("APIToken")))
        add("/users/{user_id}/api-tokens/{token_id}", "get", op("get-api-token", "Get an API token", tag: "API Tokens", params: [U, param("token_id")], response: ref("APIToken")))
        add("/users/{user_id}/api-tokens/{token_id}", "delete", op("delete-api-token", "Delete an API token", tag: "API Tokens", params: [U, param("token_id")], status: "204"))
        add("/users/{user_id}/extended-access", "get", op("list-user-extended-access", "Projects the user can access", tag: "Users",
                                                          params: [U, param("filter[resource_type]", in: "query"), param("filter[organization_id]", in: "query")],
                                                          response: object([("items", array(ref("ExtendedAccess"))), ("_links", ref("Links"))])))
        let inParam = param("in", in: "query", str, required: false)
        add("/ref/users", "get", op("list-referenced-users", "Users by id", tag: "References", params: [inParam], response: ["type": "object", "additionalProperties": ["nullable": true, "allOf": [ref("UserReference")]]]))
        add("/ref/projects", "get", op("list-referenced-projects", "Projects by id", tag: "References", params: [inParam], response: ["type": "object", "additionalProperties": ["nullable": true, "allOf": [ref("ProjectReference")]]]))
        add("/ref/organizations", "get", op("list-referenced-orgs", "Organizations by id", tag: "References", params: [inParam], response: ["type": "object", "additionalProperties": ["nullable": true, "allOf": [ref("OrganizationReference")]]]))

        // Organizations.
        let orgFilters = [param("filter[owner_id]", in: "query"), param("filter[name]", in: "query"), param("filter[id]", in: "query")]
        add("/organizations", "get", op("list-orgs", "List organizations", tag: "Organizations", params: orgFilters + page, response: collection(ref("Organization"))))
        add("/organizations", "post", op("create-org", "Create organization", tag: "Organizations",
                                         body: object([("name", str), ("label", str), ("country", str), ("type", enumOf(["fixed", "flexible"])), ("owner_id", str)], required: ["label"]),
                                         status: "201", response: ref("Organization")))
        add("/users/{user_id}/organizations", "get", op("list-user-orgs", "User organizations", tag: "Organizations", params: [U] + page, response: collection(ref("Organization"))))
        add("/organizations/{organization_id}", "get", op("get-org", "Get organization", tag: "Organizations", params: [O], response: ref("Organization")))
        add("/organizations/{organization_id}", "patch", op("update-org", "Update organization", tag: "Organizations", params: [O],
                                                            body: object([("name", str), ("label", str), ("country", str)], required: []), response: ref("Organization")))
        add("/organizations/{organization_id}", "delete", op("delete-org", "Delete organization", tag: "Organizations", params: [O], status: "204"))
        let perms = array(enumOf(OrganizationPermission.allCases.map(\.rawValue)))
        add("/organizations/{organization_id}/members", "get", op("list-org-members", "List organization members", tag: "Organization Members",
                                                                   params: [O, param("filter[permissions]", in: "query")] + page, response: collection(ref("OrganizationMember"))))
        add("/organizations/{organization_id}/members", "post", op("create-org-member", "Create organization member", tag: "Organization Members", params: [O],
                                                                   body: object([("user_id", str), ("email", str), ("permissions", perms)], required: []),
                                                                   status: "201", response: ref("OrganizationMember")))
        add("/organizations/{organization_id}/members/{user_id}", "get", op("get-org-member", "Get organization member", tag: "Organization Members", params: [O, U], response: ref("OrganizationMember")))
        add("/organizations/{organization_id}/members/{user_id}", "patch", op("update-org-member", "Update organization member", tag: "Organization Members", params: [O, U],
                                                                              body: object([("permissions", perms)]), response: ref("OrganizationMember")))
        add("/organizations/{organization_id}/members/{user_id}", "delete", op("delete-org-member", "Delete organization member", tag: "Organization Members", params: [O, U], status: "204"))

        // Subscriptions and projects.
        let newProject = object([("title", str), ("project_title", str), ("region", str), ("project_region", str), ("default_branch", str),
                                 ("description", str), ("plan", str), ("storage", ["type": "integer", "minimum": 0]),
                                 ("environments", ["type": "integer", "minimum": 1]), ("user_licenses", ["type": "integer", "minimum": 0]),
                                 ("timezone", str), ("attributes", strMap), ("options_url", str), ("vendor", str), ("resources", anyObject)], required: [])
        let S = param("subscription_id")
        add("/organizations/{organization_id}/subscriptions", "get", op("list-org-subscriptions", "List subscriptions", tag: "Subscriptions",
                                                                        params: [O, param("filter[status]", in: "query")] + page, response: collection(ref("Subscription"))))
        add("/organizations/{organization_id}/subscriptions", "post", op("create-org-subscription", "Create subscription (provisions a project)", tag: "Subscriptions",
                                                                         params: [O], body: newProject, status: "201", response: ref("Subscription")))
        add("/organizations/{organization_id}/subscriptions/can-create", "get", op("can-create-new-org-subscription", "Can the user create a project", tag: "Subscriptions",
                                                                                   params: [O], response: object([("can_create", bool), ("message", str), ("required_action", ["nullable": true, "type": "object"])])))
        add("/organizations/{organization_id}/subscriptions/{subscription_id}", "get", op("get-org-subscription", "Get subscription", tag: "Subscriptions", params: [O, S], response: ref("Subscription")))
        add("/organizations/{organization_id}/subscriptions/{subscription_id}", "patch", op("update-org-subscription", "Update subscription", tag: "Subscriptions", params: [O, S],
                                                                                            body: object([("plan", str), ("environments", ["type": "integer", "minimum": 1]), ("storage", ["type": "integer", "minimum": 0]),
                                                                                                          ("user_licenses", ["type": "integer", "minimum": 1]), ("project_title", str)], required: []),
                                                                                            response: ref("Subscription")))
        add("/organizations/{organization_id}/subscriptions/{subscription_id}", "delete", op("delete-org-subscription", "Delete subscription and its project", tag: "Subscriptions", params: [O, S], status: "204"))
        let PO = param("project_id")
        let projectPatch = object([("attributes", strMap), ("title", str), ("description", str), ("default_branch", str), ("timezone", str),
                                   ("region", str), ("default_domain", nstr)], required: [])
        add("/organizations/{organization_id}/projects", "get", op("list-org-projects", "List projects", tag: "Organization Projects", params: [O] + page, response: collection(ref("OrganizationProject"))))
        add("/organizations/{organization_id}/projects", "post", op("create-org-project", "Create project", tag: "Organization Projects", params: [O], body: newProject, status: "201", response: ref("OrganizationProject")))
        add("/organizations/{organization_id}/projects/{project_id}", "get", op("get-org-project", "Get project", tag: "Organization Projects", params: [O, PO], response: ref("OrganizationProject")))
        add("/organizations/{organization_id}/projects/{project_id}", "patch", op("update-org-project", "Update project", tag: "Organization Projects", params: [O, PO], body: projectPatch, response: ref("OrganizationProject")))
        add("/organizations/{organization_id}/projects/{project_id}", "delete", op("delete-org-project", "Delete project", tag: "Organization Projects", params: [O, PO], response: result(nil)))
        add("/projects", "get", op("list-projects", "Projects you can access", tag: "Project",
                                   params: [param("filter[owner]", in: "query"), param("filter[organization]", in: "query"), param("page", in: "query", ["type": "integer", "minimum": 1]),
                                            param("page[size]", in: "query", ["type": "integer", "minimum": 1, "maximum": 200])],
                                   response: object([("count", int), ("projects", array(ref("Project"))), ("_links", ref("Links"))])))
        add("/projects/{projectId}", "get", op("get-projects", "Get a project", tag: "Project", params: [P], response: ref("Project")))
        add("/projects/{projectId}", "patch", op("update-projects", "Update a project", tag: "Project", params: [P], body: projectPatch, response: result(ref("Project"))))
        add("/projects/{projectId}", "delete", op("delete-projects", "Delete a project", tag: "Project", params: [P], response: result(nil)))
        add("/projects/{projectId}/capabilities", "get", op("get-projects-capabilities", "Project capabilities", tag: "Project", params: [P], response: anyObject))
        add("/projects/{projectId}/settings", "get", op("get-projects-settings", "Project settings", tag: "Project Settings", params: [P], response: anyObject))
        add("/projects/{projectId}/settings", "patch", op("update-projects-settings", "Update project settings", tag: "Project Settings", params: [P], body: anyObject, response: result(anyObject)))
        add("/projects/{projectId}/clear_build_cache", "post", op("action-projects-clear-build-cache", "Clear the build cache", tag: "Project", params: [P], response: result(nil)))
        add("/projects/{projectId}/system", "get", op("get-projects-system", "The project's git server: Grove's version and when this process started",
                                                      tag: "System Information", params: [P],
                                                      response: object([("version", str), ("image", str), ("started_at", str)])))
        add("/projects/{projectId}/maintenance-redeploy", "post", op("maintenance-redeploy-project", "Redeploy every active environment (an activity each)",
                                                                 tag: "Project", params: [P], response: result(nil)))
        add("/projects/{projectId}/environment-types", "get", op("list-projects-environment-types", "Environment types", tag: "Environment Type", params: [P], response: array(ref("EnvironmentType"))))
        add("/projects/{projectId}/environment-types/{environmentTypeId}", "get", op("get-environment-type", "Environment type", tag: "Environment Type", params: [P, param("environmentTypeId")], response: ref("EnvironmentType")))

        // Environments.
        let envBase = "/projects/{projectId}/environments/{environmentId}"
        add("/projects/{projectId}/environments", "get", op("list-projects-environments", "List environments", tag: "Environment", params: [P], response: array(ref("Environment"))))
        add(envBase, "get", op("get-environment", "Get an environment", tag: "Environment", params: [P, E], response: ref("Environment")))
        let httpAccess = object([("is_enabled", bool), ("addresses", array(object([("permission", enumOf(["allow", "deny"])), ("address", str)]))), ("basic_auth", strMap)], required: [])
        add(envBase, "patch", op("update-environment", "Update an environment", tag: "Environment", params: [P, E],
                                 body: object([("name", str), ("title", str), ("attributes", strMap), ("type", enumOf(EnvironmentType.allCases.map(\.rawValue))),
                                               ("parent", nstr), ("clone_parent_on_create", bool), ("http_access", httpAccess), ("enable_smtp", bool),
                                               ("restrict_robots", bool)], required: []),
                                 response: result(ref("Environment"))))
        add(envBase, "delete", op("delete-environment", "Delete an inactive environment", tag: "Environment", params: [P, E], response: result(ref("Environment"))))
        add(envBase + "/settings", "get", op("get-environment-settings", "Environment settings", tag: "Environment", params: [P, E], response: anyObject))
        add(envBase + "/branch", "post", op("branch-environment", "Branch an environment", tag: "Environment", params: [P, E],
                                            body: object([("name", str), ("title", str), ("clone_parent", bool), ("type", enumOf(["development", "staging"])),
                                                          ("resources", anyObject)], required: ["name"]),
                                            status: "201", response: result(ref("Environment"))))
        for action in EnvironmentAction.allCases where action != .edit && action != .delete && action != .branch {
            var summary = "\(action.rawValue.capitalizedFirst) an environment (an activity)"
            var body: JSON?
            switch action {
            case .maintenanceRedeploy: summary = "Redeploy an environment from its current build, as after a host maintenance (an activity)"
            case .initialize:
                summary = "Seed a project without code from a template repository (url@ref), an optional configuration repository and files (an activity)"
                body = object([("profile", str), ("repository", str), ("config", nstr),
                               ("files", array(object([("path", str), ("mode", int), ("contents", str)], required: ["path"]))),
                               ("resources", object([("init", enumOf(["default", "minimum"]))], required: []))], required: ["repository"])
            default: break
            }
            add(envBase + "/" + action.rawValue, "post", op("\(action.rawValue)-environment", summary, tag: "Environment", params: [P, E], body: body,
                                                            response: result(ref("Environment"))))
        }

        add(envBase + "/relationships", "get", op("get-environment-relationships", "What applications see in PLATFORM_RELATIONSHIPS (Grove's own; contributors)",
                                                  tag: "Deployment", params: [P, E],
                                                  response: ["type": "object", "additionalProperties": ["type": "object", "additionalProperties": array(anyObject)]]))
        add("/grove/system", "get", op("get-grove-system", "How this Grove server runs: version, store, region, runtime (Grove's own)", tag: "System",
                                       response: object([("version", str), ("store", str), ("region", str)])))

        // Backups.
        let B = param("backupId")
        add(envBase + "/backups", "get", op("list-projects-environments-backups", "Backups of an environment", tag: "Environment Backups", params: [P, E],
                                            response: array(ref("Backup"))))
        add(envBase + "/backups/{backupId}", "get", op("get-projects-environments-backups", "Get a backup", tag: "Environment Backups", params: [P, E, B],
                                                       response: ref("Backup")))
        add(envBase + "/backups/{backupId}", "delete", op("delete-projects-environments-backups", "Delete a backup (an activity)", tag: "Environment Backups",
                                                          params: [P, E, B], response: result(nil)))
        add(envBase + "/backups/{backupId}/restore", "post", op("restore-backup", "Restore a backup into this, another or a new environment (an activity)",
                                                                tag: "Environment Backups", params: [P, E, B],
                                                                body: object([("environment_name", str), ("branch_from", str), ("restore_code", bool),
                                                                              ("restore_resources", bool), ("resources", anyObject)], required: []),
                                                                response: result(nil)))

        // Variables.
        let varFields: [(String, JSON)] = [("name", str), ("attributes", strMap), ("value", str), ("is_json", bool), ("is_sensitive", bool),
                                           ("visible_build", bool), ("visible_runtime", bool), ("application_scope", array(str))]
        let envVarFields = varFields + [("is_enabled", bool), ("is_inheritable", bool)]
        let V = param("variableId")
        add("/projects/{projectId}/variables", "get", op("list-projects-variables", "Project variables", tag: "Project Variables", params: [P], response: array(ref("ProjectVariable"))))
        add("/projects/{projectId}/variables", "post", op("create-projects-variables", "Add a project variable", tag: "Project Variables", params: [P],
                                                          body: object(varFields, required: ["name", "value"]), status: "201", response: result(ref("ProjectVariable"))))
        add("/projects/{projectId}/variables/{variableId}", "get", op("get-projects-variables", "Get a project variable", tag: "Project Variables", params: [P, V], response: ref("ProjectVariable")))
        add("/projects/{projectId}/variables/{variableId}", "patch", op("update-projects-variables", "Update a project variable", tag: "Project Variables", params: [P, V],
                                                                        body: object(varFields, required: []), response: result(ref("ProjectVariable"))))
        add("/projects/{projectId}/variables/{variableId}", "delete", op("delete-projects-variables", "Delete a project variable", tag: "Project Variables", params: [P, V], response: result(nil)))
        add(envBase + "/variables", "get", op("list-projects-environments-variables", "Environment variables", tag: "Environment Variables", params: [P, E], response: array(ref("EnvironmentVariable"))))
        add(envBase + "/variables", "post", op("create-projects-environments-variables", "Add an environment variable", tag: "Environment Variables", params: [P, E],
                                               body: object(envVarFields, required: ["name", "value"]), status: "201", response: result(ref("EnvironmentVariable"))))
        add(envBase + "/variables/{variableId}", "get", op("get-projects-environments-variables", "Get an environment variable", tag: "Environment Variables", params: [P, E, V], response: ref("EnvironmentVariable")))
        add(envBase + "/variables/{variableId}", "patch", op("update-projects-environments-variables", "Update an environment variable", tag: "Environment Variables", params: [P, E, V],
                                                             body: object(envVarFields, required: []), response: result(ref("EnvironmentVariable"))))
        add(envBase + "/variables/{variableId}", "delete", op("delete-projects-environments-variables", "Delete an environment variable", tag: "Environment Variables", params: [P, E, V], response: result(nil)))

        // Activities.
        let A = param("activityId")
        let activityQuery = [param("type", in: "query", array(str)), param("state", in: "query", array(enumOf(ActivityState.allCases.map(\.rawValue)))),
                             param("result", in: "query", enumOf(["success", "failure"])), param("starts_at", in: "query", ["type": "string", "format": "date-time"]),
                             param("count", in: "query", ["type": "integer", "minimum": 1, "maximum": 1000]), param("integration", in: "query")]
        for (scope, params, tag) in [("/projects/{projectId}", [P], "Project Activity"), (envBase, [P, E], "Environment Activity")] {
            let suffix = scope == envBase ? "-environments" : ""
            add(scope + "/activities", "get", op("list-projects\(suffix)-activities", "List activities, newest first", tag: tag, params: params + activityQuery, response: array(ref("Activity"))))
            add(scope + "/activities/{activityId}", "get", op("get-projects\(suffix)-activities", "Get an activity", tag: tag, params: params + [A], response: ref("Activity")))
            add(scope + "/activities/{activityId}/cancel", "post", op("action-projects\(suffix)-activities-cancel", "Cancel an activity", tag: tag, params: params + [A], response: ref("Activity")))
            add(scope + "/activities/{activityId}/log", "get", op("get-projects\(suffix)-activities-log", "Stream the activity log (NDJSON, ends with the seal)", tag: tag,
                                                                   params: params + [A, param("start_at", in: "query", ["type": "integer", "minimum": 0])],
                                                                   response: str, contentType: "application/x-ndjson"))
        }

        // What an environment serves.
        add(envBase + "/deployments", "get", op("list-projects-environments-deployments", "Get an environment's deployment information", tag: "Deployment",
                                                params: [P, E], response: array(ref("Deployment"))))
        add(envBase + "/deployments/{deploymentId}", "get", op("get-projects-environments-deployments", "Get a single environment deployment (current)", tag: "Deployment",
                                                               params: [P, E, param("deploymentId")], response: ref("Deployment")))
        add(envBase + "/routes", "get", op("list-projects-environments-routes", "Get list of routes", tag: "Routing", params: [P, E], response: array(ref("Route"))))
        add(envBase + "/routes/{routeId}", "get", op("get-projects-environments-routes", "Get a route's info (the id is the URL-encoded URL)", tag: "Routing",
                                                     params: [P, E, param("routeId")], response: ref("Route")))

        // Route edits are commits to .platform/routes.yaml.
        let routeInput = object([("type", enumOf(["upstream", "redirect", "proxy"])), ("to", str), ("upstream", str), ("primary", nbool), ("id", nstr),
                                 ("production_url", str), ("attributes", strMap), ("tls", anyObject), ("cache", anyObject), ("ssi", anyObject),
                                 ("redirects", anyObject)], required: ["type"])
        add(envBase + "/routes", "post", op("create-projects-environments-routes", "Create a route (commits to .platform/routes.yaml)", tag: "Routing",
                                            params: [P, E], body: routeInput, status: "201", response: result(ref("Route"))))
        add(envBase + "/routes/{routeId}", "patch", op("update-projects-environments-routes", "Update a route (commits)", tag: "Routing",
                                                       params: [P, E, param("routeId")], body: routeInput, response: result(ref("Route"))))
        add(envBase + "/routes/{routeId}", "delete", op("delete-projects-environments-routes", "Delete a route (commits)", tag: "Routing",
                                                        params: [P, E, param("routeId")], response: result(nil)))

        // Domains and certificates.
        let domainInput = object([("name", str), ("attributes", strMap), ("is_default", bool), ("replacement_for", str)], required: ["name"])
        let domainPatch = object([("attributes", strMap), ("is_default", bool)], required: [])
        for (scope, suffix, params) in [("/projects/{projectId}/domains", "", [P]), (envBase + "/domains", "-environments", [P, E])] {
            add(scope, "get", op("list-projects\(suffix)-domains", "Get list of domains", tag: "Domain Management", params: params, response: array(ref("Domain"))))
            add(scope, "post", op("create-projects\(suffix)-domains", "Add a domain", tag: "Domain Management", params: params, body: domainInput,
                                  status: "201", response: result(ref("Domain"))))
            let D = param("domainId")
            add(scope + "/{domainId}", "get", op("get-projects\(suffix)-domains", "Get a domain", tag: "Domain Management", params: params + [D], response: ref("Domain")))
            add(scope + "/{domainId}", "patch", op("update-projects\(suffix)-domains", "Update a domain", tag: "Domain Management", params: params + [D],
                                                   body: domainPatch, response: result(ref("Domain"))))
            add(scope + "/{domainId}", "delete", op("delete-projects\(suffix)-domains", "Delete a domain", tag: "Domain Management", params: params + [D],
                                                    response: result(nil)))
        }
        let certBase = "/projects/{projectId}/certificates", C = param("certificateId")
        add(certBase, "get", op("list-projects-certificates", "Get list of SSL certificates", tag: "Cert Management", params: [P], response: array(ref("Certificate"))))
        add(certBase, "post", op("create-projects-certificates", "Add an SSL certificate", tag: "Cert Management", params: [P],
                                 body: object([("certificate", str), ("key", str), ("chain", array(str)), ("is_invalid", bool)], required: ["certificate", "key"]),
                                 status: "201", response: result(ref("Certificate"))))
        add(certBase + "/{certificateId}", "get", op("get-projects-certificates", "Get an SSL certificate", tag: "Cert Management", params: [P, C], response: ref("Certificate")))
        add(certBase + "/{certificateId}", "patch", op("update-projects-certificates", "Update an SSL certificate", tag: "Cert Management", params: [P, C],
                                                       body: object([("chain", array(str)), ("is_invalid", bool)], required: []), response: result(ref("Certificate"))))
        add(certBase + "/{certificateId}", "delete", op("delete-projects-certificates", "Delete an SSL certificate", tag: "Cert Management", params: [P, C],
                                                        response: result(nil)))

        // Third-party integrations: bodies differ per type (IntegrationSpec), so inputs are open objects checked by the handler.
        let integrations = "/projects/{projectId}/integrations", I = param("integrationId")
        let integrationInput = ["type": "object", "required": ["type"], "additionalProperties": true, "properties": ["type": str]] as JSON
        add(integrations, "get", op("list-projects-integrations", "Get list of existing integrations for a project", tag: "Third-Party Integrations",
                                    params: [P], response: array(ref("Integration"))))
        add(integrations, "post", op("create-projects-integrations", "Integrate project with a third-party service", tag: "Third-Party Integrations",
                                     params: [P], body: integrationInput, status: "201", response: result(ref("Integration"))))
        add(integrations + "/{integrationId}", "get", op("get-projects-integrations", "Get information about an existing third-party integration",
                                                         tag: "Third-Party Integrations", params: [P, I], response: ref("Integration")))
        add(integrations + "/{integrationId}", "patch", op("update-projects-integrations", "Update an existing third-party integration",
                                                           tag: "Third-Party Integrations", params: [P, I],
                                                           body: ["type": "object", "additionalProperties": true, "properties": ["type": str]],
                                                           response: result(ref("Integration"))))
        add(integrations + "/{integrationId}", "delete", op("delete-projects-integrations", "Delete an existing third-party integration",
                                                            tag: "Third-Party Integrations", params: [P, I], response: result(nil)))
        add("/integrations/{integrationId}/hook", "post", op("receive-integration-hook", "A source provider's delivery (push, pull request), signed with the integration's hook secret (Grove)",
                                                             tag: "Third-Party Integrations", params: [I], body: anyObject, status: "202",
                                                             response: object([("status", str), ("code", int), ("message", str)]), secured: false))

        // Operations and logs.
        add(envBase + "/source-operations", "get", op("list-projects-environments-source-operations", "List source operations", tag: "Source Operations",
                                                      params: [P, E], response: array(object([("id", str), ("app", str), ("operation", str), ("command", str)]))))
        add(envBase + "/source-operation", "post", op("run-source-operation", "Trigger a source operation", tag: "Source Operations", params: [P, E],
                                                      body: object([("operation", str), ("variables", ["type": "object", "additionalProperties": strMap])], required: ["operation"]),
                                                      response: result(nil)))
        add(envBase + "/deployments/{deploymentId}/operations", "post", op("run-operation", "Execute a runtime operation", tag: "Runtime Operations",
                                                                           params: [P, E, param("deploymentId")],
                                                                           body: object([("service", str), ("operation", str), ("parameters", array(str))], required: ["service", "operation"]),
                                                                           response: result(nil)))
        add(envBase + "/logs", "get", op("list-projects-environments-logs", "List an environment's logs (Grove)", tag: "Logs", params: [P, E],
                                         response: array(object([("name", str), ("size", int), ("updated_at", nstr)]))))
        add(envBase + "/logs/{name}", "get", op("get-projects-environments-logs", "Read a log's last lines, or what follows an offset (Grove)", tag: "Logs",
                                                params: [P, E, param("name"), param("lines", in: "query", int), param("since", in: "query", int)],
                                                response: object([("name", str), ("offset", int), ("lines", array(str))])))

        // Repository read API.
        add("/projects/{projectId}/git/refs", "get", op("list-projects-git-refs", "Get list of repository refs", tag: "Repository", params: [P], response: array(ref("GitRef"))))
        add("/projects/{projectId}/git/refs/{repositoryRefId}", "get", op("get-projects-git-refs", "Get a ref object (escape the ref: heads%2Fmain)", tag: "Repository",
                                                                         params: [P, param("repositoryRefId")], response: ref("GitRef")))
        add("/projects/{projectId}/git/commits/{repositoryCommitId}", "get", op("get-projects-git-commits", "Get a commit object", tag: "Repository",
                                                                               params: [P, param("repositoryCommitId")], response: ref("GitCommit")))
        add("/projects/{projectId}/git/trees/{repositoryTreeId}", "get", op("get-projects-git-trees", "Get a tree object", tag: "Repository",
                                                                           params: [P, param("repositoryTreeId")], response: ref("GitTree")))
        add("/projects/{projectId}/git/blobs/{repositoryBlobId}", "get", op("get-projects-git-blobs", "Get a blob object", tag: "Repository",
                                                                           params: [P, param("repositoryBlobId")], response: ref("GitBlob")))
        add("/projects/{projectId}/git/diffs/{diffBaseId}/{diffTargetId}", "get", op("list-projects-git-diffs", "Per-file unified diffs between two commits or trees", tag: "Diff",
                                                                                    params: [P, param("diffBaseId"), param("diffTargetId")], response: array(ref("Diff"))))

        // Discovery.
        let regionList = object([("count", int), ("regions", array(ref("Region"))), ("_links", ref("Links"))])
        add("/regions", "get", op("list-regions", "List regions", tag: "Regions", response: regionList))
        add("/regions/{region_id}", "get", op("get-region", "Get region", tag: "Regions", params: [param("region_id")], response: ref("Region")))
        add("/ref/regions", "get", op("list-referenced-regions", "Regions by id", tag: "References", params: [inParam],
                                      response: ["type": "object", "additionalProperties": ["nullable": true, "allOf": [ref("Region")]]]))
        add("/organizations/{organization_id}/regions", "get", op("list-org-regions", "Regions available to an organization", tag: "Regions", params: [O], response: regionList))
        add("/organizations/{organization_id}/setup/options", "get", op("get-org-setup-options", "Plans and regions for a new project", tag: "Subscriptions", params: [O],
                                                                        response: object([("plans", array(str)), ("regions", array(str))])))
        add("/organizations/{organization_id}/subscriptions/estimate", "get", op("estimate-new-org-subscription", "Estimate the price of a new subscription", tag: "Subscriptions",
                                                                                 params: [O, param("plan", in: "query"), param("environments", in: "query", int), param("storage", in: "query", int),
                                                                                          param("user_licenses", in: "query", int), param("format", in: "query")],
                                                                                 response: object([("plan", str), ("user_licenses", str), ("environments", str), ("storage", str), ("total", str), ("options", anyObject)])))
        add("/me/verification", "post", op("get-current-user-verification-status-full", "Is verification needed before creating a project", tag: "Users",
                                           response: object([("state", bool), ("type", str)])))
        add("/me/phone", "post", op("get-current-user-verification-status", "Is phone verification needed", tag: "Users", response: object([("state", bool)])))

        for (path, method, operation) in accessOperations() { add(path, method, operation) }
        return operations
    }

    static func schemas() -> JSONObject {
        let link: JSON = object([("href", str)], required: ["href"])
        let ts = str
        var s = JSONObject()
        s["Links"] = ["type": "object", "additionalProperties": link]
        accessSchemas(into: &s)
        s["GitRef"] = object([("ref", str), ("object", object([("type", str), ("sha", str)])), ("sha", str)])
        let person = object([("date", str), ("name", str), ("email", str)], required: [])
        s["GitCommit"] = object([("sha", str), ("author", person), ("committer", person), ("message", str), ("tree", str), ("parents", array(str))])
        s["GitTree"] = object([("sha", str), ("tree", array(object([("path", str), ("mode", str), ("type", str), ("sha", str)])))])
        s["Diff"] = object([("id", str), ("diff", str), ("new_path", nstr), ("new_id", nstr), ("old_path", nstr), ("old_id", nstr)])
        s["Deployment"] = ["type": "object", "additionalProperties": true, "required": ["id", "cluster_name", "project_info", "environment_info", "routes", "webapps"],
                           "properties": .object(JSONObject([("id", str), ("cluster_name", str), ("fingerprint", str), ("project_info", anyObject),
                                                             ("environment_info", anyObject), ("routes", anyObject), ("webapps", anyObject),
                                                             ("services", anyObject), ("workers", anyObject), ("variables", array(anyObject))]))]
        s["Route"] = ["type": "object", "additionalProperties": true, "required": ["id", "type", "attributes", "tls"],
                      "properties": .object(JSONObject([("id", str), ("type", enumOf(["upstream", "redirect", "proxy"])), ("primary", nbool),
                                                        ("attributes", strMap), ("tls", anyObject), ("original_url", str), ("url", str)]))]
        s["Domain"] = ["type": "object", "required": ["id", "type", "name", "attributes", "created_at", "updated_at"],
                       "properties": .object(JSONObject([("id", str), ("type", enumOf(["prod", "replacement"])), ("project", str), ("name", str),
                                                         ("registered_name", str), ("attributes", strMap), ("is_default", bool), ("replacement_for", str),
                                                         ("created_at", ts), ("updated_at", ts), ("_links", ref("Links"))]))]
        s["Certificate"] = object([("id", str), ("created_at", ts), ("updated_at", ts), ("certificate", str), ("chain", array(str)),
                                   ("is_provisioned", bool), ("is_invalid", bool), ("is_root", bool), ("domains", array(str)), ("auth_type", array(str)),
                                   ("issuer", array(object([("oid", str), ("alias", str), ("value", str)]))), ("expires_at", ts), ("_links", ref("Links"))])
        s["Integration"] = ["type": "object", "additionalProperties": true, "required": ["id", "type", "role", "created_at", "updated_at"],
                            "properties": .object(JSONObject([("id", str), ("type", str), ("role", str), ("created_at", ts), ("updated_at", ts),
                                                              ("_links", ref("Links"))]))]
        s["GitBlob"] = object([("sha", str), ("size", int), ("encoding", enumOf(["base64", "utf-8"])), ("content", str)])
        s["Region"] = object([("id", str), ("label", str), ("zone", str), ("selection_label", str), ("project_label", str), ("timezone", str),
                              ("available", bool), ("private", bool), ("endpoint", str), ("provider", anyObject), ("datacenter", anyObject),
                              ("compliance", anyObject), ("_links", ref("Links"))])
        s["Error"] = object([("status", str), ("code", int), ("message", str), ("title", str), ("detail", anyObject), ("error", str)])
        s["OAuthError"] = object([("error", str), ("error_description", str)])
        s["TokenResponse"] = object([("access_token", str), ("expires_in", int), ("token_type", str), ("scope", str), ("refresh_token", str)],
                                    required: ["access_token", "expires_in", "token_type"])
        s["User"] = object([("id", str), ("username", str), ("email", str), ("first_name", str), ("last_name", str), ("display_name", str),
                            ("picture", str), ("company", str), ("website", str), ("country", str), ("email_verified", bool),
                            ("phone_number_verified", bool), ("mfa_enabled", bool), ("sso_enabled", bool), ("deactivated", bool),
                            ("namespace", str), ("consented_at", ts), ("consent_method", str), ("created_at", ts), ("updated_at", ts), ("_links", ref("Links"))])
        s["LegacyMe"] = object([("id", str), ("uuid", str), ("username", str), ("mail", str), ("display_name", str), ("ssh_keys", array(anyObject)),
                                ("projects", array(anyObject)), ("has_key", bool), ("created_at", ts)])
        s["UserReference"] = object([("id", str), ("email", str), ("username", str), ("first_name", str), ("last_name", str)])
        s["APIToken"] = object([("id", str), ("name", str), ("mfa_on_creation", bool), ("created_at", ts), ("updated_at", ts), ("last_used_at", nstr),
                                ("token", str), ("_links", ref("Links"))], required: ["id", "name", "created_at", "updated_at"])
        s["ExtendedAccess"] = object([("user_id", str), ("resource_id", str), ("resource_type", str), ("organization_id", str),
                                      ("permissions", array(str)), ("granted_at", ts), ("updated_at", ts)])
        s["Organization"] = object([("id", str), ("type", str), ("owner_id", str), ("namespace", str), ("name", str), ("label", str), ("country", str),
                                    ("vendor", str), ("status", str), ("capabilities", array(str)), ("created_at", ts), ("updated_at", ts), ("_links", ref("Links"))])
        s["OrganizationReference"] = object([("id", str), ("name", str), ("label", str), ("owner_id", str)])
        s["OrganizationMember"] = object([("id", str), ("organization_id", str), ("user_id", str), ("permissions", array(str)), ("level", enumOf(["admin", "viewer"])),
                                          ("owner", bool), ("created_at", ts), ("updated_at", ts), ("_links", ref("Links"))])
        s["Subscription"] = object([("id", str), ("status", enumOf(["requested", "provisioning", "provisioning failure", "active", "suspended", "deleted"])),
                                    ("created_at", ts), ("updated_at", ts), ("owner", str), ("owner_info", anyObject), ("vendor", str), ("plan", str),
                                    ("environments", int), ("storage", int), ("user_licenses", int), ("organization_id", str), ("project_id", nstr),
                                    ("project_endpoint", nstr), ("project_title", str), ("project_region", str), ("project_region_label", str),
                                    ("project_ui", nstr), ("project_options", anyObject), ("_links", ref("Links"))])
        s["Project"] = object([("id", str), ("created_at", ts), ("updated_at", ts), ("attributes", strMap), ("title", str), ("description", str),
                               ("owner", str), ("namespace", nstr), ("organization", str), ("default_branch", str),
                               ("status", object([("code", str), ("message", str)])), ("timezone", str), ("region", str),
                               ("repository", object([("url", str), ("client_ssh_key", nstr)])), ("default_domain", nstr),
                               ("subscription", anyObject), ("vendor", str), ("uri", str), ("subscription_id", str), ("region_label", str),
                               ("git_host", str), ("_links", ref("Links"))],
                              required: ["id", "created_at", "updated_at", "title", "owner", "organization", "default_branch", "status", "region", "repository", "subscription"])
        s["Backup"] = object([("id", str), ("created_at", ts), ("updated_at", ts), ("attributes", strMap), ("status", str), ("expires_at", nstr),
                              ("index", ["type": "integer", "nullable": true]), ("commit_id", nstr), ("environment", str), ("safe", bool),
                              ("size_of_volumes", int), ("size_used", int), ("deployment", nstr), ("restorable", bool), ("automated", bool),
                              ("_links", ref("Links"))])
        s["OrganizationProject"] = object([("id", str), ("organization_id", str), ("subscription_id", str), ("vendor", str), ("region", str),
                                           ("title", str), ("type", enumOf(["grid", "dedicated"])), ("plan", str), ("timezone", str),
                                           ("default_branch", str), ("status", enumOf(["requested", "active", "failed", "suspended", "deleted"])),
                                           ("trial_plan", bool), ("project_ui", str), ("created_at", ts), ("updated_at", ts), ("_links", ref("Links"))])
        s["ProjectReference"] = object([("id", str), ("region", str), ("title", str), ("status", str), ("organization_id", str), ("subscription_id", str),
                                        ("vendor", str), ("type", str), ("plan", str), ("created_at", ts), ("updated_at", ts)])
        s["EnvironmentType"] = object([("id", enumOf(EnvironmentType.allCases.map(\.rawValue))), ("attributes", anyObject), ("_links", ref("Links"))])
        s["Environment"] = object([("id", str), ("created_at", ts), ("updated_at", ts), ("name", str), ("machine_name", str), ("title", str),
                                   ("attributes", strMap), ("type", enumOf(EnvironmentType.allCases.map(\.rawValue))), ("parent", nstr),
                                   ("default_domain", nstr), ("has_domains", bool), ("clone_parent_on_create", bool), ("deployment_target", str),
                                   ("is_pr", bool), ("has_remote", bool), ("status", enumOf(EnvironmentStatus.allCases.map(\.rawValue))),
                                   ("http_access", anyObject), ("enable_smtp", bool), ("restrict_robots", bool), ("edge_hostname", str),
                                   ("deployment_state", anyObject), ("resources_overrides", anyObject), ("last_active_at", nstr), ("last_backup_at", nstr),
                                   ("project", str), ("is_main", bool), ("is_dirty", bool), ("has_code", bool), ("head_commit", nstr),
                                   ("merge_info", anyObject), ("has_deployment", bool), ("sizing", ["type": "object", "nullable": true]),
                                   ("max_instance_count", ["type": "integer", "nullable": true]), ("has_staged_activities", bool),
                                   ("can_rolling_deploy", bool), ("supports_rolling_deployments", bool), ("supports_restrict_robots", bool),
                                   ("_links", ref("Links"))])
        let varProps: [(String, JSON)] = [("id", str), ("name", str), ("attributes", strMap), ("is_json", bool), ("is_sensitive", bool),
                                          ("visible_build", bool), ("visible_runtime", bool), ("application_scope", array(str)),
                                          ("created_at", ts), ("updated_at", ts), ("value", str), ("_links", ref("Links"))]
        let varRequired = ["id", "name", "attributes", "is_json", "is_sensitive", "visible_build", "visible_runtime", "application_scope", "created_at", "updated_at"]
        s["ProjectVariable"] = object(varProps, required: varRequired)
        s["EnvironmentVariable"] = object(varProps + [("project", str), ("environment", str), ("inherited", bool), ("is_enabled", bool), ("is_inheritable", bool)],
                                          required: varRequired + ["project", "environment", "inherited", "is_enabled", "is_inheritable"])
        s["Activity"] = object([("id", str), ("created_at", ts), ("updated_at", ts), ("type", str), ("parameters", anyObject), ("project", str),
                                ("integration", str), ("environments", array(str)), ("state", enumOf(ActivityState.allCases.map(\.rawValue))),
                                ("result", ["type": "string", "enum": ["success", "failure", .null], "nullable": true]),
                                ("started_at", nstr), ("completed_at", nstr), ("cancelled_at", nstr), ("completion_percent", ["type": "integer", "minimum": 0, "maximum": 100]),
                                ("description", str), ("text", str), ("payload", anyObject), ("timings", anyObject), ("commands", array(anyObject)),
                                ("failure_reason", nstr), ("expires_at", nstr), ("log", str), ("_links", ref("Links"))],
                               required: ["id", "created_at", "updated_at", "type", "project", "environments", "state", "result", "completion_percent", "description", "text"])
        return s
    }
}
