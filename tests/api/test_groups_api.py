"""/Groups through the HTTP API: create, read, list, filter, replace, delete, ETags, validation."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from conftest import OTHER_TEAM, auth, new_token
from group_calls import (
    GROUP_URN, GROUPS, MS_GROUP_URN, create_group, get_group, group_body, list_groups, members_of, new_users,
    patch_group,
)  # fmt: skip
from scim_calls import SCIM_CONTENT_TYPE, assert_scim_error, create_user, op

UNKNOWN_ID = "3f0e8a4c-5d7b-4e1a-9c2f-6b8d0a1e2f3c"

pytestmark = pytest.mark.backends("embedded", "brig")  # brig: the brig backend over brig-lite



# --- POST ----------------------------------------------------------------------------------------


async def test_post_answers_201_with_the_group_a_location_and_an_etag(client: TestClient, token: str) -> None:
    """POST /Groups answers 201 with the group, `members: []`, a Location and an ETag (meta.version)."""
    response = await client.post(GROUPS, json=group_body("Engineering"), headers=auth(token))
    body = await response.json()

    assert 201 == response.status
    assert SCIM_CONTENT_TYPE == response.headers["Content-Type"]
    assert [GROUP_URN] == body["schemas"]
    assert ("Engineering", []) == (body["displayName"], body["members"])
    assert "externalId" not in body
    assert "Group" == body["meta"]["resourceType"]
    assert body["meta"]["created"] == body["meta"]["lastModified"]
    assert body["meta"]["version"] == response.headers["ETag"]
    assert body["meta"]["location"] == response.headers["Location"]
    assert body["meta"]["location"].endswith(f"/scim/v2/Groups/{body['id']}")


async def test_post_with_members_stores_and_returns_them(client: TestClient, token: str) -> None:
    """Members given on create are stored; each is returned with value, $ref and type User."""
    ids = await new_users(client, token, 2)

    created = await create_group(client, token, group_body("Sales", ids))

    base = created["meta"]["location"].rsplit("/Groups/", 1)[0]
    assert [{"value": i, "$ref": f"{base}/Users/{i}", "type": "User"} for i in ids] == created["members"]
    assert created == await get_group(client, token, created["id"])


async def test_post_accepts_microsofts_extra_schema_urn_and_answers_with_the_core_one(
    client: TestClient, token: str
) -> None:
    """Entra's extra Group schema URN is accepted; the response names only the core Group schema."""
    created = await create_group(client, token, group_body("Ops", schemas=[GROUP_URN, MS_GROUP_URN]))

    assert [GROUP_URN] == created["schemas"]


async def test_post_keeps_an_external_id(client: TestClient, token: str) -> None:
    """An externalId given on create is stored and returned."""
    created = await create_group(client, token, group_body("Ops", externalId="8aa1a0c0-c4c3"))

    assert "8aa1a0c0-c4c3" == (await get_group(client, token, created["id"]))["externalId"]


async def test_a_taken_external_id_is_409_uniqueness(client: TestClient, token: str) -> None:
    """A second group with the same externalId in the team is a 409 uniqueness error."""
    await create_group(client, token, group_body("A", externalId="same"))

    response = await client.post(GROUPS, json=group_body("B", externalId="same"), headers=auth(token))

    await assert_scim_error(response, 409, "uniqueness", mentions="externalId")


async def test_display_names_need_not_be_unique(client: TestClient, token: str) -> None:
    """Two groups may share a displayName (Wire user group names are not unique)."""
    first = await create_group(client, token, group_body("Same"))
    second = await create_group(client, token, group_body("Same"))

    assert first["id"] != second["id"]


@pytest.mark.parametrize(
    "display_name, mentions",
    [
        pytest.param(None, "displayName is required", id="missing"),
        pytest.param("", "displayName is required", id="empty"),
        pytest.param("   ", "displayName is required", id="blank"),
        pytest.param(42, "displayName is required", id="number"),
        pytest.param("x" * 4001, "4001 characters", id="too-long"),
    ],
)
async def test_a_bad_display_name_is_400_invalid_value(
    client: TestClient, token: str, display_name: Any, mentions: str
) -> None:
    """displayName must be a string of 1 to 4000 characters; anything else is 400 invalidValue."""
    body = {"schemas": [GROUP_URN]} | ({} if display_name is None else {"displayName": display_name})

    response = await client.post(GROUPS, json=body, headers=auth(token))

    await assert_scim_error(response, 400, "invalidValue", mentions=mentions)


async def test_a_display_name_of_4000_characters_is_accepted(client: TestClient, token: str) -> None:
    """4000 characters is the longest displayName Wire keeps."""
    created = await create_group(client, token, group_body("x" * 4000))

    assert 4000 == len(created["displayName"])


@pytest.mark.parametrize(
    "body, scim_type",
    [
        pytest.param([], "invalidSyntax", id="not-an-object"),
        pytest.param({"displayName": "A", "DISPLAYNAME": "B"}, "invalidSyntax", id="twice-in-two-cases"),
        pytest.param({"displayName": "A", "externalId": 7}, "invalidValue", id="external-id-number"),
        pytest.param({"displayName": "A", "members": [{"display": "x"}]}, "invalidValue", id="no-member-value"),
        pytest.param({"displayName": "A", "members": [7]}, "invalidValue", id="member-number"),
    ],
)
async def test_malformed_group_bodies_are_400(
    client: TestClient, token: str, body: Any, scim_type: str
) -> None:
    """A malformed Group body is a 400 with the matching scimType, and creates nothing."""
    response = await client.post(GROUPS, json=body, headers=auth(token))

    await assert_scim_error(response, 400, scim_type)
    assert 0 == (await list_groups(client, token))["totalResults"]


# --- members must be users of the team ------------------------------------------------------------


async def test_unknown_member_ids_are_400_invalid_value_listing_them(client: TestClient, token: str) -> None:
    """Members that are not users of the team give 400 invalidValue naming each of them."""
    [known] = await new_users(client, token, 1)

    body = group_body("A", [known, UNKNOWN_ID, "not-a-uuid"])

    response = await client.post(GROUPS, json=body, headers=auth(token))

    payload = await assert_scim_error(response, 400, "invalidValue")
    assert (True, True, False) == (
        UNKNOWN_ID in payload["detail"], "not-a-uuid" in payload["detail"], known in payload["detail"]
    )


async def test_users_of_another_team_cannot_be_members(client: TestClient, token: str) -> None:
    """A user of another team is refused as a member, with its id in the detail."""
    other_token = await new_token(client, OTHER_TEAM)
    stranger = (await create_user(client, other_token))["id"]
    group = await create_group(client, token)

    response = await patch_group(client, token, group["id"], op("add", "members", [{"value": stranger}]))

    await assert_scim_error(response, 400, "invalidValue", mentions=stranger)
    assert [] == await members_of(client, token, group["id"])


async def test_a_group_of_the_team_named_as_member_is_skipped(client: TestClient, token: str) -> None:
    """A nested group sent as a member (Entra) is skipped: Wire user groups hold users only."""
    [user] = await new_users(client, token, 1)
    inner = await create_group(client, token, group_body("Inner"))

    outer = await create_group(client, token, group_body("Outer", [user, inner["id"]]))

    assert [user] == [member["value"] for member in outer["members"]]


# --- GET -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("group_id", [UNKNOWN_ID, "not-a-uuid"])
async def test_get_of_an_unknown_group_is_404(client: TestClient, token: str, group_id: str) -> None:
    """An unknown or malformed group id is a 404."""
    response = await client.get(f"{GROUPS}/{group_id}", headers=auth(token))

    await assert_scim_error(response, 404, mentions=group_id)


async def test_another_teams_group_is_404(client: TestClient, token: str) -> None:
    """A group of another team is not found, neither by id nor in the list."""
    other_token = await new_token(client, OTHER_TEAM)
    group = await create_group(client, other_token)

    response = await client.get(f"{GROUPS}/{group['id']}", headers=auth(token))

    await assert_scim_error(response, 404)
    assert 0 == (await list_groups(client, token))["totalResults"]


async def test_excluded_members_leave_the_key_out(client: TestClient, token: str) -> None:
    """`excludedAttributes=members` answers the group without a `members` key (Entra)."""
    ids = await new_users(client, token, 2)
    group = await create_group(client, token, group_body("A", ids))

    fetched = await get_group(client, token, group["id"], "excludedAttributes=members")

    assert {k: v for k, v in group.items() if k != "members"} == fetched


async def test_attributes_return_only_what_was_asked(client: TestClient, token: str) -> None:
    """`attributes=displayName` answers id, schemas and displayName only."""
    group = await create_group(client, token, group_body("A", await new_users(client, token, 1)))

    fetched = await get_group(client, token, group["id"], "attributes=displayName")

    assert {"schemas": [GROUP_URN], "id": group["id"], "displayName": "A"} == fetched


async def test_attributes_naming_members_return_them(client: TestClient, token: str) -> None:
    """`attributes=members.value` answers the member values."""
    ids = await new_users(client, token, 2)
    group = await create_group(client, token, group_body("A", ids))

    fetched = await get_group(client, token, group["id"], "attributes=members.value")

    assert [{"value": i} for i in ids] == fetched["members"]


# --- PUT -----------------------------------------------------------------------------------------


async def test_put_replaces_name_external_id_and_members(client: TestClient, token: str) -> None:
    """PUT replaces displayName, externalId and the member list and answers 200 with a new ETag."""
    first, second = await new_users(client, token, 2)
    group = await create_group(client, token, group_body("A", [first], externalId="old"))

    response = await client.put(
        f"{GROUPS}/{group['id']}", json=group_body("B", [second], externalId="new"), headers=auth(token)
    )
    replaced = await response.json()

    assert 200 == response.status
    assert ("B", "new", [second]) == (
        replaced["displayName"], replaced["externalId"], [m["value"] for m in replaced["members"]]
    )
    assert replaced["meta"]["version"] == response.headers["ETag"] != group["meta"]["version"]
    assert replaced == await get_group(client, token, group["id"])


async def test_put_without_members_keeps_them_and_with_an_empty_list_clears_them(
    client: TestClient, token: str
) -> None:
    """A PUT that omits `members` keeps them (a rename); `members: []` removes them all."""
    ids = await new_users(client, token, 2)
    group = await create_group(client, token, group_body("A", ids))
    url = f"{GROUPS}/{group['id']}"

    await client.put(url, json=group_body("B"), headers=auth(token))
    kept = await members_of(client, token, group["id"])
    await client.put(url, json=group_body("B", []), headers=auth(token))

    assert (ids, []) == (kept, await members_of(client, token, group["id"]))


async def test_put_of_an_unknown_group_is_404(client: TestClient, token: str) -> None:
    """PUT of a group that does not exist is a 404 and creates nothing."""
    response = await client.put(f"{GROUPS}/{UNKNOWN_ID}", json=group_body("A"), headers=auth(token))

    await assert_scim_error(response, 404)
    assert 0 == (await list_groups(client, token))["totalResults"]


async def test_put_of_the_same_content_keeps_the_version(client: TestClient, token: str) -> None:
    """A PUT that changes nothing keeps meta.version and lastModified."""
    ids = await new_users(client, token, 1)
    group = await create_group(client, token, group_body("A", ids))

    response = await client.put(f"{GROUPS}/{group['id']}", json=group, headers=auth(token))

    assert group == await response.json()


# --- DELETE --------------------------------------------------------------------------------------


async def test_delete_answers_204_and_the_group_is_gone(client: TestClient, token: str) -> None:
    """DELETE answers 204; the group is then 404 and no longer counted."""
    group = await create_group(client, token, group_body("A", await new_users(client, token, 1)))

    response = await client.delete(f"{GROUPS}/{group['id']}", headers=auth(token))

    assert 204 == response.status
    assert 404 == (await client.get(f"{GROUPS}/{group['id']}", headers=auth(token))).status
    assert 0 == (await list_groups(client, token))["totalResults"]


@pytest.mark.parametrize("group_id", [UNKNOWN_ID, "not-a-uuid"])
async def test_delete_of_an_unknown_group_is_204(client: TestClient, token: str, group_id: str) -> None:
    """DELETE is idempotent: an unknown id answers 204 too."""
    response = await client.delete(f"{GROUPS}/{group_id}", headers=auth(token))

    assert 204 == response.status


async def test_delete_of_another_teams_group_is_silent_and_keeps_it(client: TestClient, token: str) -> None:
    """Deleting another team's group answers 204 and leaves that group alone."""
    other_token = await new_token(client, OTHER_TEAM)
    group = await create_group(client, other_token)

    response = await client.delete(f"{GROUPS}/{group['id']}", headers=auth(token))

    assert 204 == response.status
    assert group == await get_group(client, other_token, group["id"])


# --- ETags ---------------------------------------------------------------------------------------


async def test_if_none_match_with_the_current_etag_is_304(client: TestClient, token: str) -> None:
    """GET with If-None-Match equal to the current ETag answers 304 without a body."""
    group = await create_group(client, token)

    response = await client.get(
        f"{GROUPS}/{group['id']}", headers=auth(token, **{"If-None-Match": group["meta"]["version"]})
    )

    assert (304, group["meta"]["version"]) == (response.status, response.headers["ETag"])


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
async def test_a_stale_if_match_is_412_and_changes_nothing(
    client: TestClient, token: str, method: str
) -> None:
    """PUT, PATCH and DELETE with an outdated If-Match answer 412 and leave the group as it was."""
    group = await create_group(client, token)
    stale = group["meta"]["version"]
    await patch_group(client, token, group["id"], op("replace", "displayName", "Renamed"))
    current = await get_group(client, token, group["id"])
    url, headers = f"{GROUPS}/{group['id']}", auth(token, **{"If-Match": stale})
    body = {"put": group_body("X"), "patch": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [op("replace", "displayName", "X")]}, "delete": None}[method]  # fmt: skip

    response = await getattr(client, method)(url, json=body, headers=headers)

    await assert_scim_error(response, 412)
    assert current == await get_group(client, token, group["id"])


async def test_the_current_if_match_lets_the_change_through(client: TestClient, token: str) -> None:
    """A PATCH with the current ETag (or a list holding it) goes through and gives a new ETag."""
    group = await create_group(client, token)
    tag = group["meta"]["version"]

    response = await patch_group(
        client, token, group["id"], op("replace", "displayName", "B"), **{"If-Match": f'W/"0", {tag}'}
    )

    assert 204 == response.status
    assert response.headers["ETag"] == (await get_group(client, token, group["id"]))["meta"]["version"] != tag


# --- users and their groups ----------------------------------------------------------------------


async def test_deleting_a_user_removes_it_from_its_groups(client: TestClient, token: str) -> None:
    """A deleted user leaves every group it was in; the groups get a new version."""
    first, second = await new_users(client, token, 2)
    group = await create_group(client, token, group_body("A", [first, second]))

    await client.delete(f"/scim/v2/Users/{first}", headers=auth(token))
    after = await get_group(client, token, group["id"])

    assert [second] == [m["value"] for m in after["members"]]
    assert group["meta"]["version"] != after["meta"]["version"]
