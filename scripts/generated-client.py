#!/usr/bin/env python3
"""A client generated from the official OpenAPI document works against Grove unchanged.

Generates a Python client from the official document with openapi-python-client (PyPI), starts a fresh
`grove serve`, and uses the generated functions and models as a script written against Platform.sh would:
log in, list organizations, create a project in one, then read the project, its capabilities, settings,
environments, activities and variables. Any exception while parsing an answer fails the check. The
document is read from outside the project (`--doc`); the generated code lives in a temporary folder.
"""
import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.dont_write_bytecode = True  # importing the sibling script leaves no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
contract = importlib.import_module("official-contract")


def generate(doc, venv_bin):
    out = tempfile.mkdtemp(prefix="grove-generated-")
    # openapi-python-client names Project's inline `status` object ProjectStatus too, then drops both that and
    # the ProjectStatus enum, so the generated package cannot be imported. Generating from a copy with the
    # enum renamed is what a user of the generator has to do as well; nothing else changes.
    with open(doc) as f:
        text = f.read().replace('"#/components/schemas/ProjectStatus"', '"#/components/schemas/OrganizationProjectStatus"')
    spec = json.loads(text)
    spec["components"]["schemas"]["OrganizationProjectStatus"] = spec["components"]["schemas"].pop("ProjectStatus")

    # It also ignores `nullable` on enums (Activity.failure_reason is null on every success), which OpenAPI 3.0.3
    # asks to be spelled as a null among the values; the copy spells it so.
    def nullable_enums(node):
        if isinstance(node, dict):
            if node.get("nullable") and isinstance(node.get("enum"), list) and None not in node["enum"]:
                node["enum"].append(None)
            for v in node.values():
                nullable_enums(v)
        elif isinstance(node, list):
            for v in node:
                nullable_enums(v)
    nullable_enums(spec)
    copy = os.path.join(out, "official.json")
    with open(copy, "w") as f:
        json.dump(spec, f)
    gen = os.path.join(venv_bin, "openapi-python-client")
    r = subprocess.run([gen, "generate", "--path", copy, "--meta", "none", "--output-path", os.path.join(out, "official_client")],
                       capture_output=True, text=True, cwd=out)
    if r.returncode != 0 or not os.path.isdir(os.path.join(out, "official_client", "api")):
        raise SystemExit(f"openapi-python-client failed:\n{r.stdout}\n{r.stderr}")
    sys.path.insert(0, out)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--grove", default=os.environ.get("GROVE_BIN", os.path.join(contract.ROOT, ".build/debug/grove")))
    ap.add_argument("--doc", default=os.environ.get("GROVE_OFFICIAL_OPENAPI",
                                                    os.path.join(contract.ROOT, "..", "shared", "reference", "upsun-openapi.json")))
    args = ap.parse_args()
    if not os.path.exists(args.doc):
        raise SystemExit(f"the official OpenAPI document is not at {args.doc} (set GROVE_OFFICIAL_OPENAPI)")
    generate(args.doc, os.path.dirname(sys.executable))

    from official_client import AuthenticatedClient
    from official_client.api.organizations import list_orgs
    from official_client.api.organization_projects import create_org_project, get_org_project, list_org_projects
    from official_client.api.project import get_projects, get_projects_capabilities
    from official_client.api.project_settings import get_projects_settings
    from official_client.api.environment import list_projects_environments, get_environment
    from official_client.api.project_activity import list_projects_activities
    from official_client.api.project_variables import list_projects_variables, create_projects_variables
    from official_client.api.users import get_current_user
    from official_client.models import (Activity, CreateOrgProjectBody, ListOrgsResponse200, OrganizationProject,
                                        ProjectCapabilities, ProjectSettings, ProjectVariable, User)
    from official_client.models.project_variable_create_input import ProjectVariableCreateInput

    grove = contract.Grove(args.grove)
    failures = []
    steps = 0

    def step(what, fn):
        nonlocal steps
        steps += 1
        try:
            value = fn()
            print(f"ok   {what}")
            return value
        except Exception as e:  # a parse error, an unexpected status or a missing field
            failures.append(f"{what}: {type(e).__name__}: {e}")
            print(f"FAIL {what}: {type(e).__name__}: {str(e)[:400]}")
            return None

    def parsed(response, model):
        if not 200 <= response.status_code < 300:
            raise RuntimeError(f"status {int(response.status_code)}: {response.content[:300]!r}")
        if model is None:
            return json.loads(response.content)
        if not isinstance(response.parsed, model):
            raise TypeError(f"parsed as {type(response.parsed).__name__}, not {model.__name__}")
        return response.parsed

    def each(response, model):
        if not 200 <= response.status_code < 300:
            raise RuntimeError(f"status {int(response.status_code)}: {response.content[:300]!r}")
        items = json.loads(response.content)
        return [model.from_dict(i) for i in items]

    try:
        form = urllib.parse.urlencode({"grant_type": "api_token", "api_token": grove.api_token}).encode()
        with urllib.request.urlopen(urllib.request.Request(grove.base + "/oauth2/token", data=form), timeout=30) as r:
            token = json.load(r)["access_token"]
        # The generator leaves out operations whose schemas it cannot process (Project, Environment): those answer
        # raw content, which is checked as JSON; every other answer must parse into its generated model.
        client = AuthenticatedClient(base_url=grove.base, token=token, raise_on_unexpected_status=False)
        me = step("get_current_user", lambda: parsed(get_current_user.sync_detailed(client=client), User))
        orgs = step("list_orgs", lambda: parsed(list_orgs.sync_detailed(client=client), ListOrgsResponse200))
        org_id = orgs.items[0].id if orgs else None
        project = step("create_org_project", lambda: parsed(create_org_project.sync_detailed(
            organization_id=org_id, client=client,
            body=CreateOrgProjectBody(region="local", title="Generated", organization_id=org_id)), OrganizationProject))
        pid = project.id if project else None
        step("get_org_project", lambda: parsed(get_org_project.sync_detailed(organization_id=org_id, project_id=pid, client=client), OrganizationProject))
        step("list_org_projects", lambda: parsed(list_org_projects.sync_detailed(organization_id=org_id, client=client), None))
        deadline = time.time() + 60
        while time.time() < deadline:
            r = get_environment.sync_detailed(project_id=pid, environment_id="main", client=client)
            if r.status_code == 200 and json.loads(r.content).get("status") == "active":
                break
            time.sleep(0.5)
        step("get_projects", lambda: parsed(get_projects.sync_detailed(project_id=pid, client=client), None))
        step("get_projects_capabilities", lambda: parsed(get_projects_capabilities.sync_detailed(project_id=pid, client=client), ProjectCapabilities))
        step("get_projects_settings", lambda: parsed(get_projects_settings.sync_detailed(project_id=pid, client=client), ProjectSettings))
        step("list_projects_environments", lambda: parsed(list_projects_environments.sync_detailed(project_id=pid, client=client), None))
        step("create_projects_variables", lambda: parsed(create_projects_variables.sync_detailed(
            project_id=pid, client=client, body=ProjectVariableCreateInput(name="GENERATED", value="yes")), None))
        step("list_projects_variables", lambda: each(list_projects_variables.sync_detailed(project_id=pid, client=client), ProjectVariable))
        step("list_projects_activities", lambda: each(list_projects_activities.sync_detailed(project_id=pid, client=client), Activity))
    finally:
        grove.stop()
    print(f"generated client: {steps - len(failures)} of {steps} calls parsed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
