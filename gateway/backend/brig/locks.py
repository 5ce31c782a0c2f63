"""
The brig backend's write sections. A write of one user or group (a version check, brig's calls,
the mirror's update) is not one transaction anywhere, so writers of one key must take turns:

- `KeyedLocks`: one asyncio.Lock per key, held only while someone holds or waits for it; the
  writers of one process queue on it.
- `WriteLocks`: that lock, then a lease on the key in the gateway's database (`brig_leases`,
  migration 7), so that the writers of all gateway processes sharing the database take turns
  (issue 16: two processes lost rich-info PATCHes and let two If-Match writers through). The
  lease is one row `INSERT ... ON CONFLICT DO UPDATE ... WHERE expired`: whoever's row it is holds
  the key until `expires_at`, renewed while held and deleted when done; a process that dies
  holding one blocks the key for at most `ttl`. Waiters poll with a short growing backoff and give
  up after `wait` with 503 Retry-After. Expiry compares the processes' wall clocks (one host, or
  NTP-synchronised hosts).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog

from gateway.db.dialect import Connection, Database
from gateway.scim.errors import ServiceUnavailable

log = structlog.get_logger()

LEASE_SECONDS = 15.0  # how long a lease stands unrenewed (a crashed holder's keys wait this long)
WAIT_SECONDS = 30.0  # how long a writer waits for another process's lease before 503
FIRST_POLL, LAST_POLL = 0.005, 0.1  # the waiters' backoff, in seconds


class KeyedLocks:
    """One asyncio.Lock per key while someone holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class WriteLocks:
    """A key's write section, exclusive across the gateway processes on one database; see the module docstring."""

    def __init__(self, db: Database, *, ttl: float = LEASE_SECONDS, wait: float = WAIT_SECONDS) -> None:
        self._db = db
        self._local = KeyedLocks()
        self._ttl = ttl
        self._wait = wait

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        async with self._local.hold(key):
            holder = uuid.uuid4().hex
            await self._acquire(key, holder)
            renewing = asyncio.create_task(self._renew(key, holder))
            try:
                yield
            finally:
                renewing.cancel()
                await asyncio.shield(self._db.write(lambda conn: _release(conn, key, holder)))

    async def _acquire(self, key: str, holder: str) -> None:
        deadline = time.monotonic() + self._wait
        pause = FIRST_POLL
        while not await self._db.write(lambda conn: _take(conn, key, holder, time.time(), self._ttl)):
            if time.monotonic() >= deadline:
                raise ServiceUnavailable(
                    f"{key} is being changed by another gateway process; retry", headers={"Retry-After": "1"}
                )
            await asyncio.sleep(pause * random.uniform(0.5, 1.5))  # jitter: waiters of one key do not poll in step
            pause = min(pause * 2, LAST_POLL)

    async def _renew(self, key: str, holder: str) -> None:
        """Move the lease's expiry on while the write lasts (a failure is logged: the lease may lapse)."""
        while True:
            await asyncio.sleep(self._ttl / 3)
            with contextlib.suppress(Exception):
                if await self._db.write(lambda conn: _extend(conn, key, holder, time.time() + self._ttl)):
                    continue
            log.warning("write_lease_lost", key=key)


def _take(conn: Connection, key: str, holder: str, now: float, ttl: float) -> bool:
    """The lease on `key` for `holder` if nobody holds it or its holder's has expired."""
    row = conn.execute(
        "INSERT INTO brig_leases (lease_key, holder, expires_at) VALUES (?, ?, ?) "
        "ON CONFLICT (lease_key) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at "
        "WHERE brig_leases.expires_at < ? RETURNING holder",
        (key, holder, now + ttl, now),
    ).fetchone()
    return row is not None


def _extend(conn: Connection, key: str, holder: str, until: float) -> bool:
    return (
        conn.execute(
            "UPDATE brig_leases SET expires_at = ? WHERE lease_key = ? AND holder = ?", (until, key, holder)
        ).rowcount
        == 1
    )


def _release(conn: Connection, key: str, holder: str) -> None:
    conn.execute("DELETE FROM brig_leases WHERE lease_key = ? AND holder = ?", (key, holder))
