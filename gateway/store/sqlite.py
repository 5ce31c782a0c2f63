"""
The `Store` on SQLite: the shared SQL store (gateway/store/sql.py) over an SqliteDatabase, with a
token generation shared by every process on the file (gateway/store/token_epoch.py).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable

from gateway.db.migrations import migrate_sqlite
from gateway.db.sqlite import SqliteDatabase
from gateway.store.sql import SqlStore
from gateway.store.token_epoch import TokenEpoch


class SqliteStore(SqlStore):
    db: SqliteDatabase

    def __init__(self, db: SqliteDatabase, epoch: TokenEpoch) -> None:
        super().__init__(db)
        self._epoch = epoch
        self._epoch_closed = False

    @classmethod
    async def open(
        cls, path: str, *, busy_timeout_ms: int = 5000,
        migrate: Callable[[sqlite3.Connection], object] = migrate_sqlite,
    ) -> SqliteStore:  # fmt: skip
        """The database, then its token epoch (made with the database file's owner and mode)."""
        db = await SqliteDatabase.open(path, busy_timeout_ms=busy_timeout_ms, migrate=migrate)
        try:
            epoch = TokenEpoch.beside(db.path)
        except OSError:
            await db.close()
            raise
        return cls(db, epoch)

    def token_generation(self) -> int | None:
        return self._epoch.read()

    async def tokens_changed(self) -> None:
        await asyncio.to_thread(self._epoch.bump)

    async def close(self) -> None:
        await super().close()
        if not self._epoch_closed:
            self._epoch_closed = True
            self._epoch.close()
