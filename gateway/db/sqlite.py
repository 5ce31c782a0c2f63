"""
SQLite without blocking the event loop (gateway/db/threads.py): one writer thread and one reader
thread, each with its own connection (WAL mode lets readers go on while a write is in progress).
`write` wraps a unit of work in `BEGIN IMMEDIATE`, so concurrent writers from other processes queue
on the lock instead of failing half-way. Connections are `SqliteConnection`s: they carry the SQLite
dialect (gateway/db/dialect.py) for the units of work shared with PostgreSQL.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from gateway.db.dialect import SQLITE, Dialect, SqliteConnection
from gateway.db.migrations import migrate_sqlite
from gateway.db.threads import ThreadedDatabase

T = TypeVar("T")

# How much of the database file the reading connections (the reader thread's, and the event
# loop's for read_point) read through a memory map instead of read() calls and SQLite's page
# cache: a lookup then touches the file's pages in place, a third less CPU than either a larger
# page cache or the default one (docs/performance.md). Mapped pages count in the process's RSS,
# once per connection, so it is bounded: a store of 10,000 users (20 MB) is mapped whole; in a
# larger one the rest is read as before.
READ_MMAP_BYTES = 48 * 1024 * 1024


class SqliteDatabase(ThreadedDatabase[SqliteConnection]):
    """An SQLite file opened for async use; see the module docstring."""

    dialect: Dialect = SQLITE

    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 5000) -> None:
        super().__init__(name="sqlite", readers=1, writers=1)
        self.path = Path(path)
        self._busy_timeout_ms = busy_timeout_ms
        self._loop_conn: SqliteConnection | None = None  # read_point's, used only on the event loop's thread
        self._together = False  # inside reads_together: read_point begins the shared read transaction

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        busy_timeout_ms: int = 5000,
        migrate: Callable[[sqlite3.Connection], object] = migrate_sqlite,
    ) -> SqliteDatabase:
        """
        Open (creating the file and its folder if needed) and bring the schema up to date with
        `migrate` (the gateway's schema unless another is given, e.g. brig-lite's).
        """
        db = cls(path, busy_timeout_ms=busy_timeout_ms)
        db.path.parent.mkdir(parents=True, exist_ok=True)
        await db._hop(db._writer, migrate)
        await db._hop(db._reader, _map_for_reading)  # open the reader connection now
        db._loop_conn = await db._hop(db._reader, lambda conn: db._open_loop_connection())
        return db

    def _open_loop_connection(self) -> SqliteConnection:
        """read_point's connection, opened off the loop: it never waits for a lock (busy_timeout 0)."""
        conn = self._connect()
        _map_for_reading(conn)
        conn.execute("PRAGMA busy_timeout=0")
        with self._connections_lock:
            self._connections.append(conn)
        return conn

    async def read_point(self, fn: Callable[[SqliteConnection], T]) -> T:
        """
        A bounded read (a row by its primary key or a unique index; a page of at most 100 rows
        along an index from a known row) on the event loop's own connection: in WAL mode a
        reader does not wait for a writer, and a few B-tree pages of a local file cost less than
        the two thread switches of `read` (docs/performance.md). When
        the database is busy all the same it is read on the reader thread instead, which may
        wait. It is not in the database metric (its time is the request's own; observing it
        cost as much as a third of the read). Its own transaction (autocommit), but inside
        `reads_together`.
        """
        if self._closed:
            raise RuntimeError("database is closed")
        conn = self._loop_conn
        if conn is None:  # made without open(): no loop connection
            return await self.read(fn)
        try:
            if self._together and not conn.in_transaction:
                conn.execute("BEGIN")  # the snapshot is taken by the first statement that reads
                conn.snapshot_memo = {}  # a new snapshot: nothing read from an earlier one
            return fn(conn)
        except sqlite3.OperationalError as exc:
            # A WAL reader can still find the database busy (the WAL being recovered after a
            # process died): never wait for it on the loop, but on the reader thread.
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            return await self.read(fn)

    @contextlib.contextmanager
    def reads_together(self) -> Iterator[None]:
        """
        The `read_point`s made in this block (on the event loop's thread) share one read
        transaction on the loop's connection, from the first one's statement to the block's end,
        instead of one transaction per statement: in WAL mode each read transaction takes and
        drops a lock on the WAL index with two fcntl() system calls, about a tenth of a lookup's
        CPU (docs/performance.md). The caller keeps the block short and begins it only once
        every request it serves has arrived (the fast lane: one event-loop round,
        gateway/web/connections.py), so that no read sees the database as it was before its
        request came. Blocks do not nest: an inner one changes nothing.
        """
        conn = self._loop_conn
        if conn is None or self._together:
            yield
            return
        self._together = True
        try:
            yield
        finally:
            self._together = False
            conn.snapshot_memo = None
            if conn.in_transaction:
                try:
                    conn.execute("COMMIT")  # ends a read transaction: it cannot be refused
                except sqlite3.Error:
                    conn.rollback()

    def _connect(self) -> SqliteConnection:
        return connect_sqlite(self.path, busy_timeout_ms=self._busy_timeout_ms)

    def _transaction(self, conn: SqliteConnection, fn: Callable[[SqliteConnection], T]) -> T:
        return _in_transaction(conn, fn)


def _map_for_reading(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA mmap_size={READ_MMAP_BYTES}")


def connect_sqlite(path: str | Path, *, busy_timeout_ms: int = 5000) -> SqliteConnection:
    """A connection in WAL mode with foreign keys on, in autocommit (transactions are explicit)."""
    conn = sqlite3.connect(
        path,
        isolation_level=None,
        check_same_thread=False,
        timeout=busy_timeout_ms / 1000,
        factory=SqliteConnection,
    )
    _enable_wal(conn, timeout_s=busy_timeout_ms / 1000)
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    return conn


def _enable_wal(conn: sqlite3.Connection, *, timeout_s: float) -> None:
    """
    `PRAGMA journal_mode=WAL`, retried while the database is locked: when several processes open a
    new database at once (workers > 1), SQLite can answer SQLITE_BUSY here without calling the
    busy handler, so the connect timeout does not cover it.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def _in_transaction(conn: SqliteConnection, fn: Callable[[SqliteConnection], T]) -> T:
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result
