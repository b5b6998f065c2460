#!/usr/bin/env python3
"""Checks Grove's answers against the official Platform.sh/Upsun OpenAPI document, as its clients read them.

Starts a fresh `grove serve`, seeds real data (a pushed app with a database, a redirect route, variables, a
domain, a certificate, a backup, a team, invitations, a second organization, an API token, an SSH key),
then calls every operation Grove implements that the official document also describes and validates each
2xx answer against the official response schema, with extra properties allowed (the one relaxation).
Error answers are checked against Grove's own error shape. Then it walks `_links` from `/users/me` and
`/organizations` the way an HTTP client resolves references, and fails unless projects, environments,
deployments and routes are reached that way.

The official document is a test oracle read from outside the project (`--doc`, default
`../shared/reference/upsun-openapi.json`); it is never copied into it.
"""
import argparse
import copy
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from jsonschema.exceptions import best_match
from openapi_schema_validator import OAS30Validator, oas30_format_checker

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

APP_YAML = """name: app
type: python:3.12
relationships:
  database: "db:postgresql"
disk: 256
mounts:
  uploads:
    source: local
    source_path: uploads
web:
  commands:
    start: python3 -m http.server $PORT
hooks:
  build: echo built
crons:
  tick:
    spec: "0 3 * * *"
    commands:
      start: "true"
operations:
  nothing:
    role: viewer
    commands:
      start: "true"
source:
  operations:
    touch:
      command: "true"
"""
SERVICES_YAML = "db:\n  type: postgresql:15\n  disk: 256\n"
ROUTES_YAML = """"https://{default}/":
  type: upstream
  upstream: "app:http"
"https://www.{default}/":
  type: redirect
  to: "https://{default}/"
"""

# Places where the official document contradicts itself or Platform.sh's own answers; Grove answers what the
# document's description and Platform.sh's clients use. Each is listed in docs/api.md.
DOCUMENT_ERRATA = {
    ("GET /projects/{projectId}/git/diffs/{diffBaseId}/{diffTargetId}", ".old_id"):
        "typed as an attributes object (a copy of `attributes`); it is the old blob id, a string or null like new_id",
    ("GET /users/{user_id}/totp", ".qr_code"):
        "format byte, but described as the data URI of a PNG, which is what a page can show",
}

ERROR_FIELDS = {"status": str, "code": int, "message": str, "title": str, "detail": (dict, str, list)}


class Grove:
    """A `grove serve` of its own on loopback, stopped when the check ends."""

    def __init__(self, binary):
        self.binary = binary
        self.work = tempfile.mkdtemp(prefix="grove-contract-")
        self.log = open(os.path.join(self.work, "log"), "w+")
        self.proc = subprocess.Popen(
            [binary, "serve", "--listen", "127.0.0.1:0", "--router-listen", "127.0.0.1:0", "--router-tls-port", "0",
             "--data-dir", os.path.join(self.work, "data"), "--log-level", "error"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 30
        self.base = None
        while time.time() < deadline and self.base is None:
            time.sleep(0.1)
            self.log.seek(0)
            m = re.search(r"API listening on (http://127\.0\.0\.1:\d+)", self.log.read())
            if m:
                self.base = m.group(1)
        if self.base is None:
            self.stop()
            raise SystemExit("grove serve did not start:\n" + self.output())
        with open(os.path.join(self.work, "data", "initial-api-token")) as f:
            self.api_token = f.read().strip()

    def output(self):
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        shutil.rmtree(self.work, ignore_errors=True)


class Client:
    """JSON over HTTP with a bearer token; every exchange is recorded for validation."""

    def __init__(self, base):
        self.base = base
        self.token = None
        self.exchanges = []

    def call(self, method, path, body=None, record=True, absolute=False):
        url = path if absolute else self.base + path
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                status, ctype, raw = r.status, r.headers.get("Content-Type", ""), r.read()
        except urllib.error.HTTPError as e:
            status, ctype, raw = e.code, e.headers.get("Content-Type", ""), e.read()
        parsed = None
        if raw and "json" in ctype:
            parsed = json.loads(raw)
        if record:
            self.exchanges.append({"method": method, "url": url, "status": status, "type": ctype, "body": parsed, "raw": bool(raw)})
        return status, parsed

    def ok(self, method, path, body=None, **kw):
        status, parsed = self.call(method, path, body, **kw)
        if not 200 <= status < 300:
            raise SystemExit(f"seeding failed: {method} {path} -> {status} {json.dumps(parsed)[:600]}")
        return parsed


def wait_for(what, check, timeout=240):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise SystemExit(f"timed out waiting for {what}")


def self_signed(work, name):
    key, crt = os.path.join(work, name + ".key"), os.path.join(work, name + ".crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt, "-days", "30",
                    "-subj", "/CN=" + name, "-addext", "subjectAltName=DNS:" + name], check=True, capture_output=True)
    with open(key) as k, open(crt) as c:
        return c.read(), k.read()


def ssh_public_key(work):
    path = os.path.join(work, "id_ed25519")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "contract@example.com", "-f", path], check=True)
    with open(path + ".pub") as f:
        return f.read().strip()


def git(args, cwd):
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_AUTHOR_NAME="Contract", GIT_AUTHOR_EMAIL="contract@example.com",
               GIT_COMMITTER_NAME="Contract", GIT_COMMITTER_EMAIL="contract@example.com")
    r = subprocess.run(["git"] + args, cwd=cwd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"git {' '.join(args[:2])} failed: {r.stdout}{r.stderr}")
    return r.stdout


def login(grove, c):
    """Exchanges the server's first API token for an access token (the OAuth2 api_token grant)."""
    form = urllib.parse.urlencode({"grant_type": "api_token", "api_token": grove.api_token}).encode()
    with urllib.request.urlopen(urllib.request.Request(grove.base + "/oauth2/token", data=form), timeout=30) as r:
        c.token = json.load(r)["access_token"]


def seed(grove, c):
    """Real data for every resource type, so answers carry their fields, not empty lists."""
    s = {}
    login(grove, c)
    me = c.ok("GET", "/users/me")
    s["user_id"] = me["id"]
    s["email"] = me["email"]
    s["username"] = me["username"]
    orgs = c.ok("GET", "/organizations")
    s["organization_id"] = orgs["items"][0]["id"]
    sub = c.ok("POST", f"/organizations/{s['organization_id']}/subscriptions", {"project_title": "Contract", "project_region": "local"})
    s["subscription_id"] = str(sub["id"])
    s["projectId"] = s["project_id"] = sub["project_id"]
    pid = s["projectId"]
    wait_for("the project's main environment",
             lambda: c.call("GET", f"/projects/{pid}/environments/main", record=False)[1].get("status") == "active")
    project = c.ok("GET", f"/projects/{pid}")

    # A pushed app with a database, a mount, a cron, a source operation and a redirect route.
    tree = os.path.join(grove.work, "tree")
    os.makedirs(os.path.join(tree, ".platform"))
    for name, text in [(".platform.app.yaml", APP_YAML), (".platform/services.yaml", SERVICES_YAML),
                       (".platform/routes.yaml", ROUTES_YAML), ("index.html", "<h1>contract</h1>\n")]:
        with open(os.path.join(tree, name), "w") as f:
            f.write(text)
    remote = project["repository"].get("http_url", project["repository"]["url"]).replace("http://", f"http://grove:{grove.api_token}@")
    git(["init", "-q", "-b", "main"], tree)
    git(["add", "-A"], tree)
    git(["commit", "-q", "-m", "first"], tree)
    git(["push", "-q", remote, "HEAD:refs/heads/main"], tree)
    with open(os.path.join(tree, "index.html"), "a") as f:
        f.write("<p>second</p>\n")
    git(["commit", "-q", "-am", "second"], tree)
    git(["push", "-q", remote, "HEAD:refs/heads/main"], tree)
    s["environmentId"] = "main"
    env = c.ok("GET", f"/projects/{pid}/environments/main")
    s["head"] = env["head_commit"]
    s["parent_commit"] = git(["rev-parse", "HEAD~1"], tree).strip()
    s["tree"] = git(["rev-parse", "HEAD^{tree}"], tree).strip()
    s["blob"] = git(["rev-parse", "HEAD:index.html"], tree).strip()

    # Variables, a domain, a certificate.
    c.ok("POST", f"/projects/{pid}/variables", {"name": "env:GREETING", "value": "hi", "is_sensitive": False})
    c.ok("POST", f"/projects/{pid}/variables", {"name": "SECRET", "value": "s3cret", "is_sensitive": True})
    c.ok("POST", f"/projects/{pid}/environments/main/variables", {"name": "LEVEL", "value": "{\"a\": 1}", "is_json": True})
    c.ok("PATCH", f"/projects/{pid}/environments/main/variables/LEVEL", {"value": "{\"a\": 2}"})
    s["variableId"] = "LEVEL"
    s["projectVariableId"] = "env:GREETING"
    crt, key = self_signed(grove.work, "contract.example.com")
    cert = c.ok("POST", f"/projects/{pid}/certificates", {"certificate": crt, "key": key})
    s["certificateId"] = cert["_embedded"]["entity"]["id"] if "_embedded" in cert and cert["_embedded"].get("entity") else \
        c.ok("GET", f"/projects/{pid}/certificates")[0]["id"]
    c.ok("POST", f"/projects/{pid}/domains", {"name": "contract.example.com"})
    s["domainId"] = "contract.example.com"

    # A branch with its own data, a backup, a source operation.
    c.ok("POST", f"/projects/{pid}/environments/main/branch", {"name": "feature", "title": "Feature"})
    wait_for("the branch", lambda: c.call("GET", f"/projects/{pid}/environments/feature", record=False)[1].get("status") == "active")
    c.ok("POST", f"/projects/{pid}/environments/main/backup", {"safe": False})
    s["backupId"] = wait_for("the backup", lambda: next(iter(
        b["id"] for b in (c.call("GET", f"/projects/{pid}/environments/main/backups", record=False)[1] or [])
        if b.get("status") == "CREATED"), None))
    wait_for("activities to finish", lambda: all(
        a["state"] == "complete" for a in c.call("GET", f"/projects/{pid}/activities", record=False)[1]))
    acts = c.ok("GET", f"/projects/{pid}/activities")
    s["activityId"] = next(a["id"] for a in acts if a["type"] == "environment.push")
    deps = c.ok("GET", f"/projects/{pid}/environments/main/deployments")
    s["deploymentId"] = deps[0]["id"] if deps else "current"
    routes = c.ok("GET", f"/projects/{pid}/environments/main/routes")
    s["routeId"] = next(iter(routes)) if isinstance(routes, dict) else routes[0]["id"]
    refs = c.ok("GET", f"/projects/{pid}/git/refs")
    s["repositoryRefId"] = refs[0]["ref"].removeprefix("refs/") if isinstance(refs, list) else "heads/main"

    # People: a team with a member, invitations, a second organization, tokens and keys.
    other = c.ok("POST", "/organizations", {"label": "Second Org", "name": "second-org"})
    s["second_org"] = other["id"]
    team = c.ok("POST", "/teams", {"organization_id": s["organization_id"], "label": "Contract Team"})
    s["team_id"] = team["id"]
    c.ok("POST", f"/teams/{s['team_id']}/members", {"user_id": s["user_id"]})
    c.ok("POST", f"/teams/{s['team_id']}/project-access", [{"project_id": pid}])
    c.ok("POST", f"/projects/{pid}/invitations", {"email": "guest@example.com", "role": "viewer",
                                                  "permissions": [{"type": "development", "role": "contributor"}]})
    c.ok("POST", f"/organizations/{s['organization_id']}/invitations", {"email": "member@example.com", "permissions": ["billing"]})
    invs = c.ok("GET", f"/projects/{pid}/invitations")
    s["invitation_id"] = invs[0]["id"]
    token = c.ok("POST", f"/users/{s['user_id']}/api-tokens", {"name": "contract"})
    s["token_id"] = token["id"]
    key = c.ok("POST", "/ssh_keys", {"value": ssh_public_key(grove.work), "title": "laptop"})
    s["key_id"] = str(key["key_id"])
    s["userId"] = s["user_id"]
    s["region_id"] = "local"
    s["environmentTypeId"] = "production"
    s["provider"] = "github"
    s["diffBaseId"], s["diffTargetId"] = s["parent_commit"], s["head"]
    s["repositoryCommitId"], s["repositoryTreeId"], s["repositoryBlobId"] = s["head"], s["tree"], s["blob"]
    return s


def totp_now(secret):
    """The current RFC 6238 code of a base32 secret (30 s steps, 6 digits, SHA-1)."""
    import base64, hashlib, hmac, struct
    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000)


def colleague(grove, email):
    """A second user, made the way an operator does (`grove admin:user-create`)."""
    r = subprocess.run([grove.binary, "admin:user-create", "--email", email, "--data-dir", os.path.join(grove.work, "data")],
                       capture_output=True, text=True)
    m = re.search(r"\(id ([0-9a-f-]+),", r.stdout)
    if r.returncode != 0 or not m:
        raise SystemExit(f"admin:user-create failed: {r.stdout}{r.stderr}")
    return m.group(1)


def exercise_people(grove, c, s):
    """Memberships, project and team access, two-factor enrolment: each write's answer is recorded."""
    pid, org, uid, team = s["projectId"], s["organization_id"], s["user_id"], s["team_id"]
    other = colleague(grove, "colleague@example.com")
    c.call("POST", f"/organizations/{org}/members", {"user_id": other, "permissions": ["projects:list"]})
    c.call("GET", "/users/email=colleague@example.com")
    c.call("PATCH", f"/organizations/{org}/members/{other}", {"permissions": ["projects:list", "members"]})
    c.call("POST", f"/projects/{pid}/user-access", [{"user_id": other, "permissions": ["viewer", "development:contributor"]}])
    c.call("PATCH", f"/users/{other}/project-access/{pid}", {"permissions": ["viewer", "staging:viewer"]})
    c.call("GET", f"/users/{uid}/project-access")
    c.call("DELETE", f"/users/{other}/project-access/{pid}")
    c.call("POST", f"/users/{other}/project-access", [{"project_id": pid, "permissions": ["viewer"]}])
    c.call("DELETE", f"/projects/{pid}/user-access/{other}")
    c.call("POST", f"/teams/{team}/members", {"user_id": other})
    c.call("DELETE", f"/teams/{team}/project-access/{pid}")
    c.call("POST", f"/projects/{pid}/team-access", [{"team_id": team}])
    c.call("GET", f"/projects/{pid}/team-access")
    c.call("DELETE", f"/projects/{pid}/team-access/{team}")
    c.call("POST", f"/teams/{team}/project-access", [{"project_id": pid}])
    c.call("DELETE", f"/organizations/{org}/members/{other}")
    invs = c.ok("GET", f"/organizations/{org}/invitations", record=False)
    if invs:
        c.call("DELETE", f"/organizations/{org}/invitations/{invs[0]['id']}")
    # Two-factor: enrol with a real code, take recovery codes, then the organization enforces it and stops.
    st, enrolment = c.call("GET", f"/users/{uid}/totp")
    if st == 200:
        c.call("POST", f"/users/{uid}/totp", {"secret": enrolment["secret"], "passcode": totp_now(enrolment["secret"])})
        c.call("POST", f"/users/{uid}/codes", {})
    login(grove, c)  # an enrolled user's new token carries mfa, which an enforcing organization asks for
    c.call("POST", f"/organizations/{s['second_org']}/mfa-enforcement/enable", {})
    c.call("GET", f"/organizations/{s['second_org']}/mfa-enforcement")
    c.call("POST", f"/organizations/{s['second_org']}/mfa-enforcement/disable", {})
    c.call("DELETE", f"/users/{uid}/totp")
    c.call("POST", "/me/verification", {})
    c.call("POST", "/me/phone", {})
    # Environment domains on a non-production environment.
    c.call("POST", f"/projects/{pid}/environments/feature/domains", {"name": "feature.example.com", "replacement_for": "contract.example.com"})
    c.call("GET", f"/projects/{pid}/environments/feature/domains/feature.example.com")
    c.call("PATCH", f"/projects/{pid}/environments/feature/domains/feature.example.com", {"attributes": {"a": "b"}})
    c.call("DELETE", f"/projects/{pid}/environments/feature/domains/feature.example.com")
    # A subscription of its own, edited and removed with its project.
    sub = c.ok("POST", f"/organizations/{org}/subscriptions", {"project_title": "Short-lived", "project_region": "local"})
    c.call("PATCH", f"/organizations/{org}/subscriptions/{sub['id']}", {"environments": 4})
    wait_for("the short-lived project", lambda: c.call("GET", f"/projects/{sub['project_id']}/environments/main", record=False)[1].get("status") == "active")
    c.call("DELETE", f"/organizations/{org}/subscriptions/{sub['id']}")
    org3 = c.ok("POST", "/organizations", {"label": "Third", "name": "third-org"})
    c.call("DELETE", f"/organizations/{org3['id']}")


def exercise_writes(grove, c, s):
    """The write operations, in an order that leaves each one something to act on; answers are recorded."""
    pid, org, uid, team = s["projectId"], s["organization_id"], s["user_id"], s["team_id"]
    env = f"/projects/{pid}/environments"

    def settle():
        wait_for("activities to finish", lambda: all(
            a["state"] in ("complete", "cancelled") for a in c.call("GET", f"/projects/{pid}/activities", record=False)[1]))

    # Accounts.
    c.call("PATCH", f"/users/{uid}", {"first_name": "Contract", "last_name": "Checker"})
    c.call("PATCH", f"/organizations/{org}", {"label": "Contract Org"})
    c.call("PATCH", f"/teams/{team}", {"label": "Contract Team 2"})
    c.call("PATCH", f"/profiles/{uid}", {"company_name": "Contract Ltd"})
    c.call("PATCH", f"/profiles/{uid}/address", {"country": "FR"})
    c.call("PATCH", f"/projects/{pid}/user-access/{uid}", {"permissions": ["admin"]})
    c.call("GET", f"/organizations/{org}/members/{uid}")
    c.call("GET", f"/projects/{pid}/user-access/{uid}")
    c.call("GET", f"/users/{uid}/project-access/{pid}")
    c.call("GET", f"/teams/{team}/members/{uid}")
    c.call("GET", f"/projects/{pid}/team-access/{team}")
    c.call("GET", f"/teams/{team}/project-access/{pid}")
    c.call("GET", f"/organizations/{org}/mfa-enforcement")
    c.call("POST", f"/organizations/{s['second_org']}/mfa/remind", {})

    # Project and environments.
    c.call("PATCH", f"/projects/{pid}/settings", {"cron_minimum_interval": 5})
    c.call("PATCH", f"/organizations/{org}/projects/{pid}", {"title": "Contract 2"})
    c.call("PATCH", f"{env}/feature", {"title": "Feature 2"})
    c.call("PATCH", f"/projects/{pid}/variables/env:GREETING", {"value": "hello"})
    c.call("PATCH", f"/projects/{pid}/domains/contract.example.com", {"attributes": {"team": "web"}})
    c.call("PATCH", f"/projects/{pid}/certificates/{s['certificateId']}", {"is_invalid": False})
    # Each action starts an activity; the next one waits for it.
    for path, body in [("feature/redeploy", {}), ("feature/deactivate", {}), ("feature/activate", {}), ("feature/pause", {}),
                       ("feature/resume", {}), ("feature/synchronize", {"synchronize_code": True, "synchronize_data": True}),
                       ("feature/merge", {}), ("main/source-operation", {"operation": "touch"}),
                       ("main/deployments/current/operations", {"service": "app", "operation": "nothing"}),
                       (f"main/backups/{s['backupId']}/restore", {"environment_name": "restored"})]:
        c.call("POST", f"{env}/{path}", body)
        settle()
    c.call("POST", f"/projects/{pid}/clear_build_cache", {})

    # Integrations: a webhook and an activity script listening to nothing (no delivery is attempted, nothing leaves the
    # machine), a health channel; read, changed and removed.
    base = f"/projects/{pid}/integrations"
    made = []
    for body in [{"type": "webhook", "url": "https://93.184.215.14/hook", "events": ["nothing.matches"], "shared_key": "contract-key"},
                 {"type": "health.pagerduty", "routing_key": "contract-routing"},
                 {"type": "script", "script": "console.log(activity.id);", "events": ["nothing.matches"]}]:
        made.append(c.ok("POST", base, body)["_embedded"]["entity"]["id"])
    c.call("GET", base)
    for iid in made:
        c.call("GET", f"{base}/{iid}")
    c.call("PATCH", f"{base}/{made[0]}", {"type": "webhook", "url": "https://93.184.215.14/hook2"})
    for iid in made:
        c.call("DELETE", f"{base}/{iid}")
    settle()

    # Removals.
    c.call("DELETE", f"/projects/{pid}/variables/env:GREETING")
    c.call("DELETE", f"{env}/main/variables/LEVEL")
    c.call("DELETE", f"/projects/{pid}/domains/contract.example.com")
    c.call("DELETE", f"{env}/main/backups/{s['backupId']}")
    c.call("DELETE", f"/projects/{pid}/invitations/{s['invitation_id']}")
    c.call("DELETE", f"/users/{uid}/api-tokens/{s['token_id']}")
    c.call("DELETE", f"/ssh_keys/{s['key_id']}")
    c.call("DELETE", f"/teams/{team}/project-access/{pid}")
    c.call("DELETE", f"/teams/{team}/members/{uid}")
    c.call("DELETE", f"/teams/{team}")
    c.call("POST", f"{env}/restored/deactivate", {})
    settle()
    c.call("DELETE", f"{env}/restored")
    settle()
    c.call("DELETE", f"/projects/{pid}/certificates/{s['certificateId']}")


def official_operations(doc):
    """(method, compiled path pattern, template, literal weight) for every operation of the official document."""
    ops = []
    for template, item in doc["paths"].items():
        parts = []
        weight = 0
        for seg in template.strip("/").split("/"):
            m = re.fullmatch(r"([^{]*)\{[^}]+\}", seg)
            if m:
                parts.append(re.escape(m.group(1)) + "[^/]+")
                weight += 1 if m.group(1) else 0
            else:
                parts.append(re.escape(seg))
                weight += 2
        pattern = re.compile("^/" + "/".join(parts) + "$")
        for method in item:
            if method in ("get", "post", "patch", "put", "delete"):
                ops.append((method.upper(), pattern, template, weight))
    return ops


def relaxed(node):
    """The official schemas with `additionalProperties: false` lifted: extra fields are allowed.

    Two consequences are read the way the document means them: `oneOf` becomes `anyOf` (with extra
    fields allowed, a redirect route also satisfies the proxy route schema, so exclusivity cannot hold),
    and a nullable enum admits null (OpenAPI 3.0's `nullable` beside `enum`)."""
    if isinstance(node, dict):
        out = {("anyOf" if k == "oneOf" else k): relaxed(v) for k, v in node.items()
               if not (k == "additionalProperties" and v is False)}
        if out.get("nullable") and isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = out["enum"] + [None]
        if out.get("nullable") and "allOf" in out:
            # `nullable` beside `allOf` means the whole may be null, which OpenAPI 3.0 validators do not carry into allOf.
            return {"anyOf": [out, {"enum": [None]}]}
        return out
    if isinstance(node, list):
        return [relaxed(v) for v in node]
    return node


def validate(doc, exchanges, grove_base):
    ops = official_operations(doc)
    components = relaxed(doc.get("components", {}))
    problems = {}
    checked = 0
    undocumented = set()
    for ex in exchanges:
        path = urllib.parse.urlsplit(ex["url"]).path
        if path.startswith("/api/"):
            path = path[4:]
        key = None
        if not 200 <= ex["status"] < 300:
            body = ex["body"]
            if ex["status"] >= 400 and ex["status"] != 404 or body is not None:
                bad = [f for f, t in ERROR_FIELDS.items() if not isinstance(body, dict) or not isinstance(body.get(f), t)]
                if bad and ex["status"] >= 400:
                    problems.setdefault(f"{ex['method']} {path} -> {ex['status']} (error shape)", []).append(
                        f"missing or mistyped: {', '.join(bad)}")
            continue
        matches = [o for o in ops if o[0] == ex["method"] and o[1].match(path)]
        if not matches:
            undocumented.add(f"{ex['method']} {path}")
            continue
        method, _, template, _ = max(matches, key=lambda o: o[3])
        key = f"{method} {template}"
        op = doc["paths"][template][method.lower()]
        responses = op.get("responses", {})
        resp = responses.get(str(ex["status"])) or responses.get(f"{str(ex['status'])[0]}XX")
        if resp is None:
            documented = sorted(k for k in responses if k.startswith("2"))
            if documented or "default" not in responses:
                problems.setdefault(key, []).append(f"status {ex['status']} is not documented (documented: {', '.join(documented)})")
                continue
            resp = responses["default"]
        content = resp.get("content") or {}
        if not content:
            continue
        schema = (content.get("application/json") or next(iter(content.values()))).get("schema")
        if schema is None:
            continue
        if ex["body"] is None:
            problems.setdefault(key, []).append(f"status {ex['status']} without a JSON body; the document describes one")
            continue
        checked += 1
        validator = OAS30Validator(dict(relaxed(schema), components=components), format_checker=oas30_format_checker)
        for err in sorted(validator.iter_errors(ex["body"]), key=lambda e: list(e.absolute_path)):
            if err.validator in ("oneOf", "anyOf") and err.context:
                # Name the alternative that came closest rather than repeating the whole instance.
                err = best_match(err.context)
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path) or "(root)"
            where = re.sub(r"\[\d+\]", "[]", where)
            if (key, re.sub(r"\[\]", "", where) if where.startswith("[]") else where) in DOCUMENT_ERRATA or (key, where.removeprefix("[]")) in DOCUMENT_ERRATA:
                continue
            msg = err.message if len(err.message) < 220 else err.message[:200] + "..."
            problems.setdefault(key, []).append(f"{where}: {msg}")
    return checked, problems, undocumented


def walk_links(c, start):
    """Follows `_links` from the start documents as a client does (RFC 3986 resolution against the fetched URL).

    Besides links, it takes the steps the official CLI takes by itself: `extended-access` for the user it
    got from `/users/me`, the gateway's `/projects/{id}` for each `/ref/projects` entry, and
    `deployments/current` under an environment's `self`."""
    seen, queue, reached, broken = set(), [c.base + p for p in start], [], []
    host = urllib.parse.urlsplit(c.base).netloc
    while queue and len(seen) < 400:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        status, body = c.call("GET", url, absolute=True)
        if not 200 <= status < 300:
            broken.append(f"{url} -> {status}")
            continue
        path = urllib.parse.urlsplit(url).path
        reached.append(path)
        derived = []
        if path == "/users/me" and isinstance(body, dict):
            derived.append(f"/users/{body['id']}/extended-access?filter[resource_type]=project")
        if path == "/ref/projects" and isinstance(body, dict):
            derived += [f"/projects/{pid}" for pid, ref in body.items() if isinstance(ref, dict)]
        for d in derived:
            target = urllib.parse.urljoin(url, d)
            if target not in seen:
                queue.append(target)
        docs = body if isinstance(body, list) else [body]
        if isinstance(body, dict) and isinstance(body.get("items"), list):
            docs += body["items"]
        if isinstance(body, dict) and isinstance(body.get("_embedded"), dict):
            for v in body["_embedded"].values():
                docs += v if isinstance(v, list) else [v]
        for d in docs:
            links = d.get("_links") if isinstance(d, dict) else None
            if not isinstance(links, dict):
                continue
            if "machine_name" in d and isinstance(links.get("self"), dict):
                queue.append(urllib.parse.urljoin(url, links["self"]["href"]) + "/deployments/current")
            for name, link in links.items():
                for l in (link if isinstance(link, list) else [link]):
                    if not isinstance(l, dict) or "href" not in l or l.get("method", "GET").upper() != "GET":
                        continue
                    meta = l.get("meta") if isinstance(l.get("meta"), dict) else {}
                    if any(m.lower() != "get" for m in meta) or name in ("avatar", "git", "ssh", "public-url", "help", "#ui"):
                        continue
                    if name.startswith("pf:"):
                        continue
                    target = urllib.parse.urljoin(url, l["href"])
                    split = urllib.parse.urlsplit(target)
                    if split.netloc != host or "/log" in split.path or split.path.endswith("/openapi.json"):
                        continue
                    if target not in seen:
                        queue.append(target)
    return reached, broken


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--grove", default=os.environ.get("GROVE_BIN", os.path.join(ROOT, ".build/debug/grove")))
    ap.add_argument("--doc", default=os.environ.get("GROVE_OFFICIAL_OPENAPI",
                                                    os.path.join(ROOT, "..", "shared", "reference", "upsun-openapi.json")))
    ap.add_argument("--verbose", action="store_true", help="list every write and every non-2xx answer")
    ap.add_argument("--only", help="report only operations whose key contains this text")
    args = ap.parse_args()
    if not os.path.exists(args.doc):
        raise SystemExit(f"the official OpenAPI document is not at {args.doc} (set GROVE_OFFICIAL_OPENAPI)")
    with open(args.doc) as f:
        doc = json.load(f)

    grove = Grove(args.grove)
    try:
        c = Client(grove.base)
        s = seed(grove, c)
        with urllib.request.urlopen(grove.base + "/openapi.json", timeout=30) as r:
            own = json.load(r)
        missing = []
        for template, item in own["paths"].items():
            if "get" not in item:
                continue
            path = template
            if template == "/projects/{projectId}/variables/{variableId}":
                path = template.replace("{variableId}", "{projectVariableId}")
                template = path
            for name in re.findall(r"\{([^}]+)\}", template):
                if name not in s:
                    missing.append(template)
                    break
                path = path.replace("{" + name + "}", urllib.parse.quote(s[name], safe=""))
            else:
                if path.endswith("/log") or "/logs" in path:
                    continue
                c.call("GET", path)
        for template in missing:
            print(f"note: no seeded value for a parameter of {template}")
        reached, broken = walk_links(c, ["/users/me", "/organizations"])
        exercise_people(grove, c, s)
        exercise_writes(grove, c, s)
        checked, problems, undocumented = validate(doc, c.exchanges, grove.base)
        if args.verbose:
            for ex in c.exchanges:
                if ex["method"] != "GET" or not 200 <= ex["status"] < 300:
                    print(f"  {ex['method']} {urllib.parse.urlsplit(ex['url']).path} -> {ex['status']}"
                          + ("" if 200 <= ex["status"] < 300 else f" {json.dumps(ex['body'])[:200]}"))
        if args.only:
            problems = {k: v for k, v in problems.items() if args.only in k}
        failures = 0
        for key in sorted(problems):
            unique = sorted(set(problems[key]))
            failures += len(unique)
            print(f"MISMATCH {key}")
            for p in unique[:40]:
                print(f"    {p}")
            if len(unique) > 40:
                print(f"    ... and {len(unique) - 40} more")
        pid = s["projectId"]
        wanted = {"a project": f"/projects/{pid}", "its environments": f"/projects/{pid}/environments",
                  "an environment": f"/projects/{pid}/environments/main",
                  "a deployment": f"/projects/{pid}/environments/main/deployments/current",
                  "routes": f"/projects/{pid}/environments/main/routes", "/ref/projects": "/ref/projects"}
        norm = [p[4:] if p.startswith("/api/") else p for p in reached]
        for what, path in wanted.items():
            if path not in norm:
                failures += 1
                print(f"LINKS: {what} ({path}) is not reachable by following _links from /users/me and /organizations")
        for b in broken:
            failures += 1
            print(f"LINKS: broken link {b}")
        print(f"official contract: {checked} answers validated, {len(reached)} documents reached by links, "
              f"{len(undocumented)} calls outside the official document, {failures} mismatches")
        if "Fatal error" in grove.output():
            print(grove.output())
            failures += 1
        return 1 if failures else 0
    finally:
        grove.stop()


if __name__ == "__main__":
    sys.exit(main())
