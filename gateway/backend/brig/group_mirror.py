"""
The brig backend's mirror of its SCIM groups in the gateway's database (migration 5), as units of
work for the store's database (SQLite or PostgreSQL), the group counterpart of user_mirror.py:

- `brig_groups`: one row per group (name, externalId, SCIM times, `revision` behind the weak
  ETag, `member_count`); `brig_group_members`: one row per member, keyed (group_id, user_id) and
  indexed by user_id; `brig_group_counts`: a team's number of groups.

Reads that SCIM needs without the members (`excludedAttributes=members`, list pages, counts,
filters, a user's `groups`) never touch brig. A change is written to brig first and then here,
conditionally on the revision it was planned on (`commit_edit` raises Stale when another process
got there first), so that concurrent writers of one group converge (groups.py).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.backend.sql.groups import (
    GROUP_COLUMNS,
    MIRROR_TABLES,
    group_version,
    groups_of_users,
    row_to_group,
    search_groups,
    team_ids_among,
)
from gateway.backend.sql.groups import (
    member_ids as _member_ids,
)
from gateway.backend.wire_group import GroupPage, GroupQuery, WireGroup
from gateway.backend.wire_user import WireUser
from gateway.clock import now_text
from gateway.db.dialect import Connection
from gateway.scim.errors import Uniqueness

_COLUMNS = GROUP_COLUMNS


class Stale(Exception):
    """The group's revision moved since the change was planned: plan it again."""


@dataclass(frozen=True, slots=True)
class Row:
    """A mirrored group (members not loaded) and the revision its version is made of."""

    group: WireGroup
    revision: int


def group_row(conn: Connection, team: str, group_id: str) -> Row | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM brig_groups WHERE id = ? AND team = ?", (group_id, team)).fetchone()
    return None if row is None else _row(row)


def revision_of(conn: Connection, group_id: str) -> int | None:
    row = conn.execute("SELECT revision FROM brig_groups WHERE id = ?", (group_id,)).fetchone()
    return None if row is None else int(row[0])


def member_ids(conn: Connection, group_id: str) -> tuple[str, ...]:
    """The whole member list, sorted (read only to show it or to send it to brig whole)."""
    return _member_ids(conn, MIRROR_TABLES, group_id)


def members_among(conn: Connection, group_id: str, user_ids: Collection[str]) -> set[str]:
    """Which of `user_ids` are members: one indexed lookup per id, whatever the group's size."""
    if not user_ids:
        return set()
    rows = conn.execute(
        "SELECT user_id FROM brig_group_members WHERE group_id = ? "
        f"AND user_id IN (SELECT value FROM {conn.dialect.json_values})",
        (group_id, json.dumps(sorted(user_ids))),
    ).fetchall()
    return {row[0] for row in rows}


def pending_members(conn: Connection, group_id: str) -> set[str]:
    """
    The members that are pending invitations (in the user mirror): brig refuses them as group
    members until they accept, so the gateway keeps them here and sends brig the others.
    """
    rows = conn.execute(
        "SELECT m.user_id FROM brig_group_members m JOIN brig_users u ON u.id = m.user_id "
        "WHERE m.group_id = ? AND u.status = 'pending-invitation'",
        (group_id,),
    ).fetchall()
    return {row[0] for row in rows}


def pending_among(conn: Connection, user_ids: Collection[str]) -> set[str]:
    """Which of `user_ids` are pending invitations in the user mirror (one indexed lookup per id)."""
    if not user_ids:
        return set()
    rows = conn.execute(
        "SELECT id FROM brig_users WHERE status = 'pending-invitation' "
        f"AND id IN (SELECT value FROM {conn.dialect.json_values})",
        (json.dumps(sorted(user_ids)),),
    ).fetchall()
    return {row[0] for row in rows}


def classify(conn: Connection, team: str, ids: Collection[str]) -> tuple[set[str], set[str]]:
    """(the ids that are SCIM users of `team` in the gateway's mirror, the ids of `team`'s groups)."""
    if not ids:
        return set(), set()
    return team_ids_among(conn, "brig_users", team, ids), team_ids_among(conn, "brig_groups", team, ids)


def external_id_taken(conn: Connection, team: str, external_id: str | None, group_id: str | None) -> bool:
    if external_id is None:
        return False
    row = conn.execute("SELECT id FROM brig_groups WHERE team = ? AND external_id = ?", (team, external_id)).fetchone()
    return row is not None and row[0] != group_id


def insert_group(conn: Connection, group: WireGroup) -> None:
    """A group brig has just created, with its members (`group.members`), at revision 1."""
    try:
        conn.execute(
            f"INSERT INTO brig_groups ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, 1, ?)",
            (
                group.id,
                group.team,
                group.display_name,
                group.external_id,
                group.created,
                group.last_modified,
                group.member_count,
            ),
        )
    except conn.dialect.integrity_error:
        raise Uniqueness(f"externalId {group.external_id!r} is already taken by another group") from None
    _add_rows(conn, group.id, group.members or ())
    conn.execute(
        "INSERT INTO brig_group_counts (team, group_count) VALUES (?, 1) "
        "ON CONFLICT (team) DO UPDATE SET group_count = brig_group_counts.group_count + 1",
        (group.team,),
    )


def commit_edit(
    conn: Connection,
    row: Row,
    *,
    name: str,
    external_id: str | None,
    added: Collection[str],
    removed: Collection[str],
    now: str,
) -> WireGroup:
    """
    Store a change planned on `row` (Stale when the revision moved since): name, externalId and
    the member rows added and removed, each one indexed row; the count moves by the difference.
    """
    count = row.group.member_count + len(added) - len(removed)
    try:
        updated = conn.execute(
            "UPDATE brig_groups SET display_name = ?, external_id = ?, member_count = ?, revision = ?, "
            "last_modified = ? WHERE id = ? AND revision = ?",
            (name, external_id, count, row.revision + 1, now, row.group.id, row.revision),
        ).rowcount
    except conn.dialect.integrity_error:
        raise Uniqueness(f"externalId {external_id!r} is already taken by another group") from None
    if updated != 1:
        raise Stale(row.group.id)
    _add_rows(conn, row.group.id, added)
    conn.executemany(
        "DELETE FROM brig_group_members WHERE group_id = ? AND user_id = ?", [(row.group.id, u) for u in removed]
    )
    return dataclasses.replace(
        row.group,
        display_name=name,
        external_id=external_id,
        member_count=count,
        last_modified=now,
        version=group_version(row.revision + 1),
    )


def follow_brig(conn: Connection, row: Row, *, name: str, members: Collection[str], now: str) -> WireGroup:
    """The mirror made equal to what brig holds (name, members), as a change planned on `row`."""
    current, wanted = set(member_ids(conn, row.group.id)), set(members)
    group = commit_edit(
        conn,
        row,
        name=name,
        external_id=row.group.external_id,
        added=wanted - current,
        removed=current - wanted,
        now=now,
    )
    return dataclasses.replace(group, members=tuple(sorted(wanted)))


def forget_group(conn: Connection, team: str, group_id: str) -> bool:
    """Drop a group and its members from the mirror; True when it was there."""
    if group_row(conn, team, group_id) is None:
        return False
    conn.execute("DELETE FROM brig_group_members WHERE group_id = ?", (group_id,))
    conn.execute("DELETE FROM brig_groups WHERE id = ?", (group_id,))
    conn.execute("UPDATE brig_group_counts SET group_count = group_count - 1 WHERE team = ?", (team,))
    return True


def remove_user_from_groups(conn: Connection, user_id: str) -> None:
    """A user brig no longer has leaves its groups, which count one member less and get a new version."""
    group_ids = [
        row[0]
        for row in conn.execute(
            "SELECT group_id FROM brig_group_members WHERE user_id = ? ORDER BY group_id", (user_id,)
        ).fetchall()
    ]
    if not group_ids:
        return
    # lock the groups first, in one order, as commit_edit does (PostgreSQL: no deadlock with it)
    conn.execute(
        f"SELECT id FROM brig_groups WHERE id IN (SELECT value FROM {conn.dialect.json_values}) "
        f"ORDER BY id{conn.dialect.for_update}",
        (json.dumps(group_ids),),
    ).fetchall()
    rows = conn.execute("DELETE FROM brig_group_members WHERE user_id = ? RETURNING group_id", (user_id,)).fetchall()
    conn.executemany(
        "UPDATE brig_groups SET member_count = member_count - 1, revision = revision + 1, last_modified = ? "
        "WHERE id = ?",
        [(now_text(), group_id) for group_id in sorted(row[0] for row in rows)],
    )


def search(conn: Connection, team: str, where: str, params: list[object], order: str, query: GroupQuery) -> GroupPage:
    """A page of the team's mirrored groups; the unfiltered total is one counter row."""
    return search_groups(conn, MIRROR_TABLES, team, where, params, order, query)


def with_groups(conn: Connection, users: Sequence[WireUser]) -> list[WireUser]:
    """`users` carrying their groups, sorted by name: one indexed query for all of them."""
    found = groups_of_users(conn, MIRROR_TABLES, [user.id for user in users])
    return [dataclasses.replace(u, groups=found[u.id]) if u.id in found else u for u in users]


def _add_rows(conn: Connection, group_id: str, user_ids: Iterable[str]) -> None:
    conn.executemany(
        "INSERT INTO brig_group_members (group_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        [(group_id, user_id) for user_id in user_ids],
    )


def _row(row: Sequence[Any]) -> Row:
    return Row(row_to_group(row), int(row[6]))
