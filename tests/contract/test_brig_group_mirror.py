"""
The brig backend's groups where its mirror and brig could part: several gateway processes writing
one group (two BrigBackend instances on one database and one brig-lite, each with its own locks),
changes made in Wire behind the gateway's back, and brig failing half-way.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from conftest import FixedIssuers, running_brig_lite
from gateway.app import brig_settings
from gateway.backend.brig.backend import BrigBackend
from gateway.provisioning.group_members import group_members
from gateway.backend.wire_group import AddMembers, GroupQuery, RemoveMembers, Rename
from gateway.config import Backend as BackendConfig
from gateway.db.sqlite import SqliteDatabase
from gateway.scim.errors import NotFound, ScimError
from test_backend import TEAM, new_user
from test_backend_groups import new_group


@dataclass
class Setup:
    url: str  # brig-lite's
    first: BrigBackend  # two gateway processes on one database
    second: BrigBackend

    async def brig(self, method: str, path: str, **kw: Any) -> Any:
        """A call straight to brig-lite (what Wire's own clients could do behind the gateway's back)."""
        async with aiohttp.ClientSession() as session, session.request(method, self.url + path, **kw) as answer:
            return answer.status, await answer.json(content_type=None)

    async def brig_members(self, group_id: str) -> list[str]:
        _, group = await self.brig("GET", f"/i/user-groups/{TEAM}/{group_id}/false")
        return sorted(group["members"])

    async def users(self, count: int) -> list[str]:
        return sorted([(await self.first.create_user(TEAM, new_user(f"m{n}", idp="i"))).id for n in range(count)])


@pytest.fixture(name="setup")
async def _setup(tmp_path: Path) -> AsyncIterator[Setup]:
    async with running_brig_lite(tmp_path / "brig-lite.db") as url:
        db = await SqliteDatabase.open(tmp_path / "gw.db")
        config = BackendConfig(kind="brig", brig_url=url)
        first, second = (
            await BrigBackend.open(brig_settings(config), db, group_members=group_members, issuers=FixedIssuers()),
            await BrigBackend.open(brig_settings(config), db, group_members=group_members, issuers=FixedIssuers()),
        )
        try:
            yield Setup(url, first, second)
        finally:
            await first.close()
            await second.close()
            await db.close()


async def test_two_processes_adding_members_at_once_lose_none(setup: Setup) -> None:
    """Concurrent adds through two processes (no shared lock) end with every member, in brig and mirror."""
    ids = await setup.users(8)
    group = await setup.first.create_group(TEAM, new_group())

    await asyncio.gather(*[
        (setup.first if n % 2 else setup.second).edit_group(TEAM, group.id, [AddMembers((user,))])
        for n, user in enumerate(ids)
    ])  # fmt: skip

    mirrored = await setup.first.get_group(TEAM, group.id)
    assert (tuple(ids), 8, ids) == (mirrored.members, mirrored.member_count, await setup.brig_members(group.id))


async def test_a_member_deleted_in_wire_leaves_the_group_on_the_next_read(setup: Setup) -> None:
    """brig removes a deleted user from its groups; the next read with members follows it (new version)."""
    first, second = await setup.users(2)
    group = await setup.first.create_group(TEAM, new_group(members=[first, second]))

    await setup.brig("DELETE", f"/i/users/{first}")
    fetched = await setup.first.get_group(TEAM, group.id)

    assert ((second,), 1) == (fetched.members, fetched.member_count)
    assert fetched.version != group.version
    assert fetched == await setup.first.get_group(TEAM, group.id)


async def test_an_old_member_gone_from_wire_does_not_block_changes(setup: Setup) -> None:
    """A PUT brig refuses because a mirrored member left the team: that member is dropped, the change goes through."""
    first, second, third = await setup.users(3)
    group = await setup.first.create_group(TEAM, new_group(members=[first, second]))
    await setup.brig("DELETE", f"/i/users/{first}")  # the mirror still lists it

    edited = await setup.first.edit_group(TEAM, group.id, [AddMembers((third,))], include_members=True)

    assert ((second, third), [second, third]) == (edited.members, await setup.brig_members(group.id))


async def test_a_group_deleted_in_wire_is_forgotten(setup: Setup) -> None:
    """A group brig no longer has is 404 on the next read with members, and no longer counted."""
    group = await setup.first.create_group(TEAM, new_group())

    await setup.brig("DELETE", f"/i/user-groups/{TEAM}/{group.id}/managed/scim")

    with pytest.raises(NotFound):
        await setup.first.get_group(TEAM, group.id)
    assert 0 == (await setup.first.search_groups(TEAM, GroupQuery(limit=0))).total


async def test_a_failed_put_changes_nothing(setup: Setup) -> None:
    """When brig fails the PUT, the mirror is unchanged; the retried change then applies."""
    [user] = await setup.users(1)
    group = await setup.first.create_group(TEAM, new_group(members=[user]))
    rule = {"route": "PUT /i/user-groups", "status": 503, "times": 1}
    await setup.brig("PUT", "/i/_faults", json={"rules": [rule]})

    with pytest.raises(ScimError):
        await setup.first.edit_group(TEAM, group.id, [RemoveMembers((user,)), Rename("B")])
    unchanged = await setup.first.get_group(TEAM, group.id)
    done = await setup.first.edit_group(TEAM, group.id, [RemoveMembers((user,)), Rename("B")], include_members=True)

    assert group == unchanged
    assert ((), "B", []) == (done.members, done.display_name, await setup.brig_members(group.id))


async def test_a_lost_answer_puts_brig_back_to_the_mirror(setup: Setup) -> None:
    """brig applied the PUT but its answer was lost: the change fails, and brig gets the mirror's list again."""
    first, second = await setup.users(2)
    group = await setup.first.create_group(TEAM, new_group(members=[first]))
    rule = {"route": "PUT /i/user-groups", "status": 502, "times": 1, "after": True}
    await setup.brig("PUT", "/i/_faults", json={"rules": [rule]})

    with pytest.raises(ScimError):
        await setup.first.edit_group(TEAM, group.id, [AddMembers((second,))])

    assert ([first], group) == (await setup.brig_members(group.id), await setup.first.get_group(TEAM, group.id))
