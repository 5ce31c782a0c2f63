"""`open_store(settings)`: the configured store, its database migrated (or checked) at open."""

from __future__ import annotations

import sqlite3

from gateway.config import Store as StoreSettings
from gateway.db.connect import Location
from gateway.db.dialect import SchemaOutOfDate, StoreNotReady
from gateway.db.migrations import SQLITE_MIGRATIONS, migrate_sqlite, schema_version
from gateway.store.sql import SqlStore
from gateway.store.sqlite import SqliteStore


async def open_store(settings: StoreSettings) -> SqlStore:
    """
    SQLite at `path` or PostgreSQL at `dsn` (psycopg is imported only then). With
    `migrate_at_start: false` an older schema raises SchemaOutOfDate instead of being upgraded;
    a database that cannot be reached or opened raises StoreNotReady (its base class).
    """
    if settings.kind == "postgres":
        import psycopg

        from gateway.store.postgres import PostgresStore

        try:
            return await PostgresStore.open(
                settings.dsn or "",
                readers=settings.connections,
                writers=settings.connections,
                migrate=settings.migrate_at_start,
            )
        except psycopg.Error as exc:
            raise StoreNotReady(f"cannot open the store {Location.of(settings)}: {exc}") from exc
    migrate = migrate_sqlite if settings.migrate_at_start else _check_sqlite_schema
    try:
        return await SqliteStore.open(settings.path or "", busy_timeout_ms=settings.busy_timeout_ms, migrate=migrate)
    except (OSError, sqlite3.Error) as exc:
        raise StoreNotReady(f"cannot open the store {Location.of(settings)}: {exc}") from exc


def _check_sqlite_schema(conn: sqlite3.Connection) -> None:
    current, latest = schema_version(conn), len(SQLITE_MIGRATIONS)
    if current < latest:
        raise SchemaOutOfDate.at(current, latest)
