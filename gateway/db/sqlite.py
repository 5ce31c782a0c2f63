"""
SQLite without blocking the event loop.

One writer thread and one reader thread, each with its own connection (WAL mode lets readers go on
while a write is in progress). A caller hands over a whole unit of work, `fn(connection)`, so one
operation costs one thread hop however many statements it runs; `write` wraps it in a transaction
(`BEGIN IMMEDIATE`, so concurrent writers from other processes queue on the lock instead of
failing half-way).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from gateway.db.migrations import migrate_sqlite

T = TypeVar("T")


class SqliteDatabase:
    """An SQLite file opened for async use; see the module docstring."""

    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 5000) -> None:
        self.path = Path(path)
        self._busy_timeout_ms = busy_timeout_ms
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="sqlite-reader")
        self._local = threading.local()
        self._closed = False

    @classmethod
    async def open(
        cls, path: str | Path, *, busy_timeout_ms: int = 5000,
        migrate: Callable[[sqlite3.Connection], object] = migrate_sqlite,
    ) -> SqliteDatabase:  # fmt: skip
        """
        Open (creating the file and its folder if needed) and bring the schema up to date with
        `migrate` (the gateway's schema unless another is given, e.g. brig-lite's).
        """
        db = cls(path, busy_timeout_ms=busy_timeout_ms)
        db.path.parent.mkdir(parents=True, exist_ok=True)
        await db._hop(db._writer, migrate)
        await db._hop(db._reader, lambda conn: None)  # open the reader connection now
        return db

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(connection)` on the reader thread (autocommit: each statement sees the latest)."""
        return await self._hop(self._reader, fn)

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(connection)` in one transaction on the writer thread; rolled back if it raises."""
        return await self._hop(self._writer, lambda conn: _in_transaction(conn, fn))

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for executor in (self._writer, self._reader):
            await self._hop(executor, _close_connection, check=False)
            executor.shutdown(wait=True)

    async def _hop(
        self, executor: ThreadPoolExecutor, fn: Callable[[sqlite3.Connection], T], *, check: bool = True
    ) -> T:
        if check and self._closed:
            raise RuntimeError("database is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, self._call, fn)

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return fn(conn)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False,
            timeout=self._busy_timeout_ms / 1000,
        )  # fmt: skip
        _enable_wal(conn, timeout_s=self._busy_timeout_ms / 1000)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}")
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


def _in_transaction(conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result


def _close_connection(conn: sqlite3.Connection) -> None:
    conn.close()
