"""
Database access without blocking the event loop, shared by SQLite and PostgreSQL.

Readers and writers are two thread pools; each thread keeps its own connection. A caller hands
over a whole unit of work, `fn(connection)`, so one operation costs one thread hop however many
statements it runs; `write` wraps it in a transaction (how is the subclass's business).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

T = TypeVar("T")
C = TypeVar("C")  # the connection type of a subclass


class ThreadedDatabase(Generic[C]):
    """Two thread pools (readers, writers), one connection per thread; see the module docstring."""

    def __init__(self, *, name: str, readers: int, writers: int) -> None:
        self._reader = ThreadPoolExecutor(readers, thread_name_prefix=f"{name}-reader")
        self._writer = ThreadPoolExecutor(writers, thread_name_prefix=f"{name}-writer")
        self._local = threading.local()
        self._connections: list[C] = []
        self._connections_lock = threading.Lock()
        self._closed = False

    async def read(self, fn: Callable[[C], T]) -> T:
        """Run `fn(connection)` on a reader thread (autocommit: each statement sees the latest)."""
        return await self._hop(self._reader, lambda conn: self._read(conn, fn))

    async def write(self, fn: Callable[[C], T]) -> T:
        """Run `fn(connection)` in one transaction on a writer thread; rolled back if it raises."""
        return await self._hop(self._writer, lambda conn: self._transaction(conn, fn))

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        for executor in (self._writer, self._reader):
            await loop.run_in_executor(None, executor.shutdown)  # waits for work under way
        await loop.run_in_executor(None, self._close_connections)

    async def _hop(self, executor: ThreadPoolExecutor, fn: Callable[[C], T]) -> T:
        if self._closed:
            raise RuntimeError("database is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, self._call, fn)

    def _call(self, fn: Callable[[C], T]) -> T:
        conn: C | None = getattr(self._local, "conn", None)
        if conn is None or not self._usable(conn):
            conn = self._local.conn = self._connect()
            with self._connections_lock:
                self._connections.append(conn)
        return fn(conn)

    def _close_connections(self) -> None:
        with self._connections_lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            self._disconnect(conn)

    # --- what a subclass provides ---------------------------------------------------------------

    def _connect(self) -> C:
        raise NotImplementedError

    def _usable(self, conn: C) -> bool:
        """False when the thread's connection is broken and a new one should be made."""
        return True

    def _disconnect(self, conn: C) -> None:
        conn.close()  # type: ignore[attr-defined]

    def _read(self, conn: C, fn: Callable[[C], T]) -> T:
        return fn(conn)

    def _transaction(self, conn: C, fn: Callable[[C], T]) -> T:
        raise NotImplementedError

