"""
The identity-provider guides (docs/idp/) as tests. Each guide's mapping table is the data: the
tests read the table from the guide, evaluate each row's IdP attribute or expression for a sample
user (Entra's and Okta's expression languages for the forms the guides use, OneLogin's template,
authentik's Python mapping itself), build the requests that IdP sends with those values (shapes
from docs/clients.md), and replay its create → read → update → deactivate → delete cycle and a
group push. The rows listed here must equal the guide's table, so a guide and its test cannot
drift; an expression the test cannot evaluate fails it. Last, the mapping errors the guides quote
must be what the gateway answers, and each names the attribute, the rule, the fix and the guide.
"""

from __future__ import annotations

import copy
import json
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient
from conftest import TEAM, auth
from group_calls import GROUP_URN, GROUPS, MS_GROUP_URN
from scim_calls import (
    CORE_URN,
    ENTERPRISE_URN,
    MAP_URN,
    USERS,
    assert_scim_error,
    patch_body,
)

from gateway.web.keys import USERS as USER_SERVICE

pytestmark = pytest.mark.backends("embedded", "brig")

GUIDES = Path(__file__).resolve().parents[2] / "docs" / "idp"
README = "README.md"
Row = tuple[str, str, str]  # IdP attribute or expression, SCIM attribute, Wire field (as in the guide)

ENTRA_ROWS: list[Row] = [
    ('`ToLower(Replace(NormalizeDiacritics([mailNickname]), , "[^a-zA-Z0-9_.-]", , "", , ))`', "`userName`", "handle"),
    ("`userPrincipalName`", "`externalId`", "SAML NameID"),
    ("`displayName`", "`displayName`", "display name"),
    ("`mail`", '`emails[type eq "work"].value`', "email"),
    ('`Switch([IsSoftDeleted], , "False", "True", "True", "False")`', "`active`", "suspended or active"),
    ("`SingleAppRoleAssignment([appRoleAssignments])`", '`roles[primary eq "True"].value`', "team role"),
    ("`preferredLanguage`", "`preferredLanguage`", "language"),
    ("`department`", f"`{MAP_URN}:Department`", 'profile field "Department"'),
]
OKTA_ROWS: list[Row] = [
    ('`String.toLowerCase(String.substringBefore(user.email, "@"))`', "`userName`", "handle"),
    ("Okta user id (`00u…`, set by Okta)", "`externalId`", "SAML NameID"),
    ("`user.displayName`", "`displayName`", "display name"),
    ("`user.email`", '`emails[type eq "work"].value`', "email"),
    ("`user.firstName`", "`name.givenName`", "kept by the gateway"),
    ("`user.lastName`", "`name.familyName`", "kept by the gateway"),
]
ONELOGIN_ROWS: list[Row] = [
    ("`{$parameters.scimusername}`", "`userName`", "handle"),
    ("`{$user.email}`", "`externalId`", "SAML NameID"),
    ("`{$user.display_name}`", "`displayName`", "display name"),
    ("`{$user.firstname}`", "`name.givenName`", "kept by the gateway"),
    ("`{$user.lastname}`", "`name.familyName`", "kept by the gateway"),
    ("`{$user.email}`", '`emails[type eq "work"].value`', "email"),
]
JUMPCLOUD_ROWS: list[Row] = [
    ("JumpCloud `username`", "`userName`", "handle"),
    ("JumpCloud `email` (*check*)", "`externalId`", "SAML NameID"),
    ("JumpCloud `email`", '`emails[type eq "work"].value`', "email"),
    ("JumpCloud `firstname`", "`name.givenName`", "kept by the gateway"),
    ("JumpCloud `lastname`", "`name.familyName`", "kept by the gateway"),
]
KEYCLOAK_ROWS: list[Row] = [
    ("`username` (`username-source`: `username`)", "`userName`", "handle"),
    ("Keycloak user id (set by the extension)", "`externalId`", "SAML NameID"),
    ("`email`", '`emails[type eq "work"].value`', "email"),
    (f"`department = {MAP_URN}:Department` (`user-extension-mappings`)", f"`{MAP_URN}:Department`",
     'profile field "Department"'),
]  # fmt: skip
AUTHENTIK_ROWS: list[Row] = [
    ("`request.user.username`, before `@`, lower-cased, only `a-z0-9_.-`", "`userName`", "handle"),
    ("`request.user.email`", "`externalId`", "SAML NameID"),
    ("`request.user.name`, when not empty, at most 128 characters", "`displayName`", "display name"),
    ("`request.user.email`", '`emails[type eq "work"].value`', "email"),
    ("`request.user.is_active`", "`active`", "suspended or active"),
]
ROWS = {
    "entra-id.md": ENTRA_ROWS, "okta.md": OKTA_ROWS, "onelogin.md": ONELOGIN_ROWS,
    "jumpcloud.md": JUMPCLOUD_ROWS, "keycloak.md": KEYCLOAK_ROWS, "authentik.md": AUTHENTIK_ROWS,
}  # fmt: skip
# The README sections a mapping error points at, each linking to the same section of every guide.
ERROR_SECTIONS = ("username", "externalid", "displayname", "roles", "preferredlanguage")


# --- reading the guides --------------------------------------------------------------------------


def guide(name: str) -> str:
    return (GUIDES / name).read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    """The body of `## heading`, up to the next `## `."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"no section '## {heading}'"
    return match[1]


def table_rows(text: str) -> list[Row]:
    """The body rows of the first Markdown table in `text`, cells stripped."""
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("|")]
    rows = [tuple(cell.strip() for cell in line.strip("|").split(" | ")) for line in lines[2:]]
    assert all(len(row) == 3 for row in rows), rows
    return rows  # type: ignore[return-value]


def code_blocks(text: str, language: str = "") -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", text, re.M | re.S)


def anchors(text: str) -> set[str]:
    """GitHub's anchors for the headings of a Markdown file."""
    headings = re.findall(r"^#+ (.+)$", text, re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def example(text: str) -> tuple[str, str]:
    """A guide's worked example "`<input>` becomes `<output>`"."""
    match = re.search(r"`([^`]+)` becomes\s+`([^`]+)`", text)
    assert match, "no example"
    return match[1], match[2]


def code(cell: str) -> str:
    """The first `code` span of a table cell."""
    match = re.search(r"`([^`]*)`", cell)
    assert match, cell
    return match[1]


def mapped(rows: list[Row], value: Callable[[str], Any]) -> dict[str, Any]:
    """SCIM attribute → value, each row's IdP side evaluated by `value`."""
    return {code(scim): value(source) for source, scim, _ in rows}


# --- building bodies and checking answers ---------------------------------------------------------

WORK_EMAIL = 'emails[type eq "work"].value'
PRIMARY_ROLE = 'roles[primary eq "True"].value'


def scim_body(values: dict[str, Any], *schemas: str, role_type: str | None = None) -> dict[str, Any]:
    """A User body with each SCIM attribute path of `values` set, as IdPs expand their targets."""
    body: dict[str, Any] = {"schemas": [CORE_URN, *schemas]}
    for path, value in values.items():
        if path == WORK_EMAIL:
            body["emails"] = [{"value": value, "type": "work", "primary": True}]
        elif path == PRIMARY_ROLE:
            body["roles"] = [{"primary": True, "value": value} | ({"type": role_type} if role_type else {})]
        elif path.startswith(MAP_URN + ":"):
            body.setdefault(MAP_URN, {})[path.removeprefix(MAP_URN + ":")] = value
        elif "." in path:
            parent, child = path.split(".", 1)
            body.setdefault(parent, {})[child] = value
        else:
            body[path] = value
    return body


def assert_reflects(user: dict[str, Any], values: dict[str, Any]) -> None:
    """The gateway's User shows each mapped value where Wire keeps it."""
    for path, value in values.items():
        if path == "userName":
            assert value.lower() == user["userName"]
        elif path == WORK_EMAIL:
            assert value == user["emails"][0]["value"]
        elif path == PRIMARY_ROLE:
            assert [{"value": value.lower()}] == user["roles"]
        elif path == "preferredLanguage":
            assert value[:2] == user["preferredLanguage"]
        elif path == "active":
            assert (value if isinstance(value, bool) else value.lower() == "true") is user["active"]
        elif path.startswith(MAP_URN + ":"):
            assert value == user[MAP_URN][path.removeprefix(MAP_URN + ":")]
        elif "." in path:
            parent, child = path.split(".", 1)
            assert value == user[parent][child]
        else:
            assert value == user[path], path


async def call(
    client: TestClient, method: str, path: str, token: str, body: Any = None, status: int = 200, **headers: str
) -> Any:
    response = await client.request(method, path, json=body, headers=auth(token, **headers))
    text = await response.text()
    assert status == response.status, text
    return json.loads(text) if text else None


async def read_back(client: TestClient, token: str, user: dict[str, Any]) -> dict[str, Any]:
    """GET by id, and the userName lookup IdPs make, both find the user; returns the GET body."""
    fetched = await call(client, "GET", f"{USERS}/{user['id']}", token)
    query = quote(f'userName eq "{user["userName"]}"')
    found = await call(client, "GET", f"{USERS}?filter={query}", token)
    assert [user["id"]] == [resource["id"] for resource in found["Resources"]]
    return fetched


async def delete_user(client: TestClient, token: str, user_id: str) -> None:
    """DELETE answers 204; the user is gone afterwards."""
    await call(client, "DELETE", f"{USERS}/{user_id}", token, status=204)
    assert 404 == (await client.get(f"{USERS}/{user_id}", headers=auth(token))).status


async def empty_lookup(client: TestClient, token: str, query: str) -> None:
    """A connection test or lookup that finds nothing: 200 with an empty ListResponse."""
    found = await call(client, "GET", f"{USERS}?{query}", token)
    assert (0, []) == (found["totalResults"], found["Resources"])


async def group_members(client: TestClient, token: str, group_id: str) -> list[str]:
    group = await call(client, "GET", f"{GROUPS}/{group_id}", token)
    return sorted(member["value"] for member in group.get("members", []))


# --- the guides' tables and sections --------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ROWS))
def test_mapping_table_is_the_tested_one(name: str) -> None:
    """Each guide's mapping table has exactly the rows this test sends."""
    assert ROWS[name] == table_rows(section(guide(name), "Attribute mappings"))


@pytest.mark.parametrize("name", sorted(ROWS))
def test_guide_has_every_section(name: str) -> None:
    """Each guide says where URL and token go, how to map each rule, the test and the pitfalls."""
    text = guide(name)
    for heading in ("Tenant URL and token", "Attribute mappings", "userName", "externalId", "displayName",
                    "roles", "preferredLanguage", "Groups", "Test connection", "Pitfalls"):  # fmt: skip
        section(text, heading)
    assert "`https://<host>/scim/v2`" in section(text, "Tenant URL and token")


@pytest.mark.parametrize("anchor", ERROR_SECTIONS)
def test_readme_sections_link_to_every_guide(anchor: str) -> None:
    """Each README section an error points at exists and links to that section of every guide."""
    text = guide(README)
    assert anchor in anchors(text)
    heading = next(h for h in re.findall(r"^## (.+)$", text, re.M) if h.lower() == anchor)
    links = set(re.findall(r"\]\(([\w-]+\.md)#([\w-]+)\)", section(text, heading)))
    assert {(name, anchor) for name in ROWS} == links
    for name in ROWS:
        assert anchor in anchors(guide(name)), name


# --- Microsoft Entra ID ---------------------------------------------------------------------------


def strip_diacritics(text: str) -> str:
    """What Entra's NormalizeDiacritics does: letters without their accents."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def entra(user: dict[str, Any]) -> Callable[[str], Any]:
    """Evaluate the Entra ID expressions of the guide (the forms it uses) for `user`."""

    def value(cell: str) -> Any:
        expr = code(cell)
        handle = re.fullmatch(r'ToLower\(Replace\(NormalizeDiacritics\(\[(\w+)\]\), , "([^"]+)", , "", , \)\)', expr)
        if handle:
            return re.sub(handle[2], "", strip_diacritics(user[handle[1]])).lower()
        if expr == 'Switch([IsSoftDeleted], , "False", "True", "True", "False")':
            return {"False": "True", "True": "False"}[user["IsSoftDeleted"]]
        if expr == "SingleAppRoleAssignment([appRoleAssignments])":
            (role,) = user["appRoleAssignments"]
            return role
        assert re.fullmatch(r"\w+", expr), f"teach the test Entra's {expr!r}, or fix the guide"
        return user[expr]

    return value


ENTRA_USER = {
    "mailNickname": "Jürgen.O'Neil", "userPrincipalName": "Juergen.ONeil@contoso.com",
    "displayName": "Jürgen O'Neil", "mail": "Juergen.ONeil@contoso.com", "IsSoftDeleted": "False",
    "appRoleAssignments": ["admin"], "preferredLanguage": "de-DE", "department": "Sales",
}  # fmt: skip


def test_entra_expression_makes_the_handle_the_guide_promises() -> None:
    """The guide's example (a mailNickname with an umlaut and an apostrophe) is what its expression gives."""
    given, handle = example(section(guide("entra-id.md"), "userName"))
    assert handle == entra({"mailNickname": given})(ENTRA_ROWS[0][0])
    assert (given, handle) == (ENTRA_USER["mailNickname"], "jurgen.oneil")


async def test_entra_cycle(client: TestClient, saml_token: str) -> None:
    """
    Entra under the guide's mappings: the GUID probe, lookup, POST, GET, PATCHes of every mapped
    attribute (capitalised Replace, the role and profile paths), "False"/"True", DELETE.
    """
    token, headers = saml_token, {"Content-Type": "application/scim+json"}
    await empty_lookup(client, token, "filter=userName+eq+%2200aa00aa-bb11-cc22-dd33-44ee44ee44ee%22")
    values = mapped(ENTRA_ROWS, entra(ENTRA_USER))
    await empty_lookup(client, token, f"filter=userName+eq+%22{quote(values['userName'])}%22")
    body = scim_body(values, ENTERPRISE_URN, role_type="WindowsAzureActiveDirectoryRole")
    created = await call(client, "POST", USERS, token, body | {"meta": {"resourceType": "User"}}, 201, **headers)
    assert_reflects(created, values)
    assert created == await read_back(client, token, created)

    changed = ENTRA_USER | {
        "mailNickname": "jurgen.oneil2", "displayName": "J. O'Neil", "mail": "jo@contoso.com",
        "appRoleAssignments": ["member"], "preferredLanguage": "fr", "department": "R&D",
    }  # fmt: skip
    new_values = mapped(ENTRA_ROWS, entra(changed))
    ops = [{"op": "Replace", "path": path, "value": value}
           for path, value in new_values.items() if value != values[path]]  # fmt: skip
    assert 6 == len(ops)
    updated = await call(client, "PATCH", f"{USERS}/{created['id']}", token, patch_body(*ops), **headers)
    assert_reflects(updated, new_values)
    assert updated == await read_back(client, token, updated)

    for soft_deleted, active in (("True", False), ("False", True)):
        flag = mapped(ENTRA_ROWS, entra(changed | {"IsSoftDeleted": soft_deleted}))["active"]
        op = {"op": "Replace", "path": "active", "value": flag}
        toggled = await call(client, "PATCH", f"{USERS}/{created['id']}", token, patch_body(op), **headers)
        assert active is toggled["active"]
        assert active is (await read_back(client, token, toggled))["active"]
    await delete_user(client, token, created["id"])


async def test_entra_group_push(client: TestClient, saml_token: str) -> None:
    """Entra's group provisioning: create empty, Add members, read without members, Remove one, DELETE."""
    token = saml_token
    ids = []
    for nickname in ("ann.lee", "bob.ray"):
        address = f"{nickname}@contoso.com"
        values = mapped(ENTRA_ROWS, entra(ENTRA_USER | {"mailNickname": nickname, "userPrincipalName": address,
                                                         "mail": address}))  # fmt: skip
        ids.append((await call(client, "POST", USERS, token, scim_body(values, ENTERPRISE_URN), 201))["id"])
    body = {"schemas": [GROUP_URN, MS_GROUP_URN], "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "Sales", "meta": {"resourceType": "Group"}}  # fmt: skip
    group = await call(client, "POST", GROUPS, token, body, 201)
    assert [] == group["members"]
    members = [{"$ref": None, "value": user_id} for user_id in ids]
    await call(client, "PATCH", f"{GROUPS}/{group['id']}", token,
               patch_body({"op": "Add", "path": "members", "value": members}), 204)  # fmt: skip
    found = await call(client, "GET", f"{GROUPS}?excludedAttributes=members&filter=displayName+eq+%22Sales%22", token)
    assert [group["id"]] == [g["id"] for g in found["Resources"]]
    assert "members" not in found["Resources"][0]
    await call(client, "PATCH", f"{GROUPS}/{group['id']}", token,
               patch_body({"op": "Remove", "path": "members", "value": members[:1]}), 204)  # fmt: skip
    assert ids[1:] == await group_members(client, token, group["id"])
    await call(client, "DELETE", f"{GROUPS}/{group['id']}", token, status=204)


async def test_entra_email_team_users_are_invited(client: TestClient, token: str) -> None:
    """
    A token without IdP, `mail` mapped to externalId: the user is invited, shown inactive although
    Entra sends "True", active once the invitation is accepted, suspended by "False".
    """
    rows = [("`mail`", "`externalId`", "email") if scim == "`externalId`" else (source, scim, wire)
            for source, scim, wire in ENTRA_ROWS]  # fmt: skip
    assert "map `mail` to `externalId` instead" in section(guide("entra-id.md"), "externalId")
    values = mapped(rows, entra(ENTRA_USER))
    created = await call(client, "POST", USERS, token, scim_body(values, ENTERPRISE_URN), 201)
    assert ("Juergen.ONeil@contoso.com", False) == (created["externalId"], created["active"])
    active = {"op": "Replace", "path": "active", "value": "True"}
    assert False is (await call(client, "PATCH", f"{USERS}/{created['id']}", token, patch_body(active)))["active"]
    await client.app[USER_SERVICE].accept_invitation(TEAM, created["id"])
    assert True is (await read_back(client, token, created))["active"]
    active["value"] = "False"
    assert False is (await call(client, "PATCH", f"{USERS}/{created['id']}", token, patch_body(active)))["active"]


# --- Okta ----------------------------------------------------------------------------------------

OKTA_HEADERS = {"User-Agent": "Okta SCIM Client 1.0.0", "Accept": "application/scim+json",
                "Content-Type": "application/scim+json; charset=utf-8"}  # fmt: skip


def okta(user: dict[str, Any]) -> Callable[[str], Any]:
    """Evaluate the guide's Okta Expression Language (the forms it uses) for `user`."""

    def value(cell: str) -> Any:
        expr = code(cell)
        before = re.fullmatch(r'String\.toLowerCase\(String\.substringBefore\(user\.(\w+), "(.)"\)\)', expr)
        if before:
            return user[before[1]].split(before[2], 1)[0].lower()
        if cell.startswith("Okta user id"):
            return user["id"]
        attribute = re.fullmatch(r"user\.(\w+)", expr)
        assert attribute, f"teach the test Okta's {expr!r}, or fix the guide"
        return user[attribute[1]]

    return value


OKTA_USER = {"id": "00ujl29u0le5T6Aj10h7", "email": "Jane.Doe@example.com", "displayName": "Jane Doe",
             "firstName": "Jane", "lastName": "Doe"}  # fmt: skip


async def test_okta_cycle(client: TestClient, saml_token: str) -> None:
    """
    Okta (AIW application) under the guide's mappings: the connector test, the existence check, POST
    with password and groups, GET then full PUT, PUT and PATCH deactivation; Okta never deletes, so
    the suspended user stays found.
    """
    token = saml_token
    await call(client, "GET", f"{USERS}?startIndex=1&count=2", token, **OKTA_HEADERS)
    await call(client, "GET", f"{GROUPS}?startIndex=1&count=100", token, **OKTA_HEADERS)
    values = mapped(OKTA_ROWS, okta(OKTA_USER))
    assert "jane.doe" == values["userName"]
    await empty_lookup(client, token, "filter=userName%20eq%20%22jane.doe%22&startIndex=1&count=100")
    body = scim_body(values) | {"locale": "en-US", "groups": [], "password": "1mz050nq", "active": True}
    created = await call(client, "POST", USERS, token, body, 201, **OKTA_HEADERS)
    assert_reflects(created, values)

    current = await read_back(client, token, created)
    new_values = mapped(OKTA_ROWS, okta(OKTA_USER | {"displayName": "Jane Roe", "lastName": "Roe"}))
    put = copy.deepcopy(current) | {"displayName": new_values["displayName"], "groups": []}
    put["name"]["familyName"] = new_values["name.familyName"]
    updated = await call(client, "PUT", f"{USERS}/{created['id']}", token, put, **OKTA_HEADERS)
    assert_reflects(updated, new_values)

    inactive = await call(client, "PUT", f"{USERS}/{created['id']}", token, updated | {"active": False}, **OKTA_HEADERS)
    assert False is inactive["active"]
    reactivate = patch_body({"op": "replace", "value": {"active": True}})
    assert (
        True is (await call(client, "PATCH", f"{USERS}/{created['id']}", token, reactivate, **OKTA_HEADERS))["active"]
    )
    deactivate = patch_body({"op": "replace", "value": {"active": False}})
    await call(client, "PATCH", f"{USERS}/{created['id']}", token, deactivate, **OKTA_HEADERS)
    assert False is (await read_back(client, token, created))["active"]


async def test_okta_group_push(client: TestClient, saml_token: str) -> None:
    """Push Groups: POST empty, rename with id, add/remove delta, replace all, AIW PUT, DELETE."""
    token = saml_token
    ids = []
    for local in ("ann.lee", "bob.ray", "cat.fox"):
        values = mapped(OKTA_ROWS, okta(OKTA_USER | {"id": f"00u{local}", "email": f"{local}@example.com"}))
        ids.append((await call(client, "POST", USERS, token, scim_body(values), 201, **OKTA_HEADERS))["id"])
    group = await call(client, "POST", GROUPS, token, {"schemas": [GROUP_URN], "displayName": "Sales", "members": []},
                       201, **OKTA_HEADERS)  # fmt: skip
    url = f"{GROUPS}/{group['id']}"
    rename = {"op": "replace", "value": {"id": group["id"], "displayName": "Sales"}}
    delta = [{"op": "remove", "path": f'members[value eq "{ids[2]}"]'},
             {"op": "add", "path": "members", "value": [{"value": i, "display": "x"} for i in ids[:2]]}]  # fmt: skip
    for ops in ([rename], delta):
        response = await client.patch(url, json=patch_body(*ops), headers=auth(token, **OKTA_HEADERS))
        assert response.status in (200, 204), await response.text()
    assert sorted(ids[:2]) == await group_members(client, token, group["id"])
    replace = {"op": "replace", "path": "members", "value": [{"value": ids[2]}]}
    response = await client.patch(url, json=patch_body(replace), headers=auth(token, **OKTA_HEADERS))
    assert response.status in (200, 204)
    assert [ids[2]] == await group_members(client, token, group["id"])
    put = {"schemas": [GROUP_URN], "id": group["id"], "displayName": "Sales EU", "members": [{"value": ids[0]}]}
    assert "Sales EU" == (await call(client, "PUT", url, token, put, **OKTA_HEADERS))["displayName"]
    assert [ids[0]] == await group_members(client, token, group["id"])
    await call(client, "DELETE", url, token, status=204)


# --- OneLogin ------------------------------------------------------------------------------------


def onelogin_template() -> str:
    (template,) = code_blocks(section(guide("onelogin.md"), "Attribute mappings"), "json")
    return template


def onelogin_body(user: dict[str, dict[str, str]]) -> dict[str, Any]:
    """The guide's SCIM JSON template with OneLogin's placeholders filled in for `user`."""
    filled = re.sub(r"\{\$(\w+)\.(\w+)\}", lambda m: user[m[1]][m[2]], onelogin_template())
    return json.loads(filled)


ONELOGIN_USER = {
    "parameters": {"scimusername": "jane.doe"},
    "user": {"email": "jane.doe@example.com", "display_name": "Jane Doe", "firstname": "Jane", "lastname": "Doe"},
}


def test_onelogin_table_is_the_template() -> None:
    """Each row's placeholder is what the guide's template puts at that SCIM attribute."""
    template = json.loads(onelogin_template())
    for source, scim, _ in ONELOGIN_ROWS:
        path = code(scim)
        if path == WORK_EMAIL:
            (entry,) = template["emails"]
            placed = entry["value"] if entry["type"] == "work" else None
        elif "." in path:
            parent, child = path.split(".", 1)
            placed = template[parent][child]
        else:
            placed = template[path]
        assert code(source) == placed, path


async def test_onelogin_cycle(client: TestClient, saml_token: str) -> None:
    """
    OneLogin with the guide's template: the enable-time lookup, POST, GET, a PUT of the template
    with new values (the update verb is not published), DELETE.
    """
    token = saml_token
    await empty_lookup(client, token, "filter=" + quote('userName eq "no-such-user-3f1c"'))
    created = await call(client, "POST", USERS, token, onelogin_body(ONELOGIN_USER), 201)
    values = {code(scim): code(source) for source, scim, _ in ONELOGIN_ROWS}
    filled = {k: re.sub(r"\{\$(\w+)\.(\w+)\}", lambda m: ONELOGIN_USER[m[1]][m[2]], v) for k, v in values.items()}
    assert_reflects(created, filled)
    assert created == await read_back(client, token, created)
    changed = copy.deepcopy(ONELOGIN_USER)
    changed["user"] |= {"display_name": "Jane Roe", "lastname": "Roe"}
    updated = await call(client, "PUT", f"{USERS}/{created['id']}", token, onelogin_body(changed))
    assert ("Jane Roe", "Roe") == (updated["displayName"], updated["name"]["familyName"])
    await delete_user(client, token, created["id"])


async def test_onelogin_group_push(client: TestClient, saml_token: str) -> None:
    """Create Group, then Patch Group adding and removing members, DELETE."""
    token = saml_token
    ids = []
    for handle in ("ann.lee", "bob.ray"):
        user = {
            "parameters": {"scimusername": handle},
            "user": ONELOGIN_USER["user"] | {"email": f"{handle}@example.com"},
        }
        ids.append((await call(client, "POST", USERS, token, onelogin_body(user), 201))["id"])
    group = await call(client, "POST", GROUPS, token, {"schemas": [GROUP_URN], "displayName": "Sales"}, 201)
    add = {"op": "add", "path": "members", "value": [{"value": i} for i in ids]}
    await call(client, "PATCH", f"{GROUPS}/{group['id']}", token, patch_body(add), 204)
    remove = {"op": "remove", "path": f'members[value eq "{ids[0]}"]'}
    await call(client, "PATCH", f"{GROUPS}/{group['id']}", token, patch_body(remove), 204)
    assert ids[1:] == await group_members(client, token, group["id"])
    await call(client, "DELETE", f"{GROUPS}/{group['id']}", token, status=204)


# --- JumpCloud -----------------------------------------------------------------------------------


def jumpcloud(user: dict[str, Any]) -> Callable[[str], Any]:
    def value(cell: str) -> Any:
        assert cell.startswith("JumpCloud `"), f"teach the test JumpCloud's {cell!r}, or fix the guide"
        return user[code(cell)]

    return value


JUMPCLOUD_USER = {"username": "jane.doe", "email": "jane.doe@example.com", "firstname": "Jane", "lastname": "Doe"}


async def test_jumpcloud_cycle(client: TestClient, saml_token: str) -> None:
    """
    JumpCloud's connection test (a test user and group, created and deleted), then a user under the
    guide's table: lookup, POST, GET, PUT, deactivation, DELETE (verbs not published: RFC shapes).
    """
    token = saml_token
    values = mapped(JUMPCLOUD_ROWS, jumpcloud(JUMPCLOUD_USER))
    test_user = await call(client, "POST", USERS, token, scim_body(values) | {"active": True}, 201)
    test_group = await call(client, "POST", GROUPS, token, {"schemas": [GROUP_URN], "displayName": "jc-test"}, 201)
    await delete_user(client, token, test_user["id"])
    await call(client, "DELETE", f"{GROUPS}/{test_group['id']}", token, status=204)

    await empty_lookup(client, token, "filter=" + quote('userName eq "jane.doe"'))
    created = await call(client, "POST", USERS, token, scim_body(values) | {"active": True}, 201)
    assert_reflects(created, values)
    assert created == await read_back(client, token, created)
    new_values = mapped(JUMPCLOUD_ROWS, jumpcloud(JUMPCLOUD_USER | {"lastname": "Roe"}))
    updated = await call(client, "PUT", f"{USERS}/{created['id']}", token, scim_body(new_values) | {"active": True})
    assert_reflects(updated, new_values)
    inactive = await call(client, "PUT", f"{USERS}/{created['id']}", token, scim_body(new_values) | {"active": False})
    assert False is (await read_back(client, token, inactive))["active"]
    await delete_user(client, token, created["id"])


async def test_jumpcloud_group_push(client: TestClient, saml_token: str) -> None:
    """A bound user group: created with its members, Azure-style member PATCH, rename, DELETE."""
    token = saml_token
    ids = []
    for username in ("ann.lee", "bob.ray"):
        user = JUMPCLOUD_USER | {"username": username, "email": f"{username}@example.com"}
        ids.append(
            (await call(client, "POST", USERS, token, scim_body(mapped(JUMPCLOUD_ROWS, jumpcloud(user))), 201))["id"]
        )
    body = {"schemas": [GROUP_URN], "displayName": "Sales", "members": [{"value": ids[0]}]}
    group = await call(client, "POST", GROUPS, token, body, 201)
    add = {"op": "add", "path": "members", "value": [{"value": ids[1]}]}
    rename = {"op": "replace", "path": "displayName", "value": "Sales EU"}
    await call(client, "PATCH", f"{GROUPS}/{group['id']}", token, patch_body(add, rename), 204)
    assert sorted(ids) == await group_members(client, token, group["id"])
    await call(client, "DELETE", f"{GROUPS}/{group['id']}", token, status=204)


# --- Keycloak ------------------------------------------------------------------------------------


def keycloak(user: dict[str, Any]) -> Callable[[str], Any]:
    def value(cell: str) -> Any:
        if cell.startswith("Keycloak user id"):
            return user["id"]
        expr = code(cell)
        extension = re.fullmatch(r"(\w+) = (urn:[\w:.]+)", expr)
        return user[extension[1] if extension else expr]

    return value


KEYCLOAK_USER = {"id": "6f0a9a51-0c4e-4f3a-9d1f-5b8e2c7d4a10", "username": "jane.doe",
                 "email": "jane.doe@example.com", "department": "Sales"}  # fmt: skip


async def test_keycloak_cycle(client: TestClient, saml_token: str) -> None:
    """
    The SCIM client extension under the guide's table: POST without lookup, GET, PUT, the
    deactivate mode (GET, then PUT with active false), the default DELETE.
    """
    token = saml_token
    values = mapped(KEYCLOAK_ROWS, keycloak(KEYCLOAK_USER))
    body = scim_body(values, MAP_URN) | {"active": True}
    created = await call(client, "POST", USERS, token, body, 201)
    assert_reflects(created, values)
    current = await read_back(client, token, created)
    new_values = mapped(KEYCLOAK_ROWS, keycloak(KEYCLOAK_USER | {"department": "R&D"}))
    updated = await call(
        client, "PUT", f"{USERS}/{created['id']}", token, scim_body(new_values, MAP_URN) | {"active": True}
    )
    assert_reflects(updated, new_values)
    assert current["roles"] == updated["roles"]
    fetched = await read_back(client, token, updated)
    inactive = await call(client, "PUT", f"{USERS}/{created['id']}", token, fetched | {"active": False})
    assert False is inactive["active"]
    await delete_user(client, token, created["id"])


async def test_keycloak_group_push(client: TestClient, saml_token: str) -> None:
    """Keycloak groups: POST with members, PUT with the whole list, DELETE."""
    token = saml_token
    ids = []
    for username in ("ann.lee", "bob.ray"):
        user = KEYCLOAK_USER | {"id": f"id-{username}", "username": username, "email": f"{username}@example.com"}
        body = scim_body(mapped(KEYCLOAK_ROWS, keycloak(user)), MAP_URN)
        ids.append((await call(client, "POST", USERS, token, body, 201))["id"])
    body = {"schemas": [GROUP_URN], "displayName": "Sales", "members": [{"value": ids[0]}]}
    group = await call(client, "POST", GROUPS, token, body, 201)
    put = {"schemas": [GROUP_URN], "displayName": "Sales", "members": [{"value": i} for i in ids]}
    await call(client, "PUT", f"{GROUPS}/{group['id']}", token, put)
    assert sorted(ids) == await group_members(client, token, group["id"])
    await call(client, "DELETE", f"{GROUPS}/{group['id']}", token, status=204)


# --- authentik -----------------------------------------------------------------------------------


def authentik(**user: Any) -> dict[str, Any]:
    """The guide's property mapping, run as authentik runs it, for a user with these fields."""
    (expression,) = code_blocks(section(guide("authentik.md"), "Attribute mappings"), "python")
    namespace: dict[str, Any] = {}
    exec("def mapping(request):\n" + "".join(f"    {line}\n" for line in expression.splitlines()), namespace)
    result: dict[str, Any] = namespace["mapping"](SimpleNamespace(user=SimpleNamespace(**user)))
    return result


AUTHENTIK_USER = {"username": "Jane.Doe@example.com", "email": "jane.doe@example.com", "name": "Jane Doe",
                  "is_active": True}  # fmt: skip


def test_authentik_table_is_the_mapping() -> None:
    """The table lists exactly the attributes the mapping returns; the handle is as the guide says."""
    result = authentik(**AUTHENTIK_USER)
    assert {re.split(r"[.\[]", code(scim))[0] for _, scim, _ in AUTHENTIK_ROWS} == set(result)
    given, handle = example(section(guide("authentik.md"), "userName"))
    assert (given, handle) == (AUTHENTIK_USER["username"], result["userName"])
    assert "displayName" not in authentik(**AUTHENTIK_USER | {"name": ""})


async def test_authentik_cycle(client: TestClient, saml_token: str) -> None:
    """authentik: SPC read, POST, GET, 409 then the unquoted lookup, PUT, inactive PUT, DELETE."""
    token = saml_token
    config = await call(client, "GET", "/scim/v2/ServiceProviderConfig", token)
    assert (True, True) == (config["patch"]["supported"], config["filter"]["supported"])
    body = {"schemas": [CORE_URN]} | authentik(**AUTHENTIK_USER)
    created = await call(client, "POST", USERS, token, body, 201)
    assert ("jane.doe", "jane.doe@example.com", "Jane Doe") == (
        created["userName"],
        created["externalId"],
        created["displayName"],
    )
    assert created == await read_back(client, token, created)
    await call(client, "POST", USERS, token, body, 409)
    found = await call(client, "GET", f"{USERS}?filter=userName+eq+jane.doe", token)
    assert [created["id"]] == [r["id"] for r in found["Resources"]]
    renamed = authentik(**AUTHENTIK_USER | {"name": "Jane Roe"})
    updated = await call(
        client, "PUT", f"{USERS}/{created['id']}", token, {"schemas": [CORE_URN], "id": created["id"]} | renamed
    )
    assert "Jane Roe" == updated["displayName"]
    inactive = await call(client, "PUT", f"{USERS}/{created['id']}", token,
                          {"schemas": [CORE_URN]} | authentik(**AUTHENTIK_USER | {"is_active": False}))  # fmt: skip
    assert False is inactive["active"]
    await delete_user(client, token, created["id"])


async def test_authentik_group_push(client: TestClient, saml_token: str) -> None:
    """PATCH-supported groups: POST without members, one add per member, path-less replace, GET diff, remove."""
    token = saml_token
    ids = []
    for username in ("ann.lee", "bob.ray"):
        body = {"schemas": [CORE_URN]} | authentik(
            **AUTHENTIK_USER | {"username": username, "email": f"{username}@x.org"}
        )
        ids.append((await call(client, "POST", USERS, token, body, 201))["id"])
    group = await call(
        client, "POST", GROUPS, token, {"schemas": [GROUP_URN], "displayName": "Sales", "externalId": "7"}, 201
    )
    url = f"{GROUPS}/{group['id']}"
    adds = [{"op": "add", "path": "members", "value": [{"value": i}]} for i in ids]
    await call(client, "PATCH", url, token, patch_body(*adds), 204)
    replace = {"op": "replace", "value": {"schemas": [GROUP_URN], "id": group["id"], "displayName": "Sales EU",
                                          "externalId": "7"}}  # fmt: skip
    await call(client, "PATCH", url, token, patch_body(replace), 204)
    read = await call(client, "GET", url, token)
    assert ("Sales EU", sorted(ids)) == (read["displayName"], sorted(m["value"] for m in read["members"]))
    remove = {"op": "remove", "path": "members", "value": [{"value": ids[0]}]}
    await call(client, "PATCH", url, token, patch_body(remove), 204)
    assert ids[1:] == await group_members(client, token, group["id"])
    await call(client, "DELETE", url, token, status=204)


# --- errors that teach ----------------------------------------------------------------------------

# Mapping mistakes the guides cover: (token kind, body, attribute, rule, fix, README section).
VALID = {"schemas": [CORE_URN], "userName": "jane.doe", "externalId": "jane.doe@example.com",
         "emails": [{"value": "jane.doe@example.com", "type": "work", "primary": True}]}  # fmt: skip
HANDLE_RULE, HANDLE_FIX = "2 to 256 characters", "Fix: map userName"
NAME_RULE, NAME_FIX = "1 to 128 characters", "Fix: map displayName"
MISTAKES = {
    "entra-upn": ("saml", {"userName": "Jane.Doe@contoso.com"}, "userName", HANDLE_RULE, HANDLE_FIX, "username"),
    "okta-default": ("saml", {"userName": "test.user@okta.local"}, "userName", HANDLE_RULE, HANDLE_FIX, "username"),
    "email-user-name": ("saml", {"userName": "jane.doe@example.com"}, "userName", HANDLE_RULE,
                        "the part before '@'", "username"),
    "reserved": ("saml", {"userName": "Admin"}, "userName", "not a reserved name", HANDLE_FIX, "username"),
    "no-user-name": ("saml", {"userName": None}, "userName", "the Wire handle", HANDLE_FIX, "username"),
    "no-external-id": ("saml", {"externalId": None}, "externalId", "SAML NameID", "Fix: map externalId",
                       "externalid"),
    "no-email": ("email", {"externalId": "nameid-1", "emails": None}, "externalId", "invited by email",
                 "Fix: map emails", "externalid"),
    "unknown-role": ("saml", {"roles": [{"value": "User"}]}, "role",
                     "Valid roles are owner, admin, member, partner", "Fix: give", "roles"),
    "two-roles": ("saml", {"roles": [{"value": "admin"}, {"value": "User"}]}, "role", "one Wire team role",
                  "Fix: map one role", "roles"),
    "language": ("saml", {"preferredLanguage": "EN"}, "preferredLanguage", "ISO 639-1",
                 "Fix: map preferredLanguage", "preferredlanguage"),
    "long-name": ("saml", {"displayName": "x" * 129}, "displayName", NAME_RULE, NAME_FIX, "displayname"),
    "empty-name": ("saml", {"displayName": ""}, "displayName", NAME_RULE, NAME_FIX, "displayname"),
}  # fmt: skip


async def refused(client: TestClient, token: str, overrides: dict[str, Any]) -> str:
    """POST the valid user with `overrides` (None removes): a 400 invalidValue; returns its detail."""
    body = {k: v for k, v in (VALID | overrides).items() if v is not None}
    response = await client.post(USERS, json=body, headers=auth(token))
    detail: str = (await assert_scim_error(response, 400, "invalidValue"))["detail"]
    return detail


@pytest.mark.parametrize("name", sorted(MISTAKES))
async def test_mapping_error_names_attribute_rule_fix_and_guide(
    client: TestClient, saml_token: str, token: str, name: str
) -> None:
    """A 400 for a mapping mistake names the attribute, the rule and the fix, and ends with the guide section."""
    kind, overrides, attribute, rule, fix, anchor = MISTAKES[name]
    detail = await refused(client, {"saml": saml_token, "email": token}[kind], overrides)
    assert attribute in detail and rule in detail and fix in detail, detail
    assert detail.endswith(f"; see docs/idp/{README}#{anchor}"), detail
    assert anchor in anchors(guide(README))


async def test_a_patch_gets_the_same_teaching_error(client: TestClient, saml_token: str) -> None:
    """ENTRA-U3's rename to a UPN by PATCH gets the userName error a POST gets."""
    created = await call(client, "POST", USERS, saml_token, VALID, 201)
    op = {"op": "Replace", "path": "userName", "value": "Jane.Doe@contoso.com"}
    response = await client.patch(f"{USERS}/{created['id']}", json=patch_body(op), headers=auth(saml_token))
    patched = (await assert_scim_error(response, 400, "invalidValue"))["detail"]
    assert patched == await refused(client, saml_token, {"userName": "Jane.Doe@contoso.com"})


@pytest.mark.backends("embedded")
async def test_errors_quoted_in_the_guides_are_what_the_gateway_says(
    client: TestClient, saml_token: str, token: str
) -> None:
    """Every error a guide quotes (a code block naming its README section) is a detail the gateway gives."""
    tokens = {"saml": saml_token, "email": token}
    said = {await refused(client, tokens[kind], overrides) for kind, overrides, *_ in MISTAKES.values()}
    for user_name in ("jane.doe@example.com", "test.user@okta.local", "Jane.Doe@contoso.com"):
        said.add(await refused(client, saml_token, {"userName": user_name}))
    for role in ("Boss", "User"):
        said.add(await refused(client, saml_token, {"roles": [{"value": role}]}))
    quoted = [block.strip() for name in [README, *ROWS] for block in code_blocks(guide(name))
              if "; see docs/idp/README.md#" in block]  # fmt: skip
    assert len(quoted) >= 15
    assert [] == [block for block in quoted if block not in said]
