import GroveModel

/// The access and accounts part of `/openapi.json`: ACLs, user and team access, teams, invitations, SSH keys,
/// MFA and profiles.
extension OpenAPISpec {
    static func accessOperations() -> [(String, String, JSON)] {
        let P = param("projectId"), PO = param("project_id"), U = param("user_id"), O = param("organization_id"), T = param("team_id")
        let page = [param("page[size]", in: "query", ["type": "integer", "minimum": 1, "maximum": 200]),
                    param("page[before]", in: "query"), param("page[after]", in: "query")]
        let projectPermission = enumOf(["admin", "viewer"] + EnvironmentType.allCases.flatMap { t in EnvironmentRole.allCases.map { "\(t.rawValue):\($0.rawValue)" } })
        let permissions: JSON = ["type": "array", "minItems": 1, "items": projectPermission]
        let listLinks = ref("Links")
        var ops: [(String, String, JSON)] = []
        func add(_ path: String, _ method: String, _ o: JSON) { ops.append((path, method, o)) }

        // Project ACL and environment-type ACLs (with the deprecated per-environment alias).
        let aclBody = object([("user", str), ("email", str), ("role", enumOf(ProjectRole.allCases.map(\.rawValue)))], required: ["role"])
        add("/projects/{projectId}/access", "get", op("list-projects-access", "Project access control list", tag: "Project Access", params: [P], response: array(ref("ProjectAccess"))))
        add("/projects/{projectId}/access", "post", op("create-projects-access", "Add a user to the project ACL", tag: "Project Access", params: [P], body: aclBody,
                                                       status: "201", response: result(ref("ProjectAccess"))))
        let PA = param("projectAccessId")
        add("/projects/{projectId}/access/{projectAccessId}", "get", op("get-projects-access", "Get one ACL entry", tag: "Project Access", params: [P, PA], response: ref("ProjectAccess")))
        add("/projects/{projectId}/access/{projectAccessId}", "patch", op("update-projects-access", "Change a user's role", tag: "Project Access", params: [P, PA],
                                                                          body: object([("role", enumOf(ProjectRole.allCases.map(\.rawValue)))]), response: result(ref("ProjectAccess"))))
        add("/projects/{projectId}/access/{projectAccessId}", "delete", op("delete-projects-access", "Remove a user from the ACL", tag: "Project Access", params: [P, PA], response: result(nil)))
        let typeBody = object([("user", str), ("email", str), ("role", enumOf(EnvironmentRole.allCases.map(\.rawValue)))], required: ["role"])
        let typeRole = object([("role", enumOf(EnvironmentRole.allCases.map(\.rawValue)))])
        for (base, params, entry, tag, prefix) in [
            ("/projects/{projectId}/environment-types/{environmentTypeId}/access", [P, param("environmentTypeId")], "environmentTypeAccessId", "Environment Type Access", "projects-environment-types-access"),
            ("/projects/{projectId}/environments/{environmentId}/access", [P, param("environmentId")], "environmentAccessId", "Environment Access (deprecated)", "projects-environments-access"),
        ] {
            let E = param(entry)
            add(base, "get", op("list-" + prefix, "ACL of an environment type", tag: tag, params: params, response: array(ref("EnvironmentTypeAccess"))))
            add(base, "post", op("create-" + prefix, "Add a user to an environment type's ACL", tag: tag, params: params, body: typeBody, status: "201",
                                 response: result(ref("EnvironmentTypeAccess"))))
            add(base + "/{\(entry)}", "get", op("get-" + prefix, "Get one entry", tag: tag, params: params + [E], response: ref("EnvironmentTypeAccess")))
            add(base + "/{\(entry)}", "patch", op("update-" + prefix, "Change the role", tag: tag, params: params + [E], body: typeRole, response: result(ref("EnvironmentTypeAccess"))))
            add(base + "/{\(entry)}", "delete", op("delete-" + prefix, "Remove the entry", tag: tag, params: params + [E], response: result(nil)))
        }

        // User access, both ways.
        let uaList = object([("items", array(ref("UserProjectAccess"))), ("_links", listLinks)])
        add("/projects/{project_id}/user-access", "get", op("list-project-user-access", "List user access for a project", tag: "User Access", params: [PO] + page, response: uaList))
        add("/projects/{project_id}/user-access", "post", op("grant-project-user-access", "Grant users access to a project", tag: "User Access", params: [PO],
                                                             body: ["type": "array", "minItems": 1, "items": object([("user_id", str), ("permissions", permissions), ("auto_add_member", bool)], required: ["user_id", "permissions"])],
                                                             status: "204"))
        add("/projects/{project_id}/user-access/{user_id}", "get", op("get-project-user-access", "Get user access for a project", tag: "User Access", params: [PO, U], response: ref("UserProjectAccess")))
        add("/projects/{project_id}/user-access/{user_id}", "patch", op("update-project-user-access", "Update user access for a project", tag: "User Access", params: [PO, U],
                                                                        body: object([("permissions", permissions)]), status: "204"))
        add("/projects/{project_id}/user-access/{user_id}", "delete", op("remove-project-user-access", "Remove user access for a project", tag: "User Access", params: [PO, U], status: "204"))
        add("/users/{user_id}/project-access", "get", op("list-user-project-access", "List project access for a user", tag: "User Access",
                                                         params: [U, param("filter[organization_id]", in: "query")] + page, response: uaList))
        add("/users/{user_id}/project-access", "post", op("grant-user-project-access", "Grant a user access to projects", tag: "User Access", params: [U],
                                                          body: ["type": "array", "minItems": 1, "items": object([("project_id", str), ("permissions", permissions)])], status: "204"))
        add("/users/{user_id}/project-access/{project_id}", "get", op("get-user-project-access", "Get project access for a user", tag: "User Access", params: [U, PO], response: ref("UserProjectAccess")))
        add("/users/{user_id}/project-access/{project_id}", "patch", op("update-user-project-access", "Update project access for a user", tag: "User Access", params: [U, PO],
                                                                        body: object([("permissions", permissions)]), status: "204"))
        add("/users/{user_id}/project-access/{project_id}", "delete", op("remove-user-project-access", "Remove project access for a user", tag: "User Access", params: [U, PO], status: "204"))

        // Teams and team access.
        let teamList = object([("count", int), ("items", array(ref("Team"))), ("_links", listLinks)])
        add("/teams", "get", op("list-teams", "List teams", tag: "Teams", params: [param("filter[organization_id]", in: "query")] + page, response: teamList))
        add("/teams", "post", op("create-team", "Create team", tag: "Teams", body: object([("organization_id", str), ("label", str), ("project_permissions", permissions)],
                                                                                     required: ["organization_id", "label"]), status: "201", response: ref("Team")))
        add("/teams/{team_id}", "get", op("get-team", "Get team", tag: "Teams", params: [T], response: ref("Team")))
        add("/teams/{team_id}", "patch", op("update-team", "Update team", tag: "Teams", params: [T], body: object([("label", str), ("project_permissions", permissions)], required: []), response: ref("Team")))
        add("/teams/{team_id}", "delete", op("delete-team", "Delete team", tag: "Teams", params: [T], status: "204"))
        add("/teams/{team_id}/members", "get", op("list-team-members", "List team members", tag: "Teams", params: [T] + page,
                                                  response: object([("items", array(ref("TeamMember"))), ("_links", listLinks)])))
        add("/teams/{team_id}/members", "post", op("create-team-member", "Create team member", tag: "Teams", params: [T], body: object([("user_id", str)]), status: "201", response: ref("TeamMember")))
        add("/teams/{team_id}/members/{user_id}", "get", op("get-team-member", "Get team member", tag: "Teams", params: [T, U], response: ref("TeamMember")))
        add("/teams/{team_id}/members/{user_id}", "delete", op("delete-team-member", "Delete team member", tag: "Teams", params: [T, U], status: "204"))
        add("/users/{user_id}/teams", "get", op("list-user-teams", "User teams", tag: "Teams", params: [U, param("filter[organization_id]", in: "query")] + page, response: teamList))
        add("/ref/teams", "get", op("list-referenced-teams", "Teams by id", tag: "References", params: [param("in", in: "query", str, required: false)],
                                    response: ["type": "object", "additionalProperties": ["nullable": true, "allOf": [ref("Team")]]]))
        let taList = object([("items", array(ref("TeamProjectAccess"))), ("_links", listLinks)])
        add("/projects/{project_id}/team-access", "get", op("list-project-team-access", "List team access for a project", tag: "Team Access", params: [PO] + page, response: taList))
        add("/projects/{project_id}/team-access", "post", op("grant-project-team-access", "Grant teams access to a project", tag: "Team Access", params: [PO],
                                                             body: ["type": "array", "minItems": 1, "items": object([("team_id", str)])], status: "204"))
        add("/projects/{project_id}/team-access/{team_id}", "get", op("get-project-team-access", "Get team access for a project", tag: "Team Access", params: [PO, T], response: ref("TeamProjectAccess")))
        add("/projects/{project_id}/team-access/{team_id}", "delete", op("remove-project-team-access", "Remove team access for a project", tag: "Team Access", params: [PO, T], status: "204"))
        add("/teams/{team_id}/project-access", "get", op("list-team-project-access", "List project access for a team", tag: "Team Access", params: [T] + page, response: taList))
        add("/teams/{team_id}/project-access", "post", op("grant-team-project-access", "Grant a team access to projects", tag: "Team Access", params: [T],
                                                          body: ["type": "array", "minItems": 1, "items": object([("project_id", str)])], status: "204"))
        add("/teams/{team_id}/project-access/{project_id}", "get", op("get-team-project-access", "Get project access for a team", tag: "Team Access", params: [T, PO], response: ref("TeamProjectAccess")))
        add("/teams/{team_id}/project-access/{project_id}", "delete", op("remove-team-project-access", "Remove project access for a team", tag: "Team Access", params: [T, PO], status: "204"))

        // Invitations.
        let IV = param("invitation_id")
        let stateFilter = param("filter[state]", in: "query")
        add("/projects/{project_id}/invitations", "get", op("list-project-invites", "List invitations to a project", tag: "Project Invitations", params: [PO, stateFilter], response: array(ref("Invitation"))))
        add("/projects/{project_id}/invitations", "post", op("create-project-invite", "Invite user to a project by email", tag: "Project Invitations", params: [PO],
                                                             body: object([("email", str), ("role", enumOf(ProjectRole.allCases.map(\.rawValue))), ("permissions", permissions),
                                                                           ("environments", array(object([("id", str), ("role", enumOf(EnvironmentRole.allCases.map(\.rawValue)))]))),
                                                                           ("force", bool)], required: ["email"]),
                                                             status: "201", response: ref("Invitation")))
        add("/projects/{project_id}/invitations/{invitation_id}", "delete", op("cancel-project-invite", "Cancel a pending invitation to a project", tag: "Project Invitations", params: [PO, IV], status: "204"))
        add("/organizations/{organization_id}/invitations", "get", op("list-org-invites", "List invitations to an organization", tag: "Organization Invitations", params: [O, stateFilter], response: array(ref("Invitation"))))
        add("/organizations/{organization_id}/invitations", "post", op("create-org-invite", "Invite user to an organization by email", tag: "Organization Invitations", params: [O],
                                                                       body: object([("email", str), ("permissions", array(enumOf(OrganizationPermission.allCases.map(\.rawValue)))), ("force", bool)],
                                                                                    required: ["email", "permissions"]),
                                                                       status: "201", response: ref("Invitation")))
        add("/organizations/{organization_id}/invitations/{invitation_id}", "delete", op("cancel-org-invite", "Cancel a pending invitation to an organization", tag: "Organization Invitations", params: [O, IV], status: "204"))
        let TK = param("token")
        add("/invitations/{token}", "get", op("get-invitation-by-token", "An invitation, by the secret of its link (Grove)", tag: "Invitations", params: [TK], response: ref("Invitation"), secured: false))
        add("/invitations/{token}/accept", "post", op("accept-invitation", "Accept an invitation, creating the account when needed (Grove)", tag: "Invitations", params: [TK],
                                                      body: object([("password", str), ("username", str), ("first_name", str), ("last_name", str)], required: []),
                                                      response: object([("invitation", ref("Invitation")), ("user_id", str), ("email", str)]), secured: false))

        // Account changes confirmed by a mailed link.
        add("/users/{user_id}/emailaddress", "post", op("reset-email-address", "Change the account's email address: a confirmation link goes to the new one",
                                                        tag: "Users", params: [U], body: object([("email_address", str)], required: ["email_address"]), status: "204"))
        add("/email-confirmations/{token}", "post", op("confirm-email-address", "Confirm a new email address with the mailed link's secret (Grove)", tag: "Users",
                                                       params: [TK], response: object([("user_id", str), ("email", str)]), secured: false))
        add("/users/{user_id}/resetpassword", "post", op("reset-password", "Mail a password reset link to the account's address", tag: "Users", params: [U],
                                                         status: "204"))
        add("/password-resets", "post", op("request-password-reset", "Mail a password reset link to an account's address, if one has it (Grove)",
                                           tag: "Users", body: object([("email", str)], required: ["email"]), status: "204", secured: false))
        add("/password-resets/{token}", "post", op("complete-password-reset", "Set a new password with the mailed link's secret; other sessions end (Grove)",
                                                   tag: "Users", params: [TK], body: object([("password", str)], required: ["password"]),
                                                   response: object([("user_id", str)]), secured: false))

        // SSH keys.
        add("/ssh_keys", "post", op("create-ssh-key", "Add a new public SSH key to the current user", tag: "Ssh Keys",
                                    body: object([("value", str), ("title", str), ("uuid", str)], required: ["value"]), status: "201", response: ref("SshKey")))
        add("/ssh_keys/{key_id}", "get", op("get-ssh-key", "Get an SSH key", tag: "Ssh Keys", params: [param("key_id")], response: ref("SshKey")))
        add("/ssh_keys/{key_id}", "delete", op("delete-ssh-key", "Delete an SSH key", tag: "Ssh Keys", params: [param("key_id")], status: "204"))

        // MFA.
        let codes = object([("recovery_codes", array(str))])
        add("/users/{user_id}/totp", "get", op("get-totp-enrollment", "Start a TOTP enrollment: a new secret", tag: "Mfa", params: [U],
                                               response: object([("issuer", str), ("account_name", str), ("secret", str), ("qr_code", str), ("provisioning_uri", str)])))
        add("/users/{user_id}/totp", "post", op("confirm-totp-enrollment", "Confirm a TOTP enrollment with a code", tag: "Mfa", params: [U],
                                                body: object([("secret", str), ("passcode", str)]), response: codes))
        add("/users/{user_id}/totp", "delete", op("withdraw-totp-enrollment", "Withdraw TOTP enrollment", tag: "Mfa", params: [U], status: "204"))
        add("/users/{user_id}/codes", "post", op("recreate-recovery-codes", "Re-create recovery codes", tag: "Mfa", params: [U], status: "201", response: codes))
        add("/organizations/{organization_id}/mfa-enforcement", "get", op("get-org-mfa-enforcement", "Get organization MFA settings", tag: "Mfa", params: [O],
                                                                         response: object([("enforce_mfa", bool)])))
        add("/organizations/{organization_id}/mfa-enforcement/enable", "post", op("enable-org-mfa-enforcement", "Enable organization MFA enforcement", tag: "Mfa", params: [O], status: "204"))
        add("/organizations/{organization_id}/mfa-enforcement/disable", "post", op("disable-org-mfa-enforcement", "Disable organization MFA enforcement", tag: "Mfa", params: [O], status: "204"))
        add("/organizations/{organization_id}/mfa/remind", "post", op("send-org-mfa-reminders", "Send MFA reminders to organization members", tag: "Mfa", params: [O],
                                                                      body: object([("user_ids", array(str))], required: []),
                                                                      response: ["type": "object", "additionalProperties": object([("code", int), ("message", str)])]))

        // Federated login connections (none: Grove has no identity providers).
        add("/users/{user_id}/connections", "get", op("list-login-connections", "List federated login connections", tag: "Connections", params: [U],
                                                      response: array(anyObject)))
        add("/users/{user_id}/connections/{provider}", "get", op("get-login-connection", "Get a federated login connection", tag: "Connections",
                                                                 params: [U, param("provider")], response: anyObject))
        add("/users/{user_id}/connections/{provider}", "delete", op("delete-login-connection", "Delete a federated login connection", tag: "Connections",
                                                                    params: [U, param("provider")], status: "204"))

        // Profiles.
        let UID = param("userId")
        add("/profiles", "get", op("list-profiles", "List user profiles", tag: "User Profiles", response: object([("count", int), ("profiles", array(ref("Profile"))), ("_links", listLinks)])))
        add("/profiles/{userId}", "get", op("get-profile", "Get a single user profile", tag: "User Profiles", params: [UID], response: ref("Profile")))
        add("/profiles/{userId}", "patch", op("update-profile", "Update a user profile", tag: "User Profiles", params: [UID],
                                              body: object([("display_name", str), ("username", str), ("current_password", str), ("password", str), ("marketing", bool)]
                                                           + ProfileExtras.stringFields.map { ($0, str) }, required: []),
                                              response: ref("Profile")))
        let address = object(Address.fields.map { ($0, str) }, required: [])
        add("/profiles/{userId}/address", "get", op("get-address", "Get a user address", tag: "User Profiles", params: [UID], response: address))
        add("/profiles/{userId}/address", "patch", op("update-address", "Update a user address", tag: "User Profiles", params: [UID], body: address, response: address))
        return ops
    }

    static func accessSchemas(into s: inout JSONObject) {
        s["ProjectAccess"] = object([("id", str), ("user", str), ("email", nstr), ("role", enumOf(ProjectRole.allCases.map(\.rawValue))), ("_links", ref("Links"))])
        s["EnvironmentTypeAccess"] = object([("id", str), ("user", str), ("email", nstr), ("role", enumOf(EnvironmentRole.allCases.map(\.rawValue))),
                                             ("environment_type", str), ("_links", ref("Links"))])
        let actionLinks: JSON = ["type": "object", "additionalProperties": true]
        s["UserProjectAccess"] = object([("user_id", str), ("organization_id", str), ("project_id", str), ("project_title", str), ("permissions", array(str)),
                                         ("granted_at", str), ("updated_at", str), ("_links", actionLinks)])
        s["TeamProjectAccess"] = object([("team_id", str), ("organization_id", str), ("project_id", str), ("project_title", str), ("granted_at", str),
                                         ("updated_at", str), ("_links", actionLinks)])
        s["Team"] = object([("id", str), ("organization_id", str), ("label", str), ("project_permissions", array(str)),
                            ("counts", object([("member_count", int), ("project_count", int)])), ("created_at", str), ("updated_at", str)])
        s["TeamMember"] = object([("team_id", str), ("user_id", str), ("created_at", str), ("updated_at", str), ("_links", ref("Links"))])
        s["Invitation"] = object([("id", str), ("state", enumOf(["pending", "processing", "accepted", "cancelled", "error", "expired"])), ("organization_id", str),
                                  ("project_id", str), ("role", str), ("permissions", array(str)), ("environments", array(anyObject)), ("email", str),
                                  ("owner", object([("id", str)])), ("created_at", str), ("updated_at", str), ("finished_at", nstr), ("expires_at", str)],
                                 required: ["id", "state", "email", "owner", "created_at", "updated_at", "expires_at"])
        s["SshKey"] = object([("key_id", int), ("uid", int), ("fingerprint", str), ("title", str), ("value", str), ("changed", str), ("_links", ref("Links"))])
        s["Profile"] = ["type": "object", "additionalProperties": true, "required": ["id", "display_name", "email", "username", "type", "created_at", "updated_at"],
                        "properties": .object(JSONObject([("id", str), ("display_name", str), ("email", str), ("username", str), ("type", str),
                                                          ("marketing", bool), ("new_ui", bool), ("created_at", str), ("updated_at", str)]))]
    }
}
