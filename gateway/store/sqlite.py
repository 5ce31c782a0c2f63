"""
The `Store` on SQLite: the shared SQL store (gateway/store/sql.py) over an SqliteDatabase, with a
token generation shared by every process on the file (gateway/store/token_epoch.py).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable

import structlog

from gateway.db.migrations import migrate_sqlite
from gateway.db.sqlite import SqliteDatabase
from gateway.store.sql import SqlStore
from gateway.store.token_epoch import TokenEpoch

log = structlog.get_logger()


class SqliteStore(SqlStore):
    db: SqliteDatabase

    def __init__(self, db: SqliteDatabase, epoch: TokenEpoch) -> None:
        super().__init__(db)
        self._epoch = epoch
        self._epoch_closed = False

    @classmethod
    async def open(
        cls,
        path: str,
        *,
        busy_timeout_ms: int = 5000,
        migrate: Callable[[sqlite3.Connection], object] = migrate_sqlite,
    ) -> SqliteStore:
        """The database, then its token epoch (made with the database file's owner and mode)."""
        db = await SqliteDatabase.open(path, busy_timeout_ms=busy_timeout_ms, migrate=migrate)
        try:
            epoch = await asyncio.to_thread(TokenEpoch.beside, db.path)  # it takes a file lock
        except OSError:
            await db.close()
            raise
        return cls(db, epoch)

    def token_generation(self) -> int | None:
        return self._epoch.read()

    async def tokens_changed(self) -> None:
        try:
            await asyncio.to_thread(self._epoch.bump)
        except OSError as exc:  # the change is committed; other processes see it within CACHE_SECONDS
            log.warning("token_epoch_not_raised", path=str(self._epoch.path), error=type(exc).__name__)

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            if not self._epoch_closed:
                self._epoch_closed = True
                self._epoch.close()
