"""
A user's side of group membership in the embedded tables: the read-only `groups` attribute of
users read by backend.py (in the same unit of work), and what deleting a user
does to its groups. Group writes are in groups.py.
"""

from __future__ import annotations

from typing import TypeVar, overload

from gateway.backend.sql.groups import EMBEDDED_TABLES, groups_of_user, groups_of_users
from gateway.backend.wire_user import Page, WireUser
from gateway.clock import now_text
from gateway.db.dialect import Connection

T = TypeVar("T")


@overload
def with_groups(conn: Connection, user: WireUser) -> WireUser: ...
@overload
def with_groups(conn: Connection, user: WireUser | None) -> WireUser | None: ...


def with_groups(conn: Connection, user: WireUser | None) -> WireUser | None:
    """`user` with its groups (one indexed query), or None."""
    if user is not None:
        groups = groups_of_user(conn, EMBEDDED_TABLES, user.id)
        if groups:  # read or written by this unit of work a moment ago: nobody else holds it yet
            user.groups = groups
    return user


def with_page_groups(conn: Connection, result: tuple[Page, T]) -> tuple[Page, T]:
    """A search result whose users carry their groups: one batched query for the whole page."""
    page = result[0]
    found = groups_of_users(conn, EMBEDDED_TABLES, [user.id for user in page.users])
    if found:
        for user in page.users:  # built by this unit of work a moment ago: nobody else holds them yet
            groups = found.get(user.id)
            if groups is not None:
                user.groups = groups
    return result


def remove_user_from_groups(conn: Connection, user_id: str) -> None:
    """A deleted user leaves its groups, which count one member less and get a new version."""
    rows = conn.execute("DELETE FROM group_members WHERE user_id = ? RETURNING group_id", (user_id,)).fetchall()
    group_ids = sorted(row[0] for row in rows)  # one order of row locks for every writer
    if not group_ids:
        return
    conn.executemany(
        "UPDATE groups SET member_count = member_count - 1, revision = revision + 1, last_modified = ? WHERE id = ?",
        [(now_text(), group_id) for group_id in group_ids],
    )


def lock_groups_of_user(conn: Connection, user_id: str) -> None:
    """
    Before deleting a user: lock, in id order, the groups rows its deletion will change, so that
    it takes groups before users as group edits do (`_lock_members` in groups.py).
    """
    if conn.dialect.for_update:
        conn.execute(
            "SELECT id FROM groups WHERE id IN (SELECT group_id FROM group_members WHERE user_id = ?) "
            f"ORDER BY id{conn.dialect.for_update}",
            (user_id,),
        ).fetchall()
