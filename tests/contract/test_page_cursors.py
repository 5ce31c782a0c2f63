"""Paging in creation order continues from the previous page's last row instead of OFFSET."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.backend.embedded.backend import EmbeddedBackend
from gateway.provisioning.group_members import group_members
from gateway.backend.wire_user import NewUser, UserFields, UserQuery
from gateway.backend.embedded.page_cursors import PageCursors
from gateway.db.sqlite import SqliteDatabase
from gateway.scim.filter.grammar import parse_filter

TEAM = "6f1c2b9e-2a4e-4d0e-9a51-2f1b9b2d7c11"


@pytest.fixture(name="backend")
async def _backend(tmp_path: Path) -> AsyncIterator[EmbeddedBackend]:
    db = await SqliteDatabase.open(tmp_path / "gw.db")
    backend = EmbeddedBackend(db, group_members=group_members)
    for i in range(25):
        fields = UserFields(handle=f"user{i:03d}", display_name=f"U {i}", external_id=f"u{i}@example.com")
        await backend.create_user(TEAM, NewUser(id=str(uuid.uuid4()), fields=fields, idp="idp"))
    yield backend
    await db.close()


async def _trace(db: SqliteDatabase, statements: list[str]) -> None:
    """Record every statement the reading connections run (the reader thread's and the loop's)."""

    def install(conn: sqlite3.Connection) -> None:
        conn.set_trace_callback(statements.append)

    await db.read(install)
    await db.read_point(install)


async def _walk(backend: EmbeddedBackend, size: int) -> list[str]:
    handles: list[str] = []
    offset = 0
    while True:
        page = await backend.search_users(TEAM, UserQuery(offset=offset, limit=size))
        if not page.users:
            return handles
        handles += [u.handle for u in page.users]
        offset += len(page.users)


async def test_walking_the_pages_returns_every_user_once_in_order(backend: EmbeddedBackend) -> None:
    """Consecutive pages cover the team exactly once, in creation order."""
    expected = [f"user{i:03d}" for i in range(25)]

    assert expected == await _walk(backend, 10)


async def test_the_next_page_reads_after_the_last_row_not_by_offset(backend: EmbeddedBackend) -> None:
    """Once page 1 was read, page 2 is read with `seq > ?` and no OFFSET."""
    statements: list[str] = []
    await _trace(backend._db, statements)  # noqa: SLF001 - observing the SQL is the point
    await backend.search_users(TEAM, UserQuery(offset=0, limit=10))
    statements.clear()

    await backend.search_users(TEAM, UserQuery(offset=10, limit=10))
    page_sql = [s for s in statements if "ORDER BY" in s]

    assert 1 == len(page_sql)
    assert "seq > " in page_sql[0] and page_sql[0].endswith("OFFSET 0")  # no row skipped


async def test_a_deletion_on_an_earlier_page_does_not_skip_a_user(backend: EmbeddedBackend) -> None:
    """A user deleted from page 1 after it was read does not make page 2 skip the next user."""
    first = await backend.search_users(TEAM, UserQuery(offset=0, limit=10))
    await backend.delete_user(TEAM, first.users[0].id)

    second = await backend.search_users(TEAM, UserQuery(offset=10, limit=10))

    assert "user010" == second.users[0].handle


async def test_an_unremembered_start_falls_back_to_offset(backend: EmbeddedBackend) -> None:
    """A page whose start nobody reached by paging is still served, by OFFSET."""
    page = await backend.search_users(TEAM, UserQuery(offset=17, limit=3))

    assert ["user017", "user018", "user019"] == [u.handle for u in page.users]


def test_cursors_forget_the_least_recently_used_beyond_capacity() -> None:
    """The map is bounded: the oldest entry goes first."""
    cursors = PageCursors(capacity=2)
    cursors.remember("q", 10, 1)
    cursors.remember("q", 20, 2)
    cursors.find("q", 10)
    cursors.remember("q", 30, 3)

    # 20 is gone: an offset from 20 on finds 10, the nearest before it still remembered
    assert ((10, 1), (10, 1), (30, 3)) == (cursors.find("q", 10), cursors.find("q", 20), cursors.find("q", 30))
    assert (None, None) == (cursors.find("q", 9), cursors.find("other query", 30))


async def test_a_page_not_remembered_continues_from_the_nearest_end_before_it(backend: EmbeddedBackend) -> None:
    """
    Another worker served the pages in between: this one skips only the rows since the last
    page it served (`seq > ? ... OFFSET 5`), and gives what OFFSET 15 gives.
    """
    statements: list[str] = []
    await _trace(backend._db, statements)  # noqa: SLF001 - observing the SQL is the point
    await backend.search_users(TEAM, UserQuery(offset=0, limit=10))
    statements.clear()

    page = await backend.search_users(TEAM, UserQuery(offset=15, limit=4))
    page_sql = [s for s in statements if "ORDER BY" in s]

    assert ["user015", "user016", "user017", "user018"] == [u.handle for u in page.users]
    assert 1 == len(page_sql) and "seq > " in page_sql[0] and page_sql[0].endswith("LIMIT 4 OFFSET 5")
    later = await backend.search_users(TEAM, UserQuery(offset=19, limit=2))  # from where that one ended
    assert ["user019", "user020"] == [u.handle for u in later.users]


async def test_a_page_is_read_on_the_loop_only_when_its_walk_is_bounded(backend: EmbeddedBackend) -> None:
    """
    From the first row or from where a page ended, at most 100 rows in creation order: a point
    read's bound, read on the loop's connection. OFFSET, more rows, a filter or a sort: a reader thread.
    """
    loop = threading.get_ident()
    threads: list[int] = []

    def install(conn: sqlite3.Connection) -> None:
        conn.set_trace_callback(lambda sql: threads.append(threading.get_ident()) if "ORDER BY" in sql else None)

    await backend._db.read(install)  # noqa: SLF001 - which connection reads is the point
    await backend._db.read_point(install)  # noqa: SLF001

    async def read_on(query: UserQuery) -> str:
        threads.clear()
        await backend.search_users(TEAM, query)
        assert 1 == len(threads)
        return "loop" if threads[0] == loop else "thread"

    assert "loop" == await read_on(UserQuery(offset=0, limit=10))
    assert "loop" == await read_on(UserQuery(offset=10, limit=10))  # where the first ended
    assert "thread" == await read_on(UserQuery(offset=5, limit=10))  # OFFSET
    assert "thread" == await read_on(UserQuery(offset=0, limit=101))
    assert "loop" == await read_on(UserQuery(offset=0, limit=100))
    assert "thread" == await read_on(UserQuery(offset=0, limit=10, filter=parse_filter('userName sw "user"')))
    assert "thread" == await read_on(UserQuery(offset=0, limit=10, sort_by="username"))
