"""The `Store` on SQLite: the shared SQL store (gateway/store/sql.py) over an SqliteDatabase."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from gateway.db.migrations import migrate_sqlite
from gateway.db.sqlite import SqliteDatabase
from gateway.store.sql import SqlStore


class SqliteStore(SqlStore):
    db: SqliteDatabase

    @classmethod
    async def open(
        cls, path: str, *, busy_timeout_ms: int = 5000,
        migrate: Callable[[sqlite3.Connection], object] = migrate_sqlite,
    ) -> SqliteStore:  # fmt: skip
        return cls(await SqliteDatabase.open(path, busy_timeout_ms=busy_timeout_ms, migrate=migrate))
