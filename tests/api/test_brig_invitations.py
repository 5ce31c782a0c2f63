"""
The brig backend beside a faithful brig-lite (issue 14, points 3 and 4): the whole life of an
invited user (galley has no member for them until they accept, so the gateway keeps their role and
groups meanwhile), and a user PUT that fails at each of its writes converges when retried.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from conftest import TEAM, auth, user_body
from gateway.config import Config

pytestmark = pytest.mark.backends("brig")

USERS = "/scim/v2/Users"
GROUPS = "/scim/v2/Groups"
ROLE_BITS = {"owner": 8191, "admin": 5951, "member": 1587, "partner": 1025}


async def brig_lite(config: Config, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One call straight to brig-lite (brig's and galley's internal routes, and its own)."""
    async with aiohttp.ClientSession() as session:
        async with session.request(method, f"{config.backend.brig_url}{path}", json=body) as answer:
            text = await answer.text()
            return answer.status, (await answer.json(content_type=None)) if text else None


async def set_faults(config: Config, rules: list[dict[str, Any]]) -> None:
    status, _ = await brig_lite(config, "PUT", "/i/_faults", {"rules": rules})
    assert 200 == status


def with_role(body: dict[str, Any], role: str) -> dict[str, Any]:
    return {**body, "roles": [{"value": role, "primary": True}]}


async def test_an_invited_user_from_invitation_to_deletion(client: TestClient, token: str, config: Config) -> None:
    """
    Pending: readable, listed, updatable, role and groups kept by the gateway (galley has no
    member, brig's group holds none); accepted in brig-lite: active, role and group written to
    Wire; deleted: gone from brig too.
    """
    created = await client.post(USERS, json=with_role(user_body("ivy"), "member"), headers=auth(token))
    assert 201 == created.status, await created.text()
    user = await created.json()
    uid = user["id"]
    assert user["active"] is False

    read = await client.get(f"{USERS}/{uid}", headers=auth(token))
    assert (200, False) == (read.status, (await read.json())["active"])
    assert 404 == (await brig_lite(config, "GET", f"/i/teams/{TEAM}/members/{uid}"))[0]
    query = quote('userName eq "ivy"')
    listed = await client.get(f"{USERS}?filter={query}", headers=auth(token))
    assert [uid] == [u["id"] for u in (await listed.json())["Resources"]]

    changed = with_role(user_body("ivy", displayName="Ivy Pending"), "admin")
    put = await client.put(f"{USERS}/{uid}", json=changed, headers=auth(token))
    assert 200 == put.status, await put.text()
    shown = await put.json()
    assert ("Ivy Pending", "admin", False) == (shown["displayName"], shown["roles"][0]["value"], shown["active"])

    group = await client.post(
        GROUPS,
        json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "G", "members": [{"value": uid}]},
        headers=auth(token),
    )
    assert 201 == group.status, await group.text()
    gid = (await group.json())["id"]
    _, in_brig = await brig_lite(config, "GET", f"/i/user-groups/{TEAM}/{gid}/false")
    assert [] == in_brig["members"]  # brig refuses pending invitees as members
    read_group = await client.get(f"{GROUPS}/{gid}", headers=auth(token))
    assert [uid] == [m["value"] for m in (await read_group.json())["members"]]  # kept by the gateway

    status, _ = await brig_lite(config, "POST", f"/i/_brig-lite/invitations/{uid}/accept", {})
    assert 200 == status

    accepted = await (await client.get(f"{USERS}/{uid}", headers=auth(token))).json()
    assert (True, "admin") == (accepted["active"], accepted["roles"][0]["value"])
    _, member = await brig_lite(config, "GET", f"/i/teams/{TEAM}/members/{uid}")
    assert ROLE_BITS["admin"] == member["permissions"]["self"]
    _, in_brig = await brig_lite(config, "GET", f"/i/user-groups/{TEAM}/{gid}/false")
    assert [uid] == in_brig["members"]

    deleted = await client.delete(f"{USERS}/{uid}", headers=auth(token))
    assert 204 == deleted.status
    _, accounts = await brig_lite(config, "GET", f"/i/users?ids={uid}")
    assert [] == accounts
    assert 404 == (await client.get(f"{USERS}/{uid}", headers=auth(token))).status


async def test_a_pending_invitation_is_listed_and_deleted_before_acceptance(
    client: TestClient, token: str, config: Config
) -> None:
    """A pending user never read by id is listed; its DELETE removes the brig account."""
    uid = (await (await client.post(USERS, json=user_body("pat"), headers=auth(token))).json())["id"]
    listed = await (await client.get(f"{USERS}?count=10", headers=auth(token))).json()
    assert [(uid, False)] == [(u["id"], u["active"]) for u in listed["Resources"]]

    assert 204 == (await client.delete(f"{USERS}/{uid}", headers=auth(token))).status

    _, accounts = await brig_lite(config, "GET", f"/i/users?ids={uid}")
    assert [] == accounts
    again = await client.post(USERS, json=user_body("pat"), headers=auth(token))
    assert 201 == again.status, await again.text()  # nothing left behind blocks the same externalId


# Each write of a user PUT (docs/backend-calls.md, "Update"), as brig-lite's fault rules name it.
PUT_WRITES = [
    "PUT /i/users/*/handle",
    "PUT /i/users/*/sso-id",
    "PUT /i/users/*/rich-info",
    "PUT /i/users/*/name",
    "PUT /i/users/*/locale",
    "PUT /i/self/email",
    "PUT /i/teams/*/members",
    "PUT /i/users/*/status",
]


def first_body() -> dict[str, Any]:
    return with_role(user_body("max", externalId="max@example.com", preferredLanguage="de"), "member")


def second_body() -> dict[str, Any]:
    body = user_body(
        "maxi",
        externalId="maxi@example.com",
        displayName="Maxi Example",
        emails=[{"value": "maxi@example.com", "type": "work", "primary": True}],
        preferredLanguage="fr",
        active=False,
    )
    body["schemas"] = [*body["schemas"], "urn:wire:scim:schemas:profile:1.0"]
    body["urn:wire:scim:schemas:profile:1.0"] = {"richInfo": {"version": 0, "fields": [{"type": "department", "value": "Sales"}]}}
    return with_role(body, "admin")


def settled(user: dict[str, Any]) -> tuple[Any, ...]:
    """What the PUT asked for, as SCIM shows it."""
    return (
        user["userName"],
        user["externalId"],
        user["displayName"],
        user.get("preferredLanguage"),
        user["active"],
        user["roles"][0]["value"],
        [e["value"] for e in user.get("emails", [])],
        user.get("urn:wire:scim:schemas:profile:1.0", {}).get("richInfo"),
    )


@pytest.mark.parametrize("after", [False, True], ids=["refused", "answer-lost"])
@pytest.mark.parametrize("write", PUT_WRITES)
async def test_a_put_failing_at_any_write_converges_when_retried(
    client: TestClient, saml_token: str, config: Config, write: str, after: bool
) -> None:
    """brig fails one write of the PUT (before or after doing it); the retried PUT ends as asked, no 409, one externalId."""
    created = await client.post(USERS, json=first_body(), headers=auth(saml_token))
    assert 201 == created.status, await created.text()
    uid = (await created.json())["id"]
    target = second_body()

    await set_faults(config, [{"route": write, "status": 503, "times": 1, "after": after}])
    failed = await client.put(f"{USERS}/{uid}", json=target, headers=auth(saml_token))
    await set_faults(config, [])
    assert failed.status in (502, 503), await failed.text()

    retried = await client.put(f"{USERS}/{uid}", json=target, headers=auth(saml_token))
    assert 200 == retried.status, await retried.text()
    read = await (await client.get(f"{USERS}/{uid}", headers=auth(saml_token))).json()
    assert settled(read) == settled(await retried.json())
    assert ("maxi", "maxi@example.com", "Maxi Example", "fr", False, "admin") == settled(read)[:6]
    assert {"version": 0, "fields": [{"type": "department", "value": "Sales"}]} == settled(read)[7]
    for external_id, count in (("maxi@example.com", 1), ("max@example.com", 0)):
        query = quote('externalId eq "' + external_id + '"')
        found = await client.get(f"{USERS}?filter={query}", headers=auth(saml_token))
        assert count == (await found.json())["totalResults"], external_id


async def test_an_invitee_accepted_into_a_group_whose_other_member_left_wire(
    client: TestClient, token: str, config: Config
) -> None:
    """A member of the invitee's group was deleted in Wire meanwhile: acceptance drops it, the invitee joins, reads work."""
    ids = []
    for name in ("left", "joins"):
        created = await client.post(USERS, json=user_body(name), headers=auth(token))
        assert 201 == created.status, await created.text()
        ids.append((await created.json())["id"])
    left, joins = ids
    assert 200 == (await brig_lite(config, "POST", f"/i/_brig-lite/invitations/{left}/accept", {}))[0]
    assert 200 == (await client.get(f"{USERS}/{left}", headers=auth(token))).status  # read once: accepted
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "G",
            "members": [{"value": left}, {"value": joins}]}  # fmt: skip
    group = await client.post(GROUPS, json=body, headers=auth(token))
    assert 201 == group.status, await group.text()
    gid = (await group.json())["id"]
    assert 202 == (await brig_lite(config, "DELETE", f"/i/users/{left}"))[0]  # deleted in Wire, behind SCIM's back
    assert 200 == (await brig_lite(config, "POST", f"/i/_brig-lite/invitations/{joins}/accept", {}))[0]

    read = await client.get(f"{USERS}/{joins}", headers=auth(token))

    assert (200, True) == (read.status, (await read.json())["active"])
    _, in_brig = await brig_lite(config, "GET", f"/i/user-groups/{TEAM}/{gid}/false")
    assert [joins] == in_brig["members"]
