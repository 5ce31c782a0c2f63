"""
brig-lite's user-group routes (docs/wire.md §6.4): the request bodies spar sends, brig's
`UserGroup` shape, statuses and error labels, and the rules of
libs/wire-subsystems/src/Wire/UserGroupSubsystem/Interpreter.hs (createUserGroupFullImpl,
resetUserGroupInternal, deleteGroupManagedImpl).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.brig_lite.app import create_brig_lite_app
from gateway.config import BrigLite
from test_brig_lite import TEAM, invitation, json_of, spar_user, wire_error

OTHER_TEAM = "d2a1c0de-1111-4222-8333-944455556666"
GROUP_KEYS = {"id", "name", "members", "managedBy", "createdAt"}


@pytest.fixture(name="lite")
async def _lite(aiohttp_client: Any, tmp_path: Path) -> TestClient:
    return await aiohttp_client(create_brig_lite_app(BrigLite(path=str(tmp_path / "brig-lite.db"))))


async def users(lite: TestClient, count: int, team: str = TEAM) -> list[str]:
    """Ids of `count` new SCIM users of `team`, sorted (brig-lite lists members sorted)."""
    ids = []
    for _ in range(count):
        body = spar_user(f"u{uuid.uuid4().hex[:12]}", newUserSparTeamId=team)
        await json_of(await lite.post("/i/users/spar", json=body), 201)
        ids.append(body["newUserSparUUID"])
    return sorted(ids)


def full(name: str = "Engineering", members: list[str] | None = None, **changes: Any) -> dict[str, Any]:
    """The body spar's createGroupFull sends."""
    return {"managed_by": "scim", "team_id": TEAM, "creator_user_id": None,
            "new_group": {"name": name, "members": members or []}, **changes}  # fmt: skip


async def create(lite: TestClient, name: str = "Engineering", members: list[str] | None = None, **changes: Any) -> dict:
    return await json_of(await lite.post("/i/user-groups/full", json=full(name, members, **changes)), 200)


async def fetch(lite: TestClient, group_id: str, team: str = TEAM, channels: str = "false") -> Any:
    return await json_of(await lite.get(f"/i/user-groups/{team}/{group_id}/{channels}"), 200)


async def test_create_answers_the_user_group(lite: TestClient) -> None:
    """POST /i/user-groups/full answers 200 with brig's UserGroup: members sorted, managedBy scim."""
    ids = await users(lite, 2)

    group = await create(lite, "Engineering", [ids[1], ids[0], ids[1]])

    assert GROUP_KEYS == set(group)
    assert ("Engineering", ids, "scim") == (group["name"], group["members"], group["managedBy"])
    assert group["createdAt"].endswith("Z") and "." in group["createdAt"]
    assert group == await fetch(lite, group["id"])


async def test_get_answers_null_for_an_unknown_or_foreign_group_and_channels_on_request(lite: TestClient) -> None:
    """GET of an unknown group, or of another team's, answers 200 `null`; includeChannels adds `channels`."""
    group = await create(lite)

    assert [None, None] == [await fetch(lite, str(uuid.uuid4())), await fetch(lite, group["id"], OTHER_TEAM)]
    assert [] == (await fetch(lite, group["id"], channels="true"))["channels"]
    await wire_error(await lite.get(f"/i/user-groups/{TEAM}/{group['id']}/maybe"), 400, "bad-request")


async def invitee(lite: TestClient) -> str:
    body = invitation(f"{uuid.uuid4().hex[:8]}@example.com")
    await json_of(await lite.post(f"/i/teams/{TEAM}/invitations", json=body), 200)
    return str(body["user_id"])


async def test_create_takes_users_of_the_team_with_a_profile(lite: TestClient) -> None:
    """Create: another team's user, an unknown id or a pending invitee is 400 `user-group-invalid`; a deleted user passes."""
    [stranger] = await users(lite, 1, OTHER_TEAM)
    [gone] = await users(lite, 1)
    await lite.delete(f"/i/users/{gone}")
    pending = await invitee(lite)

    for member in (stranger, str(uuid.uuid4()), pending):
        await wire_error(await lite.post("/i/user-groups/full", json=full(members=[member])), 400, "user-group-invalid")
    assert [gone] == (await create(lite, "With a tombstone", [gone]))["members"]
    await wire_error(await lite.post("/i/user-groups/full", json=full(name="x" * 4001)), 400, "bad-request")


async def test_put_replaces_the_name_and_the_whole_member_list(lite: TestClient) -> None:
    """PUT /i/user-groups sets name and members (the whole list); a null name keeps it."""
    ids = await users(lite, 3)
    group = await create(lite, "A", ids[:2])

    put = {"team_id": TEAM, "group_id": group["id"], "name": "B", "members": ids[1:]}
    assert 200 == (await lite.put("/i/user-groups", json=put)).status
    renamed = await fetch(lite, group["id"])
    assert 200 == (await lite.put("/i/user-groups", json={**put, "name": None, "members": []})).status

    assert (("B", ids[1:]), ("B", [])) == (
        (renamed["name"], renamed["members"]), ((after := await fetch(lite, group["id"]))["name"], after["members"])
    )


async def test_put_checks_galley_membership(lite: TestClient) -> None:
    """PUT members: another team's user, a pending invitee or a deleted user (no galley member) is 400 `user-group-invalid`."""
    [stranger] = await users(lite, 1, OTHER_TEAM)
    [gone] = await users(lite, 1)
    group = await create(lite, "A", [gone])
    await lite.delete(f"/i/users/{gone}")
    pending = await invitee(lite)

    for member in (stranger, pending, gone):
        put = {"team_id": TEAM, "group_id": group["id"], "name": None, "members": [member]}
        await wire_error(await lite.put("/i/user-groups", json=put), 400, "user-group-invalid")
    assert [] == (await fetch(lite, group["id"]))["members"]


async def test_put_renames_before_it_checks_the_members(lite: TestClient) -> None:
    """resetUserGroupInternal: the rename is done even when the member list is then refused."""
    group = await create(lite, "Before")
    put = {"team_id": TEAM, "group_id": group["id"], "name": "After", "members": [str(uuid.uuid4())]}

    await wire_error(await lite.put("/i/user-groups", json=put), 400, "user-group-invalid")

    assert "After" == (await fetch(lite, group["id"]))["name"]


async def test_put_has_no_managed_by_check_and_404s_an_unknown_group(lite: TestClient) -> None:
    """PUT updates a group managed by wire too; an unknown group is 404 `user-group-not-found`; duplicate ids 500."""
    ids = await users(lite, 1)
    wire_group = await create(lite, managed_by="wire")

    put = {"team_id": TEAM, "group_id": wire_group["id"], "name": "X", "members": ids}
    assert 200 == (await lite.put("/i/user-groups", json=put)).status
    assert ("X", ids) == ((got := await fetch(lite, wire_group["id"]))["name"], got["members"])
    unknown = {**put, "group_id": str(uuid.uuid4())}
    await wire_error(await lite.put("/i/user-groups", json=unknown), 404, "user-group-not-found")
    await wire_error(await lite.put("/i/user-groups", json={**unknown, "name": None}), 404, "user-group-not-found")
    await wire_error(await lite.put("/i/user-groups", json={**put, "members": ids * 2}), 500, "server-error")


async def test_list_pages_filters_and_counts(lite: TestClient) -> None:
    """GET /i/user-groups/:tid: {"page", "total"}, 0-based startIndex, nameContains ignoring case, managedBy."""
    for name in ("Sales", "Engineering", "Presales"):
        await create(lite, name)
    await create(lite, "Sales Wire", managed_by="wire")

    page = await json_of(await lite.get(f"/i/user-groups/{TEAM}?nameContains=SALES&managedBy=scim&startIndex=1&count=5"), 200)
    everything = await json_of(await lite.get(f"/i/user-groups/{TEAM}?startIndex=0"), 200)

    assert (2, ["Presales"]) == (page["total"], [g["name"] for g in page["page"]])
    assert 4 == everything["total"] == len(everything["page"])
    assert {"page", "total"} == set(page) and GROUP_KEYS == set(page["page"][0])
    await wire_error(await lite.get(f"/i/user-groups/{TEAM}"), 400, "bad-request")  # startIndex is required


async def test_delete_managed_by_scim(lite: TestClient) -> None:
    """DELETE …/managed/scim: 200, then 200 again (an unknown group is fine); a group managed by wire is 403 and stays."""
    scim_group = await create(lite)
    wire_group = await create(lite, managed_by="wire")

    assert 200 == (await lite.delete(f"/i/user-groups/{TEAM}/{scim_group['id']}/managed/scim")).status
    assert 200 == (await lite.delete(f"/i/user-groups/{TEAM}/{scim_group['id']}/managed/scim")).status
    assert 200 == (await lite.delete(f"/i/user-groups/{TEAM}/{uuid.uuid4()}/managed/scim")).status
    await wire_error(
        await lite.delete(f"/i/user-groups/{TEAM}/{wire_group['id']}/managed/scim"), 403, "user-group-managed-by-mismatch"
    )
    assert (None, wire_group) == (await fetch(lite, scim_group["id"]), await fetch(lite, wire_group["id"]))


async def test_a_deleted_user_leaves_its_groups(lite: TestClient) -> None:
    """DELETE /i/users/:uid removes the user from every group (Wire's removeUserFromAllGroups)."""
    first, second = await users(lite, 2)
    group = await create(lite, "A", [first, second])

    await lite.delete(f"/i/users/{first}")

    assert [second] == (await fetch(lite, group["id"]))["members"]
