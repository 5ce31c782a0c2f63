"""
Plain (synchronous) connections for the command-line tools that work on a database as a whole:
`scim-gateway migrate` and `scim-gateway store copy`. The gateway itself uses the threaded
databases (gateway/db/sqlite.py, gateway/db/postgres.py), which connect through the same functions.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gateway.config import Store as StoreSettings
from gateway.db.dialect import Connection, StoreNotReady
from gateway.db.migrations import SQLITE_MIGRATIONS, migrate_sqlite, schema_version

POSTGRES_SCHEMES = ("postgres://", "postgresql://")


class LocationError(ValueError):
    """A database location that is neither `sqlite:PATH` nor a PostgreSQL URL."""


@dataclass(frozen=True, slots=True)
class Location:
    """Where a gateway database is: an SQLite file or a PostgreSQL connection string."""

    kind: Literal["sqlite", "postgres"]
    address: str  # the file path, or the DSN

    @classmethod
    def parse(cls, text: str) -> Location:
        """`sqlite:PATH` or `postgres://...` / `postgresql://...`."""
        if text.startswith("sqlite:") and len(text) > len("sqlite:"):
            return cls("sqlite", text.removeprefix("sqlite:"))
        if text.startswith(POSTGRES_SCHEMES):
            return cls("postgres", text)
        raise LocationError(f"{text!r} is not sqlite:PATH or postgres://[user@]host[:port]/database")

    @classmethod
    def of(cls, settings: StoreSettings) -> Location:
        """The configured store's database."""
        if settings.kind == "postgres":
            return cls("postgres", settings.dsn or "")
        return cls("sqlite", settings.path or "")

    def __str__(self) -> str:
        return f"sqlite:{self.address}" if self.kind == "sqlite" else redact_dsn(self.address)


def connect(location: Location) -> Connection:
    """An autocommit connection (psycopg is imported only for PostgreSQL); StoreNotReady if none."""
    if location.kind == "postgres":
        import psycopg

        from gateway.db.postgres import connect_postgres

        try:
            return connect_postgres(location.address)
        except psycopg.Error as exc:
            raise StoreNotReady(f"cannot connect to {location}: {exc}") from exc
    from gateway.db.sqlite import connect_sqlite

    try:
        Path(location.address).parent.mkdir(parents=True, exist_ok=True)
        return connect_sqlite(location.address)
    except (OSError, sqlite3.Error) as exc:
        raise StoreNotReady(f"cannot open {location}: {exc}") from exc


def migrate(conn: Connection, *, target: int | None = None) -> tuple[int, int]:
    """Bring the schema up to `target` (default: the latest); returns (version before, after)."""
    if conn.dialect.name == "postgres":
        from gateway.db.migrations_postgres import migrate_postgres, postgres_schema_version

        before = postgres_schema_version(conn)
        return before, migrate_postgres(conn, target=target)
    before = schema_version(conn)  # type: ignore[arg-type]  # an sqlite3.Connection
    return before, migrate_sqlite(conn, target=target)  # type: ignore[arg-type]  # an sqlite3.Connection


def latest_version() -> int:
    return len(SQLITE_MIGRATIONS)


def redact_dsn(dsn: str) -> str:
    """A DSN fit for printing: `user:secret@` -> `user:***@`, `password=secret` -> `password=***`."""
    dsn = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", dsn)
    return re.sub(r"(password=)[^&\s]*", r"\1***", dsn)
