"""What brig-lite's handlers share, hung off the application under typed keys (no globals)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from aiohttp import web

from gateway.backend.embedded.passwords import hash_password_async, verify_password_async
from gateway.brig_lite.accounts import Limits, purge_expired
from gateway.clock import now_text
from gateway.config import BrigLite
from gateway.db.sqlite import SqliteDatabase

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BrigLiteState:
    """The database and the settings; `read`/`write` hand one unit of work to the database."""

    db: SqliteDatabase
    settings: BrigLite

    @property
    def limits(self) -> Limits:
        s = self.settings
        return Limits(max_team_size=s.max_team_size, rich_info_chars=s.rich_info_chars)

    async def read(self, fn: Callable[[sqlite3.Connection, float], T]) -> T:
        """`fn(connection, now_ts)` on the reader."""
        now_ts = time.time()
        return await self.db.read(lambda conn: fn(conn, now_ts))

    async def write(self, fn: Callable[[sqlite3.Connection, float, str], T]) -> T:
        """`fn(connection, now_ts, now)` in one transaction, after accounts.purge_expired."""
        now_ts, now = time.time(), now_text()

        def work(conn: sqlite3.Connection) -> T:
            purge_expired(conn, now_ts)
            return fn(conn, now_ts, now)

        return await self.db.write(work)


STATE = web.AppKey("brig_lite_state", BrigLiteState)

# The account passwords (scrypt) are gateway/backend/embedded/passwords.py's, shared with the embedded
# team directory; re-exported for brig-lite's handlers.
__all__ = ["STATE", "BrigLiteState", "hash_password_async", "verify_password_async"]
