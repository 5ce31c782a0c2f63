"""
brig-lite's user-group routes (docs/wire.md §6.4): the request bodies spar sends, brig's
`UserGroup` shape, statuses and error labels (docs/backend-calls.md, "Groups", lists what is
inferred rather than read in Wire's source).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.brig_lite.app import create_brig_lite_app
from gateway.config import BrigLite
from test_brig_lite import TEAM, json_of, spar_user, wire_error

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


async def test_members_must_be_in_the_team(lite: TestClient) -> None:
    """A member of another team, an unknown id or a deleted user is 400 `user-group-invalid`."""
    [stranger] = await users(lite, 1, OTHER_TEAM)
    [gone] = await users(lite, 1)
    await lite.delete(f"/i/users/{gone}")

    for member in (stranger, str(uuid.uuid4()), gone):
        await wire_error(await lite.post("/i/user-groups/full", json=full(members=[member])), 400, "user-group-invalid")
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


async def test_put_refusals(lite: TestClient) -> None:
    """PUT: 404 `user-group-not-found`, 403 `user-group-managed-by-mismatch`, 400 `user-group-invalid`."""
    [stranger] = await users(lite, 1, OTHER_TEAM)
    wire_group = await create(lite, managed_by="wire")
    scim_group = await create(lite)

    def put(group_id: str, members: list[str]) -> dict[str, Any]:
        return {"team_id": TEAM, "group_id": group_id, "name": "X", "members": members}

    await wire_error(await lite.put("/i/user-groups", json=put(str(uuid.uuid4()), [])), 404, "user-group-not-found")
    await wire_error(await lite.put("/i/user-groups", json=put(wire_group["id"], [])), 403, "user-group-managed-by-mismatch")
    await wire_error(await lite.put("/i/user-groups", json=put(scim_group["id"], [stranger])), 400, "user-group-invalid")
    assert scim_group == await fetch(lite, scim_group["id"])


async def test_list_pages_filters_and_counts(lite: TestClient) -> None:
    """GET /i/user-groups/:tid: {"page", "total"}, 0-based startIndex, nameContains ignoring case, managedBy."""
    for name in ("Sales", "Engineering", "Presales"):
        await create(lite, name)
    await create(lite, "Sales Wire", managed_by="wire")

    page = await json_of(await lite.get(f"/i/user-groups/{TEAM}?nameContains=SALES&managedBy=scim&startIndex=1&count=5"), 200)
    everything = await json_of(await lite.get(f"/i/user-groups/{TEAM}"), 200)

    assert (2, ["Presales"]) == (page["total"], [g["name"] for g in page["page"]])
    assert 4 == everything["total"] == len(everything["page"])
    assert {"page", "total"} == set(page) and GROUP_KEYS == set(page["page"][0])


async def test_delete_managed_by_scim(lite: TestClient) -> None:
    """DELETE …/managed/scim: 200, then 404; a group managed by wire is 403 and stays."""
    scim_group = await create(lite)
    wire_group = await create(lite, managed_by="wire")

    assert 200 == (await lite.delete(f"/i/user-groups/{TEAM}/{scim_group['id']}/managed/scim")).status
    await wire_error(await lite.delete(f"/i/user-groups/{TEAM}/{scim_group['id']}/managed/scim"), 404, "user-group-not-found")
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
