"""
Two gateway processes on one database and one brig-lite (two BrigBackend instances, each with its
own in-process locks, as two processes would have), on SQLite and on PostgreSQL: a user's writes
are exclusive across them (issue 16), so concurrent read-modify-write updates lose nothing and
If-Match lets exactly one of two writers through.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import FixedIssuers, running_brig_lite
from gateway.app import brig_settings
from gateway.backend.brig.backend import BrigBackend
from gateway.backend.wire_user import fields_of
from gateway.config import Backend as BackendConfig
from gateway.provisioning.group_members import group_members
from gateway.scim.errors import PreconditionFailed
from test_backend import TEAM, gateway_database, new_user

WRITERS = 12


@dataclass
class Pair:
    first: BrigBackend
    second: BrigBackend

    def of(self, n: int) -> BrigBackend:
        return self.first if n % 2 else self.second


@pytest.fixture(name="pair", params=["sqlite", "postgres"])
async def _pair(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Pair]:
    async with running_brig_lite(tmp_path / "brig-lite.db") as url, gateway_database(tmp_path, request.param) as db:
        settings = brig_settings(BackendConfig(kind="brig", brig_url=url))
        first = await BrigBackend.open(settings, db, group_members=group_members, issuers=FixedIssuers())
        second = await BrigBackend.open(settings, db, group_members=group_members, issuers=FixedIssuers())
        try:
            yield Pair(first, second)
        finally:
            await first.close()
            await second.close()


async def add_rich_info(backend: BrigBackend, user_id: str, key: str) -> None:
    """A PATCH adding one rich-info field as provisioning/users.py does: read, apply, update on the version read."""
    for _ in range(100):
        current = await backend.get_user(TEAM, user_id)
        fields = dataclasses.replace(fields_of(current), rich_info=(*current.rich_info, (key, "yes")))
        try:
            await backend.update_user(TEAM, user_id, fields, expected_version=current.version)
            return
        except PreconditionFailed:
            continue
    raise AssertionError("too many attempts")


async def test_concurrent_read_modify_write_updates_through_two_processes_lose_nothing(pair: Pair) -> None:
    user = await pair.first.create_user(TEAM, new_user("bjensen", idp="i"))

    await asyncio.gather(*[add_rich_info(pair.of(n), user.id, f"k{n:02}") for n in range(WRITERS)])

    kept = (await pair.second.get_user(TEAM, user.id)).rich_info
    assert [f"k{n:02}" for n in range(WRITERS)] == sorted(key for key, _ in kept)


async def test_if_match_lets_exactly_one_of_two_writers_through(pair: Pair) -> None:
    user = await pair.first.create_user(TEAM, new_user("bjensen", idp="i"))

    async def write(n: int, round_: int, version: str) -> str:
        fields = dataclasses.replace(fields_of(user), rich_info=((f"writer{n}", str(round_)),))
        try:
            await pair.of(n).update_user(TEAM, user.id, fields, expected_version=version)
        except PreconditionFailed:
            return "412"
        return "200"

    for round_ in range(5):  # both writers planned on the same version
        version = (await pair.first.get_user(TEAM, user.id)).version
        assert ["200", "412"] == sorted(await asyncio.gather(write(0, round_, version), write(1, round_, version)))
