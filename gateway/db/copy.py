"""
`scim-gateway store copy`: move an installation's state from one database to another (SQLite to
PostgreSQL, or back), every table of STATE_TABLES (gateway/db/migrations.py), row for row.

Both sides are brought to the latest schema first. The target must be empty (a copy never merges).
All rows go in within one target transaction, in STATE_TABLES order (referenced rows first) and
with their own `seq`, so paging order is kept; the target's sequences are then moved past them,
and the target is ANALYZEd (without statistics PostgreSQL planned a page of users ten times slower).
Afterwards every table is counted on both sides, and a difference is an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.db.dialect import Connection
from gateway.db.migrations import STATE_TABLES

BATCH_ROWS = 1000


class CopyRefused(Exception):
    """The copy cannot be made (or did not come out whole); nothing was committed on the target."""


@dataclass(frozen=True, slots=True)
class Copied:
    table: str
    rows: int


def copy_state(source: Connection, target: Connection, *, tables: Sequence[str] = STATE_TABLES) -> list[Copied]:
    """
    Copy `tables` from `source` to `target` (both autocommit connections at the latest schema).
    Raises CopyRefused when the target already holds rows, or when the counts differ afterwards.
    """
    occupied = [(table, n) for table in tables if (n := _count(target, table))]
    if occupied:
        listed = ", ".join(f"{table} ({n} rows)" for table, n in occupied)
        raise CopyRefused(f"the target already holds state: {listed}; copy only into an empty database")
    target.execute("BEGIN")
    try:
        copied = [Copied(table, _copy_table(source, target, table)) for table in tables]
        restart = target.dialect.restart_seq
        for table in tables:
            if restart is not None and "seq" in _columns(target, table):
                target.execute(restart.format(table=table))
    except BaseException:
        target.execute("ROLLBACK")
        raise
    target.execute("COMMIT")
    target.execute("ANALYZE")  # statistics for the planner now, not when autovacuum gets round to it
    differing = [
        f"{table}: {n} in the source, {_count(target, table)} in the target"
        for table, n in ((c.table, _count(source, c.table)) for c in copied)
        if n != _count(target, table)
    ]
    if differing:  # the source changed meanwhile: the gateway was still writing to it
        raise CopyRefused("counts differ after the copy (stop the gateway first): " + "; ".join(differing))
    return copied


def _copy_table(source: Connection, target: Connection, table: str) -> int:
    """Stream the rows of `table` over in batches; returns how many there were."""
    cursor = source.execute(f"SELECT * FROM {table}")
    names = [column[0] for column in cursor.description]
    insert = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    rows = 0
    while batch := cursor.fetchmany(BATCH_ROWS):
        _refuse_nul(table, names, batch)
        target.executemany(insert, [tuple(row) for row in batch])
        rows += len(batch)
    return rows


def _refuse_nul(table: str, names: Sequence[str], batch: Sequence[Sequence[object]]) -> None:
    """
    PostgreSQL text cannot hold NUL, which an older release let into SQLite (the gateway refuses
    it since): name the value to mend instead of failing deep in the driver.
    """
    key = names.index("id") if "id" in names else 0
    for row in batch:
        for name, value in zip(names, row, strict=True):
            if isinstance(value, str) and "\x00" in value:
                raise CopyRefused(
                    f"{table}.{name} of row {row[key]} holds a NUL character, which PostgreSQL cannot store; "
                    "remove it in the source (e.g. with the SCIM API: PUT the user or group again) and copy again"
                )


def _count(conn: Connection, table: str) -> int:
    return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def _columns(conn: Connection, table: str) -> list[str]:
    cursor = conn.execute(f"SELECT * FROM {table} WHERE 1 = 0")
    return [column[0] for column in cursor.description]
