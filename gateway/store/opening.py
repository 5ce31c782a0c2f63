"""`open_store(settings)`: the configured store, its database migrated (or checked) at open."""

from __future__ import annotations

import sqlite3

from gateway.config import Store as StoreSettings
from gateway.db.dialect import SchemaOutOfDate
from gateway.db.migrations import SQLITE_MIGRATIONS, migrate_sqlite, schema_version
from gateway.store.sql import SqlStore
from gateway.store.sqlite import SqliteStore


async def open_store(settings: StoreSettings) -> SqlStore:
    """
    SQLite at `path` or PostgreSQL at `dsn` (psycopg is imported only then). With
    `migrate_at_start: false` an older schema raises SchemaOutOfDate instead of being upgraded.
    """
    if settings.kind == "postgres":
        from gateway.store.postgres import PostgresStore

        return await PostgresStore.open(
            settings.dsn or "", readers=settings.connections, writers=settings.connections,
            migrate=settings.migrate_at_start,
        )  # fmt: skip
    migrate = migrate_sqlite if settings.migrate_at_start else _check_sqlite_schema
    return await SqliteStore.open(settings.path or "", busy_timeout_ms=settings.busy_timeout_ms, migrate=migrate)


def _check_sqlite_schema(conn: sqlite3.Connection) -> None:
    current, latest = schema_version(conn), len(SQLITE_MIGRATIONS)
    if current < latest:
        raise SchemaOutOfDate.at(current, latest)
