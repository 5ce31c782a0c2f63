"""
The SQL of a page of users that the embedded `users` table and the brig backend's mirror
`brig_users` share (same columns, both with `seq` in creation order): the rows a list query's
window selects and the number of all matches, in one unit of work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from gateway.db.dialect import Connection

# fetch(conn, team, columns, column_params) -> (rows, total); see `user_window`
Window = Callable[[Connection, str, str, Sequence[object]], tuple[list[tuple[Any, ...]], int]]


@dataclass(frozen=True, slots=True)
class UserTable:
    """Where one backend keeps its users: the name goes into the SQL, so it is fixed here."""

    name: Literal["users", "brig_users"]
    count: str | None  # the query of a team's number of users, taking the team; None: count the rows


EMBEDDED_USERS = UserTable("users", "SELECT user_count FROM teams WHERE id = ?")
MIRROR_USERS = UserTable("brig_users", None)


def user_window(
    table: UserTable,
    where: str,
    params: Sequence[object],
    order: str,
    offset: int,
    limit: int,
    after_seq: int | None = None,
    skip: int = 0,
) -> Window:
    """
    A list query's page as `fetch(conn, team, columns, column_params) -> (rows, total)`: the rows
    (`columns`, whose `?` take `column_params`) and the number of all matches. `after_seq`, the
    `seq` of the row `skip` rows before `offset` in the default order, replaces OFFSET but for
    those `skip` rows (embedded/page_cursors.py).
    """

    def fetch(
        conn: Connection, team: str, columns: str, column_params: Sequence[object]
    ) -> tuple[list[tuple[Any, ...]], int]:
        condition = "team = ?" + (f" AND {where}" if where else "")
        rows: list[tuple[Any, ...]] = []
        if limit > 0:
            if after_seq is None:
                sql = f"SELECT {columns} FROM {table.name} WHERE {condition} ORDER BY {order} LIMIT ? OFFSET ?"
                rows = conn.execute(sql, [*column_params, team, *params, limit, offset]).fetchall()
            else:
                sql = f"SELECT {columns} FROM {table.name} WHERE {condition} AND seq > ? ORDER BY seq LIMIT ? OFFSET ?"
                rows = conn.execute(sql, [*column_params, team, *params, after_seq, limit, skip]).fetchall()
        if offset == 0 and len(rows) < limit:
            total = len(rows)  # the whole result fits on the first page: nothing more to count
        elif where or table.count is None:
            count = f"SELECT count(*) FROM {table.name} WHERE {condition}"
            total = conn.execute(count, [team, *params]).fetchone()[0]
        else:
            row = conn.execute(table.count, (team,)).fetchone()
            total = row[0] if row else 0
        return rows, total

    return fetch
