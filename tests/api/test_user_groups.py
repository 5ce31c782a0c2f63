"""A user's read-only `groups` attribute (RFC 7643 §4.1.2) through /Users."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from conftest import auth
from group_calls import create_group, group_body, members_of, new_users, patched_group
from scim_calls import USERS, assert_scim_error, create_user, get_user, op, patch_user, search

pytestmark = pytest.mark.backends("embedded", "brig")  # brig: the brig backend over brig-lite



async def test_a_user_lists_its_groups_sorted_by_name(client: TestClient, token: str) -> None:
    """GET /Users/:id shows each group with value, display, $ref and type, sorted by displayName."""
    [user] = await new_users(client, token, 1)
    sales = await create_group(client, token, group_body("sales", [user]))
    admins = await create_group(client, token, group_body("Admins", [user]))
    await create_group(client, token, group_body("Others"))

    fetched = await get_user(client, token, user)

    expected = [
        {"value": g["id"], "display": g["displayName"], "$ref": g["meta"]["location"], "type": "direct"}
        for g in (admins, sales)
    ]
    assert expected == fetched["groups"]


async def test_a_user_in_no_group_has_no_groups_key(client: TestClient, token: str) -> None:
    """A user without groups has no `groups` attribute (an empty multi-valued attribute is unassigned)."""
    user = await create_user(client, token)

    assert "groups" not in await get_user(client, token, user["id"])


async def test_a_user_list_shows_each_users_groups(client: TestClient, token: str) -> None:
    """GET /Users shows the groups of every user on the page."""
    first, second = await new_users(client, token, 2)
    group = await create_group(client, token, group_body("A", [second]))

    page = await search(client, token, "count=10")

    by_id = {user["id"]: [g["value"] for g in user.get("groups", [])] for user in page["Resources"]}
    assert {first: [], second: [group["id"]]} == by_id


async def test_a_rename_and_a_removal_show_on_the_user(client: TestClient, token: str) -> None:
    """The user's groups follow renames and removals of the group."""
    [user] = await new_users(client, token, 1)
    group = await create_group(client, token, group_body("Old", [user]))

    await patched_group(client, token, group["id"], op("replace", "displayName", "New"))
    renamed = await get_user(client, token, user)
    await patched_group(client, token, group["id"], op("remove", f'members[value eq "{user}"]'))

    assert ["New"] == [g["display"] for g in renamed["groups"]]
    assert "groups" not in await get_user(client, token, user)


async def test_excluded_groups_are_left_out(client: TestClient, token: str) -> None:
    """`excludedAttributes=groups` answers the user without `groups`."""
    [user] = await new_users(client, token, 1)
    await create_group(client, token, group_body("A", [user]))

    response = await client.get(f"{USERS}/{user}?excludedAttributes=groups", headers=auth(token))

    assert "groups" not in await response.json()


async def test_put_of_a_user_ignores_groups(client: TestClient, token: str) -> None:
    """Okta PUTs back what it read, groups included: they are ignored and the memberships kept."""
    [user] = await new_users(client, token, 1)
    group = await create_group(client, token, group_body("A", [user]))
    fetched = await get_user(client, token, user)

    response = await client.put(f"{USERS}/{user}", json={**fetched, "groups": []}, headers=auth(token))

    assert (200, fetched) == (response.status, await response.json())
    assert [user] == await members_of(client, token, group["id"])


async def test_patch_of_a_users_groups_is_400_mutability(client: TestClient, token: str) -> None:
    """`groups` is read-only on the user: a PATCH naming it is 400 mutability and changes nothing."""
    [user] = await new_users(client, token, 1)
    group = await create_group(client, token, group_body("A"))

    response = await patch_user(client, token, user, op("add", "groups", [{"value": group["id"]}]))

    await assert_scim_error(response, 400, "mutability", mentions="groups")
    assert [] == await members_of(client, token, group["id"])
