"""What brig-lite's handlers share, hung off the application under typed keys (no globals)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from aiohttp import web

from gateway.backend.models import now_text
from gateway.brig_lite.accounts import Limits, purge_expired
from gateway.config import BrigLite
from gateway.db.sqlite import SqliteDatabase

T = TypeVar("T")

# scrypt cost: 2^14 x 8 x 1 uses 16 MiB and some tens of milliseconds, run off the event loop.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


@dataclass(frozen=True, slots=True)
class BrigLiteState:
    """The database and the settings; `read`/`write` hand one unit of work to the database."""

    db: SqliteDatabase
    settings: BrigLite

    @property
    def limits(self) -> Limits:
        s = self.settings
        return Limits(max_team_size=s.max_team_size, unique_emails=s.unique_emails, rich_info_chars=s.rich_info_chars)

    async def read(self, fn: Callable[[sqlite3.Connection, float], T]) -> T:
        """`fn(connection, now_ts)` on the reader."""
        now_ts = time.time()
        return await self.db.read(lambda conn: fn(conn, now_ts))

    async def write(self, fn: Callable[[sqlite3.Connection, float, str], T]) -> T:
        """`fn(connection, now_ts, now)` in one transaction, after expired invitations are purged."""
        now_ts, now = time.time(), now_text()

        def work(conn: sqlite3.Connection) -> T:
            purge_expired(conn, now_ts)
            return fn(conn, now_ts, now)

        return await self.db.write(work)


STATE = web.AppKey("brig_lite_state", BrigLiteState)


def hash_password(password: str) -> str:
    """`scrypt$N$r$p$salt$hash` (base64); slow on purpose: call through `hash_password_async`."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    return "$".join(
        ["scrypt", str(_SCRYPT_N), str(_SCRYPT_R), str(_SCRYPT_P),
         base64.b64encode(salt).decode(), base64.b64encode(digest).decode()]
    )  # fmt: skip


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    given = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=32
    )
    return hmac.compare_digest(given, base64.b64decode(digest))


async def hash_password_async(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(None, hash_password, password)


async def verify_password_async(password: str, stored: str) -> bool:
    return await asyncio.get_running_loop().run_in_executor(None, verify_password, password, stored)
