"""
Point reads (`Database.read_point`, gateway/db/): on SQLite they run on the event loop's own
connection, which sees every commit at once and maps the file for reading, as the reader
thread's does; on PostgreSQL they are ordinary reads on a reader thread.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

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
