"""PATCH /Groups/:id in every dialect real clients send (docs/clients.md §1.8, §2.9)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from conftest import auth
from group_calls import (
    GROUP_URN, GROUPS, create_group, get_group, group_body, members, members_of, new_users, patch_group,
    patched_group,
)  # fmt: skip
from scim_calls import PATCH_URN, assert_scim_error, op

UNKNOWN_ID = "3f0e8a4c-5d7b-4e1a-9c2f-6b8d0a1e2f3c"

pytestmark = pytest.mark.backends("embedded", "brig")  # brig: the brig backend over brig-lite



async def _group(client: TestClient, token: str, user_ids: list[str] | None = None, **extra: Any) -> dict:
    return await create_group(client, token, group_body("Engineering", user_ids or [], **extra))


# --- adding members ------------------------------------------------------------------------------


async def test_add_several_members_in_one_operation(client: TestClient, token: str) -> None:
    """One `add` with several `{"$ref": null, "value"}` objects adds them all and answers 204."""
    ids = await new_users(client, token, 3)
    group = await _group(client, token)

    response = await patch_group(client, token, group["id"], op("Add", "members", members(*ids)))

    assert (204, "") == (response.status, await response.text())
    assert ids == await members_of(client, token, group["id"])


async def test_add_members_in_several_operations(client: TestClient, token: str) -> None:
    """Several `add` operations in one request each add their members."""
    first, second = await new_users(client, token, 2)
    group = await _group(client, token)

    await patched_group(
        client, token, group["id"],
        op("add", "members", members(first)), op("add", "members", members(second)),
    )  # fmt: skip

    assert [first, second] == await members_of(client, token, group["id"])


async def test_type_display_and_ref_of_a_new_member_are_optional_and_ignored(
    client: TestClient, token: str
) -> None:
    """A member with `type`, `display` or a `$ref`, or only a `value`, is added by its value."""
    first, second = await new_users(client, token, 2)
    group = await _group(client, token)
    value = [
        {"value": first, "type": "User", "display": "x", "$ref": "https://elsewhere/Users/1"},
        {"value": second},
    ]

    await patched_group(client, token, group["id"], op("add", "members", value))

    assert [first, second] == await members_of(client, token, group["id"])


async def test_adding_a_member_twice_changes_nothing(client: TestClient, token: str) -> None:
    """Adding a member that is already in the group keeps the members, the version and lastModified."""
    [user] = await new_users(client, token, 1)
    group = await _group(client, token, [user])

    await patched_group(client, token, group["id"], op("add", "members", members(user, user)))

    assert group == await get_group(client, token, group["id"])


async def test_pathless_add_of_members(client: TestClient, token: str) -> None:
    """A path-less `add` with a `members` key adds them."""
    [user] = await new_users(client, token, 1)
    group = await _group(client, token)

    await patched_group(client, token, group["id"], op("add", value={"members": [{"value": user}]}))

    assert [user] == await members_of(client, token, group["id"])


# --- removing members ----------------------------------------------------------------------------


async def test_remove_by_value_filter(client: TestClient, token: str) -> None:
    """`remove` on `members[value eq "id"]` removes that member only."""
    first, second = await new_users(client, token, 2)
    group = await _group(client, token, [first, second])

    await patched_group(client, token, group["id"], op("remove", f'members[value eq "{first}"]'))

    assert [second] == await members_of(client, token, group["id"])


async def test_remove_by_an_or_of_value_filters(client: TestClient, token: str) -> None:
    """`members[value eq "a" or value eq "b"]` removes both."""
    ids = await new_users(client, token, 3)
    group = await _group(client, token, ids)

    await patched_group(
        client, token, group["id"], op("remove", f'members[value eq "{ids[0]}" or value eq "{ids[2]}"]')
    )

    assert [ids[1]] == await members_of(client, token, group["id"])


async def test_remove_by_another_filter_removes_the_members_it_selects(
    client: TestClient, token: str
) -> None:
    """Any other value filter is evaluated against the members: `members[value ne "a"]` keeps only a."""
    ids = await new_users(client, token, 3)
    group = await _group(client, token, ids)

    await patched_group(client, token, group["id"], op("remove", f'members[value ne "{ids[1]}"]'))

    assert [ids[1]] == await members_of(client, token, group["id"])


async def test_entra_remove_with_a_value_list_removes_only_the_listed_members(
    client: TestClient, token: str
) -> None:
    """Entra's `remove` on `members` with a value array removes the listed members, never all of them."""
    ids = await new_users(client, token, 3)
    group = await _group(client, token, ids)

    await patched_group(client, token, group["id"], op("Remove", "members", members(ids[0], ids[2])))

    assert [ids[1]] == await members_of(client, token, group["id"])


async def test_remove_of_members_without_a_value_removes_them_all(client: TestClient, token: str) -> None:
    """`remove` on `members` without a filter or a value removes every member (RFC 7644 §3.5.2.2)."""
    group = await _group(client, token, await new_users(client, token, 2))

    await patched_group(client, token, group["id"], op("remove", "members"))

    assert [] == await members_of(client, token, group["id"])


@pytest.mark.parametrize("user_id", [UNKNOWN_ID, "not-a-uuid"])
async def test_removing_a_non_member_changes_nothing(client: TestClient, token: str, user_id: str) -> None:
    """Removing an id that is not a member answers 204 and keeps the version."""
    group = await _group(client, token, await new_users(client, token, 1))

    await patched_group(client, token, group["id"], op("remove", f'members[value eq "{user_id}"]'))
    await patched_group(client, token, group["id"], op("remove", "members", members(user_id)))

    assert group == await get_group(client, token, group["id"])


# --- replacing members, renaming ------------------------------------------------------------------


async def test_replace_of_members_sets_the_whole_list(client: TestClient, token: str) -> None:
    """Okta's `replace` on `members` makes the given users the only members."""
    ids = await new_users(client, token, 3)
    group = await _group(client, token, ids[:2])
    value = [{"value": ids[1], "display": "x"}, {"value": ids[2], "display": "y"}]

    await patched_group(client, token, group["id"], op("replace", "members", value))

    assert ids[1:] == await members_of(client, token, group["id"])


async def test_rename_by_path(client: TestClient, token: str) -> None:
    """Entra's `Replace` on `displayName` renames the group and gives it a new version."""
    group = await _group(client, token)

    await patched_group(client, token, group["id"], op("Replace", "displayName", "Renamed"))
    renamed = await get_group(client, token, group["id"])

    assert "Renamed" == renamed["displayName"]
    assert group["meta"]["version"] != renamed["meta"]["version"]


async def test_okta_pathless_rename_with_the_groups_own_id(client: TestClient, token: str) -> None:
    """Okta's path-less `replace {"id": <this id>, "displayName"}` renames; the echoed id is fine."""
    group = await _group(client, token)

    value = {"id": group["id"], "displayName": "Okta"}

    await patched_group(client, token, group["id"], op("replace", value=value))

    assert "Okta" == (await get_group(client, token, group["id"]))["displayName"]


async def test_a_pathless_value_with_another_id_is_400_mutability(client: TestClient, token: str) -> None:
    """A path-less value carrying another id is 400 mutability: a group's id is read-only."""
    group = await _group(client, token)

    value = {"id": UNKNOWN_ID, "displayName": "X"}

    response = await patch_group(client, token, group["id"], op("replace", value=value))

    await assert_scim_error(response, 400, "mutability", mentions="id")
    assert group == await get_group(client, token, group["id"])


async def test_a_rename_to_the_same_name_keeps_the_version(client: TestClient, token: str) -> None:
    """A rename to the current name changes nothing (Okta sends one before every push)."""
    group = await _group(client, token)

    await patched_group(client, token, group["id"], op("replace", f"{GROUP_URN}:displayName", "Engineering"))

    assert group == await get_group(client, token, group["id"])


@pytest.mark.parametrize(
    "operation, expected",
    [
        pytest.param(op("add", "externalId", "new"), "new", id="add"),
        pytest.param(op("replace", "externalId", "new"), "new", id="replace"),
        pytest.param(op("remove", "externalId"), None, id="remove"),
        pytest.param(op("replace", value={"externalId": None}), None, id="pathless-null"),
    ],
)
async def test_external_id_can_be_set_and_removed(
    client: TestClient, token: str, operation: dict[str, Any], expected: str | None
) -> None:
    """externalId is optional: add and replace set it, remove and null unassign it."""
    group = await _group(client, token, externalId="old")

    await patched_group(client, token, group["id"], operation)

    assert expected == (await get_group(client, token, group["id"])).get("externalId")


async def test_unknown_attributes_and_extensions_are_ignored(client: TestClient, token: str) -> None:
    """Attributes Wire does not keep, and extension URNs, are ignored as on Users."""
    group = await _group(client, token)

    await patched_group(
        client, token, group["id"], op("replace", "description", "x"),
        op("add", "urn:example:params:scim:schemas:extension:acme:1.0:Group:cost", "1"),
    )  # fmt: skip

    assert group == await get_group(client, token, group["id"])


# --- responses ----------------------------------------------------------------------------------


async def test_patch_with_a_projection_answers_200_with_the_group(client: TestClient, token: str) -> None:
    """With `attributes` or `excludedAttributes` a PATCH answers 200 with the projected group."""
    [user] = await new_users(client, token, 1)
    group = await _group(client, token)
    url = f"{GROUPS}/{group['id']}?excludedAttributes=members"
    body = {"schemas": [PATCH_URN], "Operations": [op("add", "members", members(user))]}

    response = await client.patch(url, json=body, headers=auth(token))
    patched = await response.json()

    assert (200, False) == (response.status, "members" in patched)
    assert patched["meta"]["version"] == response.headers["ETag"]


# --- errors --------------------------------------------------------------------------------------


async def test_an_invalid_member_in_a_later_operation_changes_nothing(client: TestClient, token: str) -> None:
    """A request is atomic: when one operation names an unknown user, no operation is applied."""
    [user] = await new_users(client, token, 1)
    group = await _group(client, token)

    response = await patch_group(
        client, token, group["id"],
        op("add", "members", members(user)), op("add", "members", members(UNKNOWN_ID)),
    )  # fmt: skip

    await assert_scim_error(response, 400, "invalidValue", mentions=UNKNOWN_ID)
    assert group == await get_group(client, token, group["id"])


@pytest.mark.parametrize(
    "body, scim_type, mentions",
    [
        pytest.param({"Operations": [op("add", "members", [])]}, "invalidSyntax", "schemas", id="no-schemas"),
        pytest.param({"schemas": [PATCH_URN], "Operations": []}, "invalidSyntax", "Operations", id="no-ops"),
        pytest.param([op("Merge", "members", [])], "invalidSyntax", "op", id="unknown-op"),
        pytest.param([op("remove")], "noTarget", "path", id="remove-without-path"),
        pytest.param([op("remove", "displayName")], "invalidValue", "displayName", id="remove-display-name"),
        pytest.param([op("replace", "displayName", "x" * 4001)], "invalidValue", "4000", id="long-name"),
        pytest.param([op("replace", "displayName", "")], "invalidValue", "displayName", id="empty-name"),
        pytest.param([op("replace", "id", UNKNOWN_ID)], "mutability", "id", id="id"),
        pytest.param([op("replace", "meta", {})], "mutability", "meta", id="meta"),
        pytest.param([op("add", 'members[value eq "x"]', {})], "invalidPath", "remove", id="add-filter"),
        pytest.param([op("replace", "members.value", "x")], "invalidPath", "members", id="members-sub"),
        pytest.param([op("add", "members", [{"display": "x"}])], "invalidValue", "value", id="no-value"),
        pytest.param([op("add", "displayName[x eq 1]", "a")], "invalidPath", "simple", id="filter-on-name"),
    ],
)  # fmt: skip
async def test_malformed_group_patches_are_400(
    client: TestClient, token: str, body: Any, scim_type: str, mentions: str
) -> None:
    """A bad PATCH is a 400 with the matching scimType and a detail naming the problem; nothing changes."""
    group = await _group(client, token)
    payload = body if isinstance(body, dict) else {"schemas": [PATCH_URN], "Operations": body}

    response = await client.patch(f"{GROUPS}/{group['id']}", json=payload, headers=auth(token))

    await assert_scim_error(response, 400, scim_type, mentions=mentions)
    assert group == await get_group(client, token, group["id"])


async def test_the_detail_names_the_failing_operation(client: TestClient, token: str) -> None:
    """An error in the second operation says `Operations[1]`."""
    group = await _group(client, token)

    ops = (op("replace", "displayName", "A"), op("remove", "displayName"))

    response = await patch_group(client, token, group["id"], *ops)

    await assert_scim_error(response, 400, "invalidValue", mentions="Operations[1]")


@pytest.mark.parametrize("group_id", [UNKNOWN_ID, "not-a-uuid"])
async def test_patch_of_an_unknown_group_is_404(client: TestClient, token: str, group_id: str) -> None:
    """PATCH of a group that does not exist is a 404."""
    response = await patch_group(client, token, group_id, op("replace", "displayName", "A"))

    await assert_scim_error(response, 404)
