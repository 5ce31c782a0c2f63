"""
`users.member_of` (migration 6) follows `group_members` under concurrent group edits and user
deletes on both databases: no change lost, no duplicate id, and on PostgreSQL no deadlock between
writers that touch the same users and groups (`_lock_members` in gateway/backend/embedded/groups.py,
`lock_groups_of_user` in gateway/backend/embedded/memberships.py).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.backend.embedded.backend import EmbeddedBackend
from gateway.provisioning.group_members import group_members
from gateway.backend.wire_group import AddMembers, GroupFields, NewGroup, RemoveMembers, ReplaceMembers
from gateway.backend.wire_user import NewUser, UserFields
from gateway.config import Store as StoreSettings
from gateway.store.opening import open_store
from postgres_schema import fresh_schema

TEAM = "6f1c2b9e-2a4e-4d0e-9a51-2f1b9b2d7c11"


@pytest.fixture(name="backend", params=["sqlite", "postgres"])
async def _backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[EmbeddedBackend]:
    if request.param == "sqlite":
        store = await open_store(StoreSettings(path=str(tmp_path / "gw.db")))
        try:
            yield EmbeddedBackend(store.db, group_members=group_members)
        finally:
            await store.close()
        return
    with fresh_schema() as dsn:
        store = await open_store(StoreSettings(kind="postgres", dsn=dsn, connections=8))
        try:
            yield EmbeddedBackend(store.db, group_members=group_members)
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


@pytest.fixture(name="retries")
def _retries(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits of PostgreSQL transactions run again after a deadlock (none on SQLite)."""
    import time

    waits: list[float] = []
    try:
        from gateway.db import postgres
    except ImportError:  # no psycopg: the PostgreSQL cases skip, and SQLite never runs a transaction again
        return waits

    class CountingTime:
        def __getattr__(self, name: str) -> object:
            return getattr(time, name)

        def sleep(self, seconds: float) -> None:
            waits.append(seconds)
            time.sleep(seconds)

    monkeypatch.setattr(postgres, "time", CountingTime())
    return waits


async def test_concurrent_edits_of_groups_sharing_members_keep_member_of(
    backend: EmbeddedBackend, retries: list[float]
) -> None:
    """Single and multi-operation edits, group and user deletes, at once: no deadlock, nothing lost."""
    users = await _users(backend, 40)
    groups = []
    for n in range(8):
        group = NewGroup(id=str(uuid.uuid4()), fields=GroupFields(display_name=f"G{n}"), members=tuple(users[n::3]))
        groups.append((await backend.create_group(TEAM, group)).id)
    shuffled = random.Random(7)

    def some_users() -> tuple[str, ...]:
        return tuple(shuffled.sample(users[:30], 12))  # client order: not sorted

    async def edits(group_id: str) -> None:
        for edit in (
            [AddMembers(some_users())],
            [RemoveMembers(some_users()), AddMembers(some_users()), AddMembers(some_users())],
            [ReplaceMembers(some_users())],
            [AddMembers(some_users()), RemoveMembers(some_users())],
        ):
            await backend.edit_group(TEAM, group_id, edit)

    async def deletes() -> None:
        await asyncio.gather(
            *(backend.delete_user(TEAM, user_id) for user_id in users[30:]),
            *(backend.delete_group(TEAM, group_id) for group_id in groups[:2]),
        )

    await asyncio.gather(*(edits(group_id) for group_id in groups[2:]), deletes())  # raises if any failed
    kept, true = await _kept_and_true(backend)
    assert any(true.values())
    assert true == kept
    assert [] == retries  # not one transaction had to be run again after a deadlock


async def test_the_postgresql_trigger_finds_its_schema_from_any_search_path() -> None:
    """An operator's psql (search_path public) changing memberships still keeps member_of."""
    from postgres_schema import server_dsn

    server_dsn()  # skips without a server or without psycopg
    import psycopg

    with fresh_schema() as dsn:
        store = await open_store(StoreSettings(kind="postgres", dsn=dsn, connections=2))
        try:
            backend = EmbeddedBackend(store.db, group_members=group_members)
            (user_id,) = await _users(backend, 1)
            group = NewGroup(id=str(uuid.uuid4()), fields=GroupFields(display_name="G"))
            group_id = (await backend.create_group(TEAM, group)).id
            schema = dsn.rsplit("search_path%3D", 1)[1]
            with psycopg.connect(server_dsn(), autocommit=True) as psql:
                psql.execute(f"INSERT INTO {schema}.group_members (group_id, user_id) VALUES (%s, %s)", (group_id, user_id))
            kept, true = await _kept_and_true(backend)
            assert {user_id: [group_id]} == kept == true
        finally:
            await store.close()
