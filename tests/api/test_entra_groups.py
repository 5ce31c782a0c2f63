"""
Replays of Microsoft Entra ID group provisioning (docs/clients.md §1.8, ENTRA-G1 to G8),
with the payloads as published. The published ids (`f648f8d5ea4e4cd38e9c`, …) stand for ids the
gateway gave out; each replay swaps them for real ones and leaves everything else as sent.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from conftest import SAML_TEAM, auth, new_token
from group_calls import GROUPS, GROUP_URN, get_group, members_of, new_users
from scim_calls import LIST_URN

ENTRA_HEADERS = {"Content-Type": "application/scim+json"}
PUBLISHED_MEMBER = "f648f8d5ea4e4cd38e9c"
PUBLISHED_FLAG_MEMBER = "7f4bc1a3-285e-48ae-8202-5accb43efb0e"

# ENTRA-G1 [doc E1], with the extra Microsoft schema URN.
ENTRA_CREATE: dict[str, Any] = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group",
                "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
    "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
    "displayName": "displayName",
    "meta": {
        "resourceType": "Group"
    }
}  # fmt: skip

# ENTRA-G4 [doc E1].
ENTRA_RENAME: dict[str, Any] = {
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "Replace",
        "path": "displayName",
        "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"
    }]
}  # fmt: skip

# ENTRA-G5 [doc E1].
ENTRA_ADD_MEMBER: dict[str, Any] = {
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "Add",
        "path": "members",
        "value": [{
            "$ref": None,
            "value": "f648f8d5ea4e4cd38e9c"
        }]
    }]
}  # fmt: skip

# ENTRA-G6 [doc E1 / E2]: the default dialect, a remove on `members` with a value list.
ENTRA_REMOVE_MEMBER: dict[str, Any] = {
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "Remove",
        "path": "members",
        "value": [{
            "$ref": None,
            "value": "f648f8d5ea4e4cd38e9c"
        }]
    }]
}  # fmt: skip

# ENTRA-G7 [doc E2]: the flag dialect, a filtered path.
ENTRA_REMOVE_MEMBER_FLAG: dict[str, Any] = {
    "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    ],
    "Operations": [
        {
            "op": "remove",
            "path": "members[value eq \"7f4bc1a3-285e-48ae-8202-5accb43efb0e\"]"
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


async def _token(client: TestClient) -> str:
    """A SAML-bound token, as the Wire Entra guide sets it up."""
    return await new_token(client, SAML_TEAM, idp="2d6f7a8e-0a8b-4c4f-9a3e-5b2e1c0d9f11")


async def _created(client: TestClient, token: str) -> dict[str, Any]:
    response = await client.post(GROUPS, json=ENTRA_CREATE, headers=auth(token, **ENTRA_HEADERS))
    assert 201 == response.status, await response.text()
    return await response.json()


async def test_g1_create_with_the_microsoft_urn_answers_201_with_empty_members(client: TestClient) -> None:
    """ENTRA-G1: the create with Microsoft's extra URN answers 201 with an id and `members: []`."""
    token = await _token(client)

    created = await _created(client, token)

    assert ([GROUP_URN], "displayName", "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", []) == (
        created["schemas"], created["displayName"], created["externalId"], created["members"]
    )


async def test_g2_get_by_id_without_members(client: TestClient) -> None:
    """ENTRA-G2: `GET /Groups/:id?excludedAttributes=members` answers the group without `members`."""
    token = await _token(client)
    group = await _created(client, token)
    [user] = await new_users(client, token, 1)
    response = await client.patch(
        f"{GROUPS}/{group['id']}", json=swapped(ENTRA_ADD_MEMBER, {PUBLISHED_MEMBER: user}),
        headers=auth(token, **ENTRA_HEADERS),
    )  # fmt: skip
    assert 204 == response.status

    fetched = await get_group(client, token, group["id"], "excludedAttributes=members")

    assert (group["id"], False) == (fetched["id"], "members" in fetched)


async def test_g3_query_by_display_name_without_members(client: TestClient) -> None:
    """ENTRA-G3: the displayName query, `+`- or %20-encoded, finds the group and shows no members."""
    token = await _token(client)
    group = await _created(client, token)
    queries = [
        "excludedAttributes=members&filter=displayName+eq+%22displayName%22",
        "excludedAttributes=members&filter=displayName%20eq%20%22displayName%22",
    ]

    pages = [await (await client.get(f"{GROUPS}?{q}", headers=auth(token))).json() for q in queries]

    expected = {"schemas": [LIST_URN], "totalResults": 1, "itemsPerPage": 1, "startIndex": 1}
    assert [expected, expected] == [{k: v for k, v in page.items() if k != "Resources"} for page in pages]
    found = [[(g["id"], "members" in g) for g in page["Resources"]] for page in pages]
    assert [[(group["id"], False)]] * 2 == found


async def test_g4_rename_answers_204(client: TestClient) -> None:
    """ENTRA-G4: `Replace` on displayName answers 204 and renames the group."""
    token = await _token(client)
    group = await _created(client, token)

    url = f"{GROUPS}/{group['id']}"
    response = await client.patch(url, json=ENTRA_RENAME, headers=auth(token, **ENTRA_HEADERS))

    assert 204 == response.status
    renamed = await get_group(client, token, group["id"])
    assert "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName" == renamed["displayName"]


async def test_g5_g6_add_then_remove_a_member_keeps_the_others(client: TestClient) -> None:
    """ENTRA-G5/G6: `Add` with `$ref: null` adds; `Remove` with a value list removes only that member."""
    token = await _token(client)
    group = await _created(client, token)
    stays, comes_and_goes = await new_users(client, token, 2)
    url, headers = f"{GROUPS}/{group['id']}", auth(token, **ENTRA_HEADERS)
    await client.patch(url, json=swapped(ENTRA_ADD_MEMBER, {PUBLISHED_MEMBER: stays}), headers=headers)

    ids = {PUBLISHED_MEMBER: comes_and_goes}
    added = await client.patch(url, json=swapped(ENTRA_ADD_MEMBER, ids), headers=headers)
    after_add = await members_of(client, token, group["id"])
    removed = await client.patch(url, json=swapped(ENTRA_REMOVE_MEMBER, ids), headers=headers)

    assert (204, 204) == (added.status, removed.status)
    assert sorted([stays, comes_and_goes]) == after_add
    assert [stays] == await members_of(client, token, group["id"])


async def test_g7_flag_dialect_removes_the_filtered_member(client: TestClient) -> None:
    """ENTRA-G7: `remove` on `members[value eq "id"]` answers 204 and removes that member only."""
    token = await _token(client)
    first, second = await new_users(client, token, 2)
    group = await _created(client, token)
    url, headers = f"{GROUPS}/{group['id']}", auth(token, **ENTRA_HEADERS)
    for user in (first, second):
        await client.patch(url, json=swapped(ENTRA_ADD_MEMBER, {PUBLISHED_MEMBER: user}), headers=headers)

    body = swapped(ENTRA_REMOVE_MEMBER_FLAG, {PUBLISHED_FLAG_MEMBER: first})
    response = await client.patch(url, json=body, headers=headers)

    assert 204 == response.status
    assert [second] == await members_of(client, token, group["id"])


async def test_g8_delete_answers_204(client: TestClient) -> None:
    """ENTRA-G8: `DELETE /Groups/:id` answers 204; the group is gone."""
    token = await _token(client)
    group = await _created(client, token)

    response = await client.delete(f"{GROUPS}/{group['id']}", headers=auth(token))

    assert 204 == response.status
    assert 404 == (await client.get(f"{GROUPS}/{group['id']}", headers=auth(token))).status


async def test_batched_membership_several_values_and_several_operations(client: TestClient) -> None:
    """The gallery checklist's batching: several members in one `Add` and several operations at once."""
    token = await _token(client)
    ids = await new_users(client, token, 4)
    group = await _created(client, token)
    add = swapped(ENTRA_ADD_MEMBER, {PUBLISHED_MEMBER: ids[0]})
    add["Operations"][0]["value"].append({"$ref": None, "value": ids[1]})
    add["Operations"].append(swapped(ENTRA_ADD_MEMBER, {PUBLISHED_MEMBER: ids[2]})["Operations"][0])
    add["Operations"].append(swapped(ENTRA_ADD_MEMBER, {PUBLISHED_MEMBER: ids[3]})["Operations"][0])

    response = await client.patch(f"{GROUPS}/{group['id']}", json=add, headers=auth(token, **ENTRA_HEADERS))

    assert 204 == response.status
    assert ids == await members_of(client, token, group["id"])


async def test_a_nested_group_sent_as_member_is_skipped(client: TestClient) -> None:
    """A nested group's id in ENTRA-G5's shape answers 204 and adds nothing (Wire groups hold users)."""
    token = await _token(client)
    outer = await _created(client, token)
    inner_response = await client.post(
        GROUPS, json={**ENTRA_CREATE, "externalId": "inner", "displayName": "inner"}, headers=auth(token)
    )
    inner = await inner_response.json()

    response = await client.patch(
        f"{GROUPS}/{outer['id']}", json=swapped(ENTRA_ADD_MEMBER, {PUBLISHED_MEMBER: inner["id"]}),
        headers=auth(token, **ENTRA_HEADERS),
    )  # fmt: skip

    assert 204 == response.status
    assert [] == await members_of(client, token, outer["id"])
