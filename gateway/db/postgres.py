"""
PostgreSQL without blocking the event loop, through psycopg 3 on database threads
(gateway/db/threads.py): a small pool of reader threads and one of writer threads, each with its
own connection, running the same units of work as SQLite (gateway/db/dialect.py).

Why psycopg and not asyncpg: the units of work are plain functions over a DB-API connection, run
off the event loop on a dedicated thread, and shared with SQLite; an asyncio driver would need a
second, async copy of every one of them.

A write is one transaction at READ COMMITTED. What SQLite gets from its single writer, PostgreSQL
gets from constraints and locks: unique constraints decide races on userName and externalId (the
error becomes the same Uniqueness), rows about to be changed are read `FOR UPDATE`, and the token
cap serialises on an advisory lock per team. A transaction that dies in a deadlock or a
serialization failure is run again (a unit of work is a function of the database alone).
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg import errors

from gateway.db.dialect import Connection, Cursor, Dialect, SchemaOutOfDate
from gateway.db.migrations_postgres import POSTGRES_MIGRATIONS, migrate_postgres, postgres_schema_version
from gateway.db.threads import ThreadedDatabase

T = TypeVar("T")

POSTGRES = Dialect(
    name="postgres",
    fold_compare="lower({sql}) {op} lower(?)",
    fold_order="lower({sql})",
    like_fold="ILIKE",
    position="strpos",
    json_text="(CAST({sql} AS jsonb) #>> '{{{keys}}}')",
    json_values="json_array_elements_text(CAST(? AS json))",
    json_pairs="CAST(json_agg(json_build_array({a}, {b})) AS text)",
    for_update=" FOR UPDATE",
    for_key_share=" FOR KEY SHARE",
    for_no_key_update=" FOR NO KEY UPDATE",
    serialize="SELECT pg_advisory_xact_lock(hashtextextended(?, 0))",
    integrity_error=psycopg.IntegrityError,
    restart_seq=(
        "SELECT setval(pg_get_serial_sequence('{table}', 'seq'), coalesce(max(seq), 0) + 1, false) FROM {table}"
    ),
)

RETRIED = (errors.DeadlockDetected, errors.SerializationFailure)
MAX_ATTEMPTS = 8


class PostgresConnection:
    """A psycopg connection (autocommit) that takes `?` placeholders and carries its dialect."""

    dialect: Dialect = POSTGRES
    snapshot_memo: dict[Hashable, Any] | None = None  # autocommit: no snapshot outlives a statement

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor:
        if not parameters:  # no placeholders to convert; several statements may run at once
            return self.raw.execute(sql)
        return self.raw.execute(_placeholders(sql), parameters)

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor:
        cursor = self.raw.cursor()
        cursor.executemany(_placeholders(sql), parameters)
        return cursor

    def close(self) -> None:
        self.raw.close()


@functools.lru_cache(maxsize=2048)
def _placeholders(sql: str) -> str:
    """`?` -> `%s` (and a literal `%` -> `%%`). The gateway's SQL has no `?` inside literals."""
    return sql.replace("%", "%%").replace("?", "%s")


def connect_postgres(dsn: str, *, connect_timeout: float = 10.0) -> PostgresConnection:
    """A connection in autocommit (transactions are explicit); libpq reads PGPASSWORD etc."""
    raw = psycopg.connect(dsn, autocommit=True, connect_timeout=max(1, round(connect_timeout)))
    return PostgresConnection(raw)


class PostgresDatabase(ThreadedDatabase[PostgresConnection]):
    """A PostgreSQL database opened for async use; see the module docstring."""

    dialect: Dialect = POSTGRES

    def __init__(self, dsn: str, *, readers: int = 4, writers: int = 4, connect_timeout: float = 10.0) -> None:
        super().__init__(name="postgres", readers=readers, writers=writers)
        self.dsn = dsn
        self._connect_timeout = connect_timeout

    @classmethod
    async def open(
        cls,
        dsn: str,
        *,
        readers: int = 4,
        writers: int = 4,
        connect_timeout: float = 10.0,
        migrate: bool = True,
    ) -> PostgresDatabase:
        """
        Connect and bring the schema up to date (or, with `migrate=False`, check that it is:
        SchemaOutOfDate names `scim-gateway migrate` otherwise).
        """
        db = cls(dsn, readers=readers, writers=writers, connect_timeout=connect_timeout)
        try:
            if migrate:
                await db._hop(db._writer, migrate_postgres)
            else:
                await db._hop(db._writer, _check_schema)
            await db._hop(db._reader, lambda conn: None)  # fail now if readers cannot connect
        except BaseException:
            await db.close()
            raise
        return db

    def _connect(self) -> PostgresConnection:
        return connect_postgres(self.dsn, connect_timeout=self._connect_timeout)

    def _usable(self, conn: PostgresConnection) -> bool:
        return not (conn.raw.closed or conn.raw.broken)

    def _read(self, conn: PostgresConnection, fn: Callable[[PostgresConnection], T]) -> T:
        """A read that found its connection dead (the server restarted) runs once more on a new one."""
        try:
            return fn(conn)
        except psycopg.OperationalError:
            if not conn.raw.broken:
                raise
        return fn(self._replace_connection())

    def _transaction(self, conn: PostgresConnection, fn: Callable[[PostgresConnection], T]) -> T:
        """
        `fn` in one transaction; run again after a deadlock or serialization failure, and on a new
        connection when the old one turned out dead before `fn` began (BEGIN failed: nothing ran).
        """
        for attempt in range(1, MAX_ATTEMPTS + 1):
            began = False
            try:
                with conn.raw.transaction():
                    began = True
                    return fn(conn)
            except RETRIED:
                if attempt == MAX_ATTEMPTS:
                    raise
                time.sleep(random.uniform(0, 0.005 * 2**attempt))  # on this database thread
            except psycopg.OperationalError:
                if began or not conn.raw.broken or attempt == MAX_ATTEMPTS:
                    raise
                conn = self._replace_connection()
        raise AssertionError("unreachable")  # pragma: no cover

    def _replace_connection(self) -> PostgresConnection:
        self._local.conn = None
        return self._call(lambda conn: conn)


def _check_schema(conn: Connection) -> None:
    current, latest = postgres_schema_version(conn), len(POSTGRES_MIGRATIONS)
    if current < latest:
        raise SchemaOutOfDate.at(current, latest)
