"""
Point reads (`Database.read_point`, gateway/db/): on SQLite they run on the event loop's own
connection, which sees every commit at once and maps the file for reading, as the reader
thread's does; on PostgreSQL they are ordinary reads on a reader thread.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import AsyncIterator, Hashable
from pathlib import Path
from typing import Any

import pytest

from gateway.db.dialect import SqliteConnection
from gateway.db.sqlite import READ_MMAP_BYTES, SqliteDatabase


@pytest.fixture(name="sqlite")
async def _sqlite(tmp_path: Path) -> AsyncIterator[SqliteDatabase]:
    db = await SqliteDatabase.open(tmp_path / "store.db")
    try:
        yield db
    finally:
        await db.close()


async def test_a_point_read_runs_on_the_loop_and_a_read_does_not(sqlite: SqliteDatabase) -> None:
    loop_thread = threading.get_ident()

    assert loop_thread == await sqlite.read_point(lambda conn: threading.get_ident())
    assert loop_thread != await sqlite.read(lambda conn: threading.get_ident())


async def test_a_point_read_sees_each_commit_at_once(sqlite: SqliteDatabase) -> None:
    """The loop's connection is in autocommit: no snapshot outlives the statement."""
    count = "SELECT count(*) FROM teams"
    assert 0 == await sqlite.read_point(lambda conn: conn.execute(count).fetchone()[0])
    await sqlite.write(lambda conn: conn.execute("INSERT INTO teams (id, created_at) VALUES ('t', 'now')"))
    assert 1 == await sqlite.read_point(lambda conn: conn.execute(count).fetchone()[0])


async def test_a_point_read_sees_another_processs_commit_at_once(sqlite: SqliteDatabase) -> None:
    """
    Even within one round of the loop: no snapshot outlives its statement, since the next
    request's bytes may have come after the commit.
    """
    count = "SELECT count(*) FROM teams"
    assert 0 == await sqlite.read_point(lambda conn: conn.execute(count).fetchone()[0])
    other = sqlite3.connect(sqlite.path, isolation_level=None)
    try:
        other.execute("INSERT INTO teams (id, created_at) VALUES ('t', 'now')")
    finally:
        other.close()
    assert 1 == await sqlite.read_point(lambda conn: conn.execute(count).fetchone()[0])  # no yield in between


def insert_from_another_process(sqlite: SqliteDatabase, team: str) -> None:
    other = sqlite3.connect(sqlite.path, isolation_level=None)
    try:
        other.execute("INSERT INTO teams (id, created_at) VALUES (?, 'now')", (team,))
    finally:
        other.close()


COUNT_TEAMS = "SELECT count(*) FROM teams"


def count_teams(conn: sqlite3.Connection) -> int:
    return int(conn.execute(COUNT_TEAMS).fetchone()[0])


async def test_point_reads_made_together_share_the_snapshot_of_the_first(sqlite: SqliteDatabase) -> None:
    """
    `reads_together` (one round of the fast lane's requests, all arrived before it began): the
    snapshot is taken by the block's first read, not when the block begins, and ends with it.
    """
    with sqlite.reads_together():
        insert_from_another_process(sqlite, "before the first read")
        first = await sqlite.read_point(count_teams)
        insert_from_another_process(sqlite, "after it")
        second = await sqlite.read_point(count_teams)
    after = await sqlite.read_point(count_teams)

    assert (first, second, after) == (1, 1, 2)
    assert not await sqlite.read_point(lambda conn: conn.in_transaction)


async def test_reads_together_end_their_transaction_when_the_block_fails(sqlite: SqliteDatabase) -> None:
    with pytest.raises(ValueError, match="the caller's"), sqlite.reads_together():
        await sqlite.read_point(count_teams)
        raise ValueError("the caller's")
    insert_from_another_process(sqlite, "t")

    assert not await sqlite.read_point(lambda conn: conn.in_transaction)
    assert 1 == await sqlite.read_point(count_teams)


async def test_an_inner_reads_together_leaves_the_outer_snapshot_alone(sqlite: SqliteDatabase) -> None:
    with sqlite.reads_together():
        with sqlite.reads_together():
            first = await sqlite.read_point(count_teams)
        insert_from_another_process(sqlite, "t")
        second = await sqlite.read_point(count_teams)

    assert (first, second) == (0, 0)
    assert 1 == await sqlite.read_point(count_teams)


async def test_a_failed_read_among_reads_together_does_not_hold_the_others(sqlite: SqliteDatabase) -> None:
    """A statement that fails (and may end the transaction) leaves the block's other reads working."""

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("SELECT * FROM no_such_table")

    with sqlite.reads_together():
        with pytest.raises(sqlite3.OperationalError, match="no such table"):
            await sqlite.read_point(broken)
        assert 0 == await sqlite.read_point(count_teams)
    assert not await sqlite.read_point(lambda conn: conn.in_transaction)


def memo_of(conn: SqliteConnection) -> dict[Hashable, Any] | None:
    return conn.snapshot_memo


async def test_what_reads_together_keep_for_each_other_lives_as_long_as_their_snapshot(sqlite: SqliteDatabase) -> None:
    """
    `snapshot_memo`: None outside a shared snapshot; one dict for the reads of one snapshot; an
    empty one when a block's transaction had ended and the next read takes a new snapshot.
    """
    assert await sqlite.read_point(memo_of) is None
    with sqlite.reads_together():
        first = await sqlite.read_point(memo_of)
        assert first == {}
        first["read"] = "from the first snapshot"
        assert await sqlite.read_point(memo_of) is first
        await sqlite.read_point(lambda conn: conn.execute("COMMIT"))  # the snapshot ends mid-block
        assert await sqlite.read_point(memo_of) == {}
    assert await sqlite.read_point(memo_of) is None
    with sqlite.reads_together():
        assert await sqlite.read_point(memo_of) == {}
    assert await sqlite.read(memo_of) is None  # the reader thread's connection: a snapshot per statement


async def test_both_reading_connections_map_the_file_and_the_writer_does_not(sqlite: SqliteDatabase) -> None:
    mapped = "PRAGMA mmap_size"

    assert READ_MMAP_BYTES == await sqlite.read_point(lambda conn: conn.execute(mapped).fetchone()[0])
    assert READ_MMAP_BYTES == await sqlite.read(lambda conn: conn.execute(mapped).fetchone()[0])
    assert 0 == await sqlite.write(lambda conn: conn.execute(mapped).fetchone()[0])


async def test_a_point_read_that_finds_the_database_busy_is_read_on_the_reader_thread(
    sqlite: SqliteDatabase,
) -> None:
    """The loop's connection never waits for a lock (busy_timeout 0): a busy database is the thread's to wait for."""
    loop_thread = threading.get_ident()
    assert 0 == await sqlite.read_point(lambda conn: conn.execute("PRAGMA busy_timeout").fetchone()[0])

    def busy_on_the_loop(conn: object) -> int:
        if threading.get_ident() == loop_thread:
            raise sqlite3.OperationalError("database is locked")
        return threading.get_ident()

    assert loop_thread != await sqlite.read_point(busy_on_the_loop)

    def broken(conn: object) -> None:
        raise sqlite3.OperationalError("no such table: nothing")

    with pytest.raises(sqlite3.OperationalError, match="no such table"):  # any other error is the caller's
        await sqlite.read_point(broken)


async def test_closing_closes_the_loops_connection_and_refuses_point_reads(tmp_path: Path) -> None:
    db = await SqliteDatabase.open(tmp_path / "store.db")
    conn = await db.read_point(lambda conn: conn)
    await db.close()
    with pytest.raises(sqlite3.ProgrammingError):  # closed
        conn.execute("SELECT 1")
    with pytest.raises(RuntimeError, match="closed"):
        await db.read_point(lambda conn: None)


@pytest.mark.postgres
async def test_on_postgresql_a_point_read_is_a_read_on_a_reader_thread() -> None:
    pytest.importorskip("psycopg")
    from postgres_schema import fresh_schema  # noqa: PLC0415 - only with a PostgreSQL server

    from gateway.db.postgres import PostgresDatabase  # noqa: PLC0415

    with fresh_schema() as dsn:
        db = await PostgresDatabase.open(dsn, readers=1, writers=1)
        try:
            assert threading.get_ident() != await db.read_point(lambda conn: threading.get_ident())
        finally:
            await db.close()
