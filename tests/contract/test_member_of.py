"""
`users.member_of` (migration 6) follows `group_members` under concurrent group edits on both
databases: no change lost, no duplicate id, and on PostgreSQL no deadlock between edits that
touch the same users in different orders (gateway/backend/embedded_groups.py, `_lock_members`).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.backend.embedded import EmbeddedBackend
from gateway.backend.models import AddMembers, GroupFields, NewGroup, NewUser, RemoveMembers, ReplaceMembers, UserFields
from gateway.config import Store as StoreSettings
from gateway.store.opening import open_store
from postgres_schema import fresh_schema

TEAM = "6f1c2b9e-2a4e-4d0e-9a51-2f1b9b2d7c11"


@pytest.fixture(name="backend", params=["sqlite", "postgres"])
async def _backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[EmbeddedBackend]:
    if request.param == "sqlite":
        store = await open_store(StoreSettings(path=str(tmp_path / "gw.db")))
        try:
            yield EmbeddedBackend(store.db)
        finally:
            await store.close()
        return
    with fresh_schema() as dsn:
        store = await open_store(StoreSettings(kind="postgres", dsn=dsn, connections=8))
        try:
            yield EmbeddedBackend(store.db)
        finally:
            await store.close()


async def _users(backend: EmbeddedBackend, count: int) -> list[str]:
    ids = []
    for n in range(count):
        fields = UserFields(handle=f"member{n}", display_name=f"Member {n}", external_id=f"m{n}")
        ids.append((await backend.create_user(TEAM, NewUser(id=str(uuid.uuid4()), fields=fields, idp="idp"))).id)
    return ids


async def _kept_and_true(backend: EmbeddedBackend) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    def read(conn):  # type: ignore[no-untyped-def]
        return (
            conn.execute("SELECT id, member_of FROM users").fetchall(),
            conn.execute("SELECT user_id, group_id FROM group_members").fetchall(),
        )

    users, rows = await backend._db.read(read)  # noqa: SLF001
    true: dict[str, list[str]] = {user_id: [] for user_id, _ in users}
    for user_id, group_id in rows:
        true[user_id].append(group_id)
    kept = {user_id: sorted(member_of.split(",")) if member_of else [] for user_id, member_of in users}
    return kept, {user_id: sorted(groups) for user_id, groups in true.items()}


async def test_concurrent_edits_of_groups_sharing_members_keep_member_of(backend: EmbeddedBackend) -> None:
    users = await _users(backend, 30)
    groups = []
    for n in range(8):
        group = NewGroup(id=str(uuid.uuid4()), fields=GroupFields(display_name=f"G{n}"), members=tuple(users[n::3]))
        groups.append((await backend.create_group(TEAM, group)).id)
    shuffled = random.Random(7)

    def some_users() -> tuple[str, ...]:
        chosen = shuffled.sample(users, 20)  # client order: not sorted
        return tuple(chosen)

    async def edits(group_id: str) -> None:
        for edit in (AddMembers(some_users()), RemoveMembers(some_users()), ReplaceMembers(some_users()), AddMembers(some_users())):
            await backend.edit_group(TEAM, group_id, [edit])

    await asyncio.gather(*(edits(group_id) for group_id in groups))  # raises if any edit failed
    await asyncio.gather(*(backend.delete_group(TEAM, group_id) for group_id in groups[:3]))
    kept, true = await _kept_and_true(backend)
    assert any(true.values())
    assert true == kept
