"""
A user's side of group membership in the embedded tables: the read-only `groups` attribute of
users read by gateway/backend/embedded.py (in the same unit of work), and what deleting a user
does to its groups. Group writes are in embedded_groups.py.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TypeVar

from gateway.backend.models import Page, WireUser, now_text
from gateway.db.dialect import Connection

T = TypeVar("T")



def with_groups(conn: Connection, user: WireUser | None) -> WireUser | None:
    """`user` with its groups (one indexed query), or None."""
    if user is None:
        return None
    rows = conn.execute(
        "SELECT g.id, g.display_name FROM group_members m JOIN groups g ON g.id = m.group_id "
        "WHERE m.user_id = ?",
        (user.id,),
    ).fetchall()
    if rows:  # read or written by this unit of work a moment ago: nobody else holds it yet
        user.groups = sorted_groups(rows)
    return user


def with_page_groups(conn: Connection, result: tuple[Page, T]) -> tuple[Page, T]:
    """A search result whose users carry their groups: one batched query for the whole page."""
    page, rest = result
    if not page.users:
        return result
    rows = conn.execute(
        "SELECT m.user_id, g.id, g.display_name FROM group_members m JOIN groups g ON g.id = m.group_id "
        f"WHERE m.user_id IN (SELECT value FROM {conn.dialect.json_values})",
        (json.dumps([u.id for u in page.users]),),
    ).fetchall()
    if not rows:
        return result
    by_user: dict[str, list[tuple[str, str]]] = {}
    for user_id, group_id, name in rows:
        by_user.setdefault(user_id, []).append((group_id, name))
    for user in page.users:  # built by this unit of work a moment ago: nobody else holds them yet
        found = by_user.get(user.id)
        if found is not None:
            user.groups = sorted_groups(found)
    return result


def sorted_groups(groups: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """By displayName ignoring case, then id (sorted here: a user is in few groups)."""
    if len(groups) == 1:  # the common case, on every user of a list page
        return (tuple(groups[0]),)  # type: ignore[return-value]
    return tuple(sorted(((gid, name) for gid, name in groups), key=lambda g: (g[1].casefold(), g[0])))


def remove_user_from_groups(conn: Connection, user_id: str) -> None:
    """A deleted user leaves its groups, which count one member less and get a new version."""
    rows = conn.execute("DELETE FROM group_members WHERE user_id = ? RETURNING group_id", (user_id,)).fetchall()
    group_ids = sorted(row[0] for row in rows)  # one order of row locks for every writer
    if not group_ids:
        return
    conn.executemany(
        "UPDATE groups SET member_count = member_count - 1, revision = revision + 1, last_modified = ? "
        "WHERE id = ?",
        [(now_text(), group_id) for group_id in group_ids],
    )


def lock_groups_of_user(conn: Connection, user_id: str) -> None:
    """
    Before deleting a user: lock, in id order, the groups rows its deletion will change, so that
    it takes groups before users as group edits do (`_lock_members` in embedded_groups.py).
    """
    if conn.dialect.for_update:
        conn.execute(
            "SELECT id FROM groups WHERE id IN (SELECT group_id FROM group_members WHERE user_id = ?) "
            f"ORDER BY id{conn.dialect.for_update}",
            (user_id,),
        ).fetchall()
