"""
Replays of Okta Push Groups traffic (docs/clients.md §2.4, §2.9, §2.10, OKTA-G1 to G6),
with the payloads as published. The published ids stand for ids the gateway gave out; each replay
swaps them for real ones and leaves everything else as sent.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from conftest import auth
from group_calls import GROUPS, GROUP_URN, get_group, members_of, new_users
from scim_calls import LIST_URN

OKTA_HEADERS = {
    "User-Agent": "Okta SCIM Client 1.0.0",
    "Accept": "application/scim+json",
    "Accept-Charset": "utf-8",
    "Content-Type": "application/scim+json; charset=utf-8",
}
PUBLISHED_GROUP = "abf4dd94-a4c0-4f67-89c9-76b03340cb9b"
PUBLISHED_REMOVED = "89bb1940-b905-4575-9e7f-6f887cfb368e"
PUBLISHED_ADDED = "23a35c27-23d3-4c03-b4c5-6443c09e7173"

# OKTA-G1 [doc O1].
OKTA_CREATE: dict[str, Any] = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
    "displayName": "Test SCIMv2",
    "members": []
}  # fmt: skip

# OKTA-G2 [doc O1]: sent before every membership push, with the read-only id in the value.
OKTA_RENAME: dict[str, Any] = {
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "replace",
        "value": {
            "id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b",
            "displayName": "Test SCIMv2"
        }
    }]
}  # fmt: skip

# OKTA-G3 [doc O1]: a membership delta.
OKTA_DELTA: dict[str, Any] = {
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
          "op": "remove",
          "path": "members[value eq \"89bb1940-b905-4575-9e7f-6f887cfb368e\"]"
        },
        {
          "op": "add",
          "path": "members",
          "value": [{
              "value": "23a35c27-23d3-4c03-b4c5-6443c09e7173",
              "display": "test.user@okta.local"
        }]
    }]
}  # fmt: skip

# OKTA-G4 [doc O1]: a full push, replacing every member.
OKTA_FULL_PUSH: dict[str, Any] = {
  "schemas": [
    "urn:ietf:params:scim:api:messages:2.0:PatchOp"
  ],
  "Operations": [
    {
      "op": "replace",
      "path": "members",
      "value": [
        {
          "value": "23a35c27-23d3-4c03-b4c5-6443c09e7173",
          "display": "test.user@okta.local"
        },
        {
          "value": "89bb1940-b905-4575-9e7f-6f887cfb368e",
          "display": "test.user@okta.local"
        }
      ]
    }
  ]
}  # fmt: skip

pytestmark = pytest.mark.backends("embedded", "brig")  # brig: the brig backend over brig-lite



def swapped(body: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    """`body` with each published id replaced by a real one, nothing else touched."""
    text = json.dumps(body)
    for published, real in ids.items():
        text = text.replace(published, real)
    return json.loads(text)


async def _created(client: TestClient, token: str) -> dict[str, Any]:
    response = await client.post(GROUPS, json=OKTA_CREATE, headers=auth(token, **OKTA_HEADERS))
    assert 201 == response.status, await response.text()
    return await response.json()


async def _patch(client: TestClient, token: str, group_id: str, body: dict[str, Any]) -> int:
    response = await client.patch(f"{GROUPS}/{group_id}", json=body, headers=auth(token, **OKTA_HEADERS))
    return response.status


async def test_connection_test_answers_a_list_response_with_integers(client: TestClient, token: str) -> None:
    """Okta's fixed `GET /Groups?startIndex=1&count=100` answers 200 with an integer-typed ListResponse."""
    response = await client.get(f"{GROUPS}?startIndex=1&count=100", headers=auth(token, **OKTA_HEADERS))

    assert 200 == response.status
    expected = {"schemas": [LIST_URN], "totalResults": 0, "itemsPerPage": 0, "startIndex": 1, "Resources": []}
    assert expected == await response.json()


async def test_g1_create_answers_201_with_the_group(client: TestClient, token: str) -> None:
    """OKTA-G1: the create answers 201 with the group, its id and no members."""
    created = await _created(client, token)

    assert ([GROUP_URN], "Test SCIMv2", []) == (
        created["schemas"], created["displayName"], created["members"]
    )
    assert created == await get_group(client, token, created["id"])


async def test_g2_rename_with_the_echoed_id_changes_nothing_when_the_name_is_the_same(
    client: TestClient, token: str
) -> None:
    """OKTA-G2: the path-less replace with the group's own id is accepted; the same name keeps the version."""
    group = await _created(client, token)

    status = await _patch(client, token, group["id"], swapped(OKTA_RENAME, {PUBLISHED_GROUP: group["id"]}))

    assert 204 == status
    assert group == await get_group(client, token, group["id"])


async def test_g2_rename_to_a_new_name(client: TestClient, token: str) -> None:
    """OKTA-G2 with a new displayName renames the group."""
    group = await _created(client, token)
    body = swapped(OKTA_RENAME, {PUBLISHED_GROUP: group["id"], "Test SCIMv2": "Renamed in Okta"})

    status = await _patch(client, token, group["id"], body)

    assert (204, "Renamed in Okta") == (status, (await get_group(client, token, group["id"]))["displayName"])


async def test_g3_membership_delta_removes_one_and_adds_another(client: TestClient, token: str) -> None:
    """OKTA-G3: the filtered remove and the add in one request both apply."""
    removed, added, stays = await new_users(client, token, 3)
    group = await _created(client, token)
    before = swapped(OKTA_FULL_PUSH, {PUBLISHED_ADDED: stays, PUBLISHED_REMOVED: removed})
    await _patch(client, token, group["id"], before)
    delta = swapped(OKTA_DELTA, {PUBLISHED_REMOVED: removed, PUBLISHED_ADDED: added})

    status = await _patch(client, token, group["id"], delta)

    assert 204 == status
    assert sorted([added, stays]) == await members_of(client, token, group["id"])


async def test_g4_full_push_replaces_the_member_list(client: TestClient, token: str) -> None:
    """OKTA-G4: `replace` on `members` makes exactly the pushed users the members."""
    first, second, dropped = await new_users(client, token, 3)
    group = await _created(client, token)
    before = swapped(OKTA_FULL_PUSH, {PUBLISHED_ADDED: dropped, PUBLISHED_REMOVED: first})
    await _patch(client, token, group["id"], before)
    push = swapped(OKTA_FULL_PUSH, {PUBLISHED_ADDED: first, PUBLISHED_REMOVED: second})

    status = await _patch(client, token, group["id"], push)

    assert 204 == status
    assert sorted([first, second]) == await members_of(client, token, group["id"])


async def test_g5_aiw_put_with_the_full_member_list(client: TestClient, token: str) -> None:
    """OKTA-G5: a PUT of the group with its full member list answers 200 with those members."""
    first, second = await new_users(client, token, 2)
    group = await _created(client, token)
    body = {**OKTA_CREATE, "id": group["id"], "members": [{"value": first, "display": "a"}, {"value": second}]}

    response = await client.put(f"{GROUPS}/{group['id']}", json=body, headers=auth(token, **OKTA_HEADERS))

    assert 200 == response.status
    assert sorted([first, second]) == [member["value"] for member in (await response.json())["members"]]


async def test_g6_delete_answers_204(client: TestClient, token: str) -> None:
    """OKTA-G6: deleting an unlinked pushed group answers 204."""
    group = await _created(client, token)

    response = await client.delete(f"{GROUPS}/{group['id']}", headers=auth(token, **OKTA_HEADERS))

    assert 204 == response.status


async def test_import_pages_groups_by_100_until_the_total(client: TestClient, token: str) -> None:
    """Import pages `/Groups` by startIndex and count until totalResults; integer counts, stable order."""
    for n in range(3):
        body = {**OKTA_CREATE, "displayName": f"g{n}"}
        await client.post(GROUPS, json=body, headers=auth(token, **OKTA_HEADERS))

    first = await (await client.get(f"{GROUPS}?startIndex=1&count=2", headers=auth(token))).json()
    second = await (await client.get(f"{GROUPS}?startIndex=3&count=2", headers=auth(token))).json()

    pages = (first, second)
    assert [["g0", "g1"], ["g2"]] == [[g["displayName"] for g in page["Resources"]] for page in pages]
    assert [(3, 2, 1), (3, 1, 3)] == [(p["totalResults"], p["itemsPerPage"], p["startIndex"]) for p in pages]
