"""
Database access without blocking the event loop, shared by SQLite and PostgreSQL.

Readers and writers are two thread pools; each thread keeps its own connection. A caller hands
over a whole unit of work, `fn(connection)`, so one operation costs one thread hop however many
statements it runs; `write` wraps it in a transaction (how is the subclass's business).

The pools are `Workers`, not `concurrent.futures.ThreadPoolExecutor` with `run_in_executor`: a
hop through those makes a concurrent Future, a work item, a lock round and an asyncio Future
chained to the first; here it is one queue put and one `call_soon_threadsafe` back. On a lookup
that made `ThreadPoolExecutor.submit` alone 8 % of the gateway's CPU.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from gateway.metrics import observe_db_read, observe_db_write

T = TypeVar("T")
C = TypeVar("C")  # the connection type of a subclass

_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[[], Any]]


class Workers:
    """
    `count` threads taking jobs from one queue; `run(fn)` awaits `fn()` run on one of them. A job
    whose caller was cancelled before it started is skipped (a backlog of abandoned requests does
    not hold the writer); one already running runs to the end and its result is dropped.
    `shutdown()` lets the queued jobs finish, then joins the threads (it blocks).
    """

    def __init__(self, count: int, *, name: str) -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._work, name=f"{name}_{i}", daemon=True) for i in range(count)]
        for thread in self._threads:
            thread.start()

    def run(self, fn: Callable[[], T]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((loop, future, fn))
        return future

    def shutdown(self) -> None:
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            loop, future, fn = job
            if future.cancelled():  # read across threads: at worst a cancelled job still runs
                continue
            try:
                result = fn()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller, as an executor would
                outcome: tuple[Any, BaseException | None] = (None, exc)
            else:
                outcome = (result, None)
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting any more
                loop.call_soon_threadsafe(_settle, future, *outcome)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is None:
        future.set_result(result)
    elif isinstance(error, StopIteration):  # a Future cannot hold it: the caller would wait forever
        future.set_exception(RuntimeError(f"a unit of work raised StopIteration: {error!r}"))
    else:
        future.set_exception(error)


class ThreadedDatabase(Generic[C]):
    """Two thread pools (readers, writers), one connection per thread; see the module docstring."""

    def __init__(self, *, name: str, readers: int, writers: int) -> None:
        self._reader = Workers(readers, name=f"{name}-reader")
        self._writer = Workers(writers, name=f"{name}-writer")
        self._local = threading.local()
        self._connections: list[C] = []
        self._connections_lock = threading.Lock()
        self._closed = False

    async def read(self, fn: Callable[[C], T]) -> T:
        """Run `fn(connection)` on a reader thread (autocommit: each statement sees the latest)."""
        started = time.perf_counter()
        try:
            return await self._hop(self._reader, lambda conn: self._read(conn, fn))
        finally:
            observe_db_read(time.perf_counter() - started)  # with the wait for the thread

    async def read_point(self, fn: Callable[[C], T]) -> T:
        """
        `read` for a unit of work bounded by its index walk (a row by its key, a page of at most
        100 rows from a known row): a subclass whose database is a local file may run it on the
        caller's thread, where it costs less than the hop to a reader would. Here: `read`.
        """
        return await self.read(fn)

    def reads_together(self) -> contextlib.AbstractContextManager[None]:
        """A block whose `read_point`s share one snapshot (see SqliteDatabase); here each is a `read`."""
        return contextlib.nullcontext()

    async def write(self, fn: Callable[[C], T]) -> T:
        """Run `fn(connection)` in one transaction on a writer thread; rolled back if it raises."""
        started = time.perf_counter()
        try:
            return await self._hop(self._writer, lambda conn: self._transaction(conn, fn))
        finally:
            observe_db_write(time.perf_counter() - started)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        for workers in (self._writer, self._reader):
            await loop.run_in_executor(None, workers.shutdown)  # waits for work under way
        await loop.run_in_executor(None, self._close_connections)

    async def _hop(self, workers: Workers, fn: Callable[[C], T]) -> T:
        if self._closed:
            raise RuntimeError("database is closed")
        return await workers.run(lambda: self._call(fn))

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
        conn.close()  # type: ignore[attr-defined]  # C: any DB-API connection, all have close()

    def _read(self, conn: C, fn: Callable[[C], T]) -> T:
        return fn(conn)

    def _transaction(self, conn: C, fn: Callable[[C], T]) -> T:
        raise NotImplementedError
