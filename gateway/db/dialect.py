"""
What differs between the two databases the gateway runs on, and the small interfaces its units of
work are written against, so that ONE function per unit of work serves SQLite and PostgreSQL.

A unit of work is a plain function `fn(connection)` run on a database thread (gateway/db/threads.py).
Its SQL is written with `?` placeholders (the PostgreSQL connection turns them into psycopg's `%s`),
in the SQL both databases share (`INSERT ... ON CONFLICT DO NOTHING`, `RETURNING`, `TRUE`), and it
asks `connection.dialect` for the few pieces that differ: case-insensitive comparison and order,
JSON extraction, the list of values a JSON array parameter expands to, row locks, and the error a
unique constraint raises. The PostgreSQL dialect lives in gateway/db/postgres.py (it needs psycopg).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class Dialect:
    """The SQL that differs between the databases; templates take `{sql}` (and `{op}`) by name."""

    name: str  # "sqlite" | "postgres"
    # `{sql} {op} ?` ignoring case, e.g. "{sql} {op} ? COLLATE NOCASE" or "lower({sql}) {op} lower(?)"
    fold_compare: str
    fold_order: str  # an ORDER BY term ignoring case: "{sql} COLLATE NOCASE" or "lower({sql})"
    like_fold: str  # the LIKE that ignores case: "LIKE" (SQLite, ASCII) or "ILIKE"
    position: str  # 1-based position of a substring: "instr" or "strpos"
    json_text: str  # a JSON text column's member as text; `{path}` is a dotted path, `{keys}` comma-separated
    json_values: str  # the rows (column `value`) of a JSON array of strings bound as one `?`
    # an aggregate of `{a}` and `{b}` as one JSON text, an array of [a, b] pairs (NULL for no rows)
    json_pairs: str
    for_update: str  # suffix of a SELECT that locks the rows it reads until commit ("" on SQLite)
    for_key_share: str  # suffix that keeps the rows from being deleted until commit ("" on SQLite)
    # suffix that locks the rows as an UPDATE of non-key columns would ("" on SQLite): it waits
    # for other such locks, not for `for_key_share`
    for_no_key_update: str
    # SQL that serialises writers on one key for the rest of the transaction (None: a write
    # transaction already holds the whole database, as SQLite's BEGIN IMMEDIATE does)
    serialize: str | None
    integrity_error: type[Exception]  # what a violated unique or foreign key constraint raises
    # after rows were inserted with their own `seq` (store copy): SQL that moves `{table}`'s
    # sequence past them (None: SQLite's INTEGER PRIMARY KEY continues after the largest)
    restart_seq: str | None

    def fold(self, sql: str, op: str = "=") -> str:
        """`sql op ?`, ignoring case."""
        return self.fold_compare.format(sql=sql, op=op)

    def order_folded(self, sql: str) -> str:
        return self.fold_order.format(sql=sql)

    def json_member(self, column: str, dotted_path: str) -> str:
        """The text at `dotted_path` (e.g. "name.givenName") of the JSON in `column`."""
        return self.json_text.format(sql=column, path=dotted_path, keys=dotted_path.replace(".", ","))


SQLITE = Dialect(
    name="sqlite",
    fold_compare="{sql} {op} ? COLLATE NOCASE",
    fold_order="{sql} COLLATE NOCASE",
    like_fold="LIKE",
    position="instr",
    json_text="json_extract({sql}, '$.{path}')",
    json_values="json_each(?)",
    json_pairs="json_group_array(json_array({a}, {b}))",
    for_update="",
    for_key_share="",
    for_no_key_update="",
    serialize=None,
    integrity_error=sqlite3.IntegrityError,
    restart_seq=None,
)


class Cursor(Protocol):
    """The part of a DB-API cursor that units of work use."""

    @property
    def rowcount(self) -> int: ...

    @property
    def description(self) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchmany(self, size: int = ...) -> list[Any]: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """What a unit of work gets: a DB-API connection with `?` placeholders and its dialect."""

    @property
    def dialect(self) -> Dialect: ...

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor: ...

    @property
    def snapshot_memo(self) -> dict[Hashable, Any] | None:
        """
        While the connection reads in one snapshot shared by several units of work (SQLite's
        `reads_together`), a dict in which they keep what they read from it for each other; None
        otherwise. A new snapshot starts with an empty one, so nothing kept outlives the
        database state it was read from.
        """
        ...

    def close(self) -> None:
        """For the tools that own a connection (gateway/db/connect.py); never in a unit of work."""


class Database(Protocol):
    """A database opened for async use: units of work run on its threads (`read_point`: see there)."""

    @property
    def dialect(self) -> Dialect: ...

    def read(self, fn: Callable[[Connection], T]) -> Awaitable[T]:
        """Run `fn(connection)` on a reader connection (autocommit: each statement sees the latest)."""
        ...

    def read_point(self, fn: Callable[[Connection], T]) -> Awaitable[T]:
        """
        `read` for a bounded walk of an index (a row by its key, a page of at most 100 rows from a
        known row); SQLite runs it on the loop's own connection, at once.
        """
        ...

    def write(self, fn: Callable[[Connection], T]) -> Awaitable[T]:
        """Run `fn(connection)` in one transaction; rolled back if it raises."""
        ...

    def reads_together(self) -> AbstractContextManager[None]:
        """
        A block whose `read_point`s, made on the event loop's thread without waiting, share one
        snapshot of the database; elsewhere a block that changes nothing.
        """
        ...

    async def close(self) -> None: ...


class SqliteConnection(sqlite3.Connection):
    """sqlite3's connection, carrying its dialect (made with `sqlite3.connect(factory=...)`)."""

    dialect = SQLITE
    snapshot_memo: dict[Hashable, Any] | None = None  # set by SqliteDatabase.read_point inside reads_together


class StoreNotReady(Exception):
    """The store's database cannot serve: it cannot be reached or opened, or its schema is old."""


class SchemaOutOfDate(StoreNotReady):
    """The database's schema is older than this gateway's and migrations are not applied at start."""

    @classmethod
    def at(cls, current: int, latest: int) -> SchemaOutOfDate:
        return cls(
            f"the database schema is at version {current}, this gateway needs {latest}: run "
            "`scim-gateway migrate` first (or set store.migrate_at_start: true)"
        )


def serialize_on(conn: Connection, key: str) -> None:
    """Make concurrent writers that serialise on `key` wait for this transaction (see Dialect)."""
    if conn.dialect.serialize is not None:
        conn.execute(conn.dialect.serialize, (key,))
