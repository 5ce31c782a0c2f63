"""
The PostgreSQL database plumbing (gateway/db/postgres.py): `?` placeholders, transactions that
roll back, writes run again after a deadlock, and reads that survive a dropped connection.
Skipped without a PostgreSQL server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from postgres_schema import fresh_schema, server_dsn

pytestmark = pytest.mark.postgres
pytest.importorskip("psycopg")

import psycopg  # noqa: E402  (only with the postgres extra)
from psycopg import errors  # noqa: E402

from gateway.db.dialect import Connection  # noqa: E402
from gateway.db.postgres import PostgresDatabase  # noqa: E402


@pytest.fixture(name="db")
async def _db() -> AsyncIterator[PostgresDatabase]:
    with fresh_schema() as dsn:
        db = await PostgresDatabase.open(dsn, readers=1, writers=1)
        try:
            yield db
        finally:
            await db.close()


async def test_question_marks_are_placeholders_and_percent_signs_are_text(db: PostgresDatabase) -> None:
    """`?` binds a parameter; a literal `%` in the SQL stays a `%`."""
    row = await db.read(lambda conn: conn.execute("SELECT ? || '%', ?::int + 1", ("50", 41)).fetchone())

    assert ("50%", 42) == tuple(row)


async def test_a_write_that_raises_leaves_nothing(db: PostgresDatabase) -> None:
    """A unit of work that fails half-way is rolled back whole."""

    def fail_after_insert(conn: Connection) -> None:
        conn.execute("INSERT INTO teams (id, created_at) VALUES (?, ?)", ("t1", "now"))
        raise RuntimeError("half-way")

    with pytest.raises(RuntimeError):
        await db.write(fail_after_insert)

    assert 0 == await db.read(lambda conn: conn.execute("SELECT count(*) FROM teams").fetchone()[0])


async def test_a_write_aborted_by_a_deadlock_is_run_again(db: PostgresDatabase) -> None:
    """DeadlockDetected (or a serialization failure) rolls back and runs the unit of work again."""
    calls: list[int] = []

    def insert_once_deadlocked(conn: Connection) -> int:
        calls.append(1)
        conn.execute("INSERT INTO teams (id, created_at) VALUES (?, ?)", ("t1", "now"))
        if len(calls) == 1:
            raise errors.DeadlockDetected("deadlock detected (as PostgreSQL says it)")
        return len(calls)

    assert 2 == await db.write(insert_once_deadlocked)
    assert 1 == await db.read(lambda conn: conn.execute("SELECT count(*) FROM teams").fetchone()[0])


async def test_reads_and_writes_survive_dropped_connections(db: PostgresDatabase) -> None:
    """When the server ends the connections (a restart, say), the next read and write reconnect."""
    reader = await db.read(lambda conn: conn.execute("SELECT pg_backend_pid()").fetchone()[0])
    writer = await db.write(lambda conn: conn.execute("SELECT pg_backend_pid()").fetchone()[0])
    with psycopg.connect(server_dsn(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s), pg_terminate_backend(%s)", (reader, writer))

    after: Any = (
        await db.read(lambda conn: conn.execute("SELECT pg_backend_pid()").fetchone()[0]),
        await db.write(lambda conn: conn.execute("SELECT pg_backend_pid()").fetchone()[0]),
    )

    assert reader not in after and writer not in after
