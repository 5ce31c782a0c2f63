"""
The embedded backend's groups: SCIM Groups as Wire user groups in the gateway's database (SQLite
or PostgreSQL: one unit of work per operation serves both, see gateway/db/dialect.py).

Each member is one row of `group_members` (PRIMARY KEY (group_id, user_id) WITHOUT ROWID, plus an
index on user_id), so adding or removing one member is one indexed insert or delete (and, by the
schema's triggers, one update of the member's `users.member_of`) and never reads the member list.
`groups.member_count` and `teams.group_count` keep the counts, and `groups.revision` the version
(a weak ETag: a content hash would need the whole member list).
A list page without members reads no membership row; with members, one batched query.

Which ids may be members is the `MemberRule` the backend was given (gateway/backend/base.py;
Wire's rule, gateway/provisioning/group_members.py): this module finds, in the write itself,
which ids are users of the team and which are its groups, and stores what the rule answers.

On PostgreSQL, where writers run side by side, a change reads the group `FOR UPDATE` first (edits
of one group queue), member ids are checked `FOR KEY SHARE` (the users cannot be deleted before
the membership is committed), and a deleted user's memberships are removed with `RETURNING`, so
each group's count drops by exactly the rows this transaction removed. Members' users rows,
which the triggers update, are locked in id order (`_lock_members`), so that edits of groups
sharing members queue instead of deadlocking.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from gateway.backend.base import MemberRule
from gateway.backend.sql.groups import (
    EMBEDDED_TABLES,
    GROUP_COLUMNS,
    group_version,
    member_ids,
    row_to_group,
    team_ids_among,
)
from gateway.backend.wire_group import (
    AddMembers,
    GroupEdit,
    NewGroup,
    RemoveMembers,
    Rename,
    ReplaceMembers,
    SetExternalId,
    WireGroup,
)
from gateway.clock import now_text
from gateway.db.dialect import Connection
from gateway.scim.errors import NotFound, PreconditionFailed, Uniqueness

_TABLES = EMBEDDED_TABLES


def select_row(conn: Connection, team: str, group_id: str, *, lock: bool = False) -> tuple[Any, ...] | None:
    """The group's row, or None; `lock`: for a change in this transaction."""
    suffix = conn.dialect.for_update if lock else ""
    return conn.execute(
        f"SELECT {GROUP_COLUMNS} FROM groups WHERE id = ? AND team = ?{suffix}", (group_id, team)
    ).fetchone()


def select_group(conn: Connection, team: str, group_id: str, include_members: bool) -> WireGroup | None:
    row = select_row(conn, team, group_id)
    if row is None:
        return None
    return row_to_group(row, member_ids(conn, _TABLES, group_id) if include_members else None)


def _members_to_store(conn: Connection, team: str, user_ids: Sequence[str], rule: MemberRule) -> tuple[str, ...]:
    """
    What `rule` makes of `user_ids` given which are users of `team` and, among the others, which
    are the team's groups (InvalidValue for the rest). Costs one indexed lookup per id. The users
    found are kept from being deleted until this transaction ends (FOR KEY SHARE on PostgreSQL).
    """
    if not user_ids:
        return ()
    found = team_ids_among(conn, "users", team, user_ids, suffix=conn.dialect.for_key_share)
    missing = [user_id for user_id in user_ids if user_id not in found]
    groups = team_ids_among(conn, "groups", team, missing) if missing else set()
    return rule(user_ids, users=found, groups=groups)


def _check_external_id(conn: Connection, team: str, external_id: str | None, group_id: str) -> None:
    if external_id is None:
        return
    row = conn.execute("SELECT id FROM groups WHERE team = ? AND external_id = ?", (team, external_id)).fetchone()
    if row is not None and row[0] != group_id:
        raise Uniqueness(f"externalId {external_id!r} is already taken by another group")


def _add_members(conn: Connection, group_id: str, user_ids: Sequence[str]) -> int:
    """Insert the rows that are not there yet; returns how many were added."""
    return conn.executemany(
        "INSERT INTO group_members (group_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        [(group_id, user_id) for user_id in sorted(user_ids)],  # sorted: see _lock_members
    ).rowcount


def _remove_members(conn: Connection, group_id: str, user_ids: Sequence[str]) -> int:
    return conn.executemany(
        "DELETE FROM group_members WHERE group_id = ? AND user_id = ?",
        [(group_id, user_id) for user_id in sorted(user_ids)],  # sorted: see _lock_members
    ).rowcount


def _lock_members(conn: Connection, edits: Sequence[GroupEdit], group_id: str) -> None:
    """
    Before member edits that write more than one membership row: lock, in id order, the users
    rows they may touch (the ids they name, and the group's members if one replaces the list).
    Every change of `group_members` also updates the member's row (its `member_of`, by the
    triggers of migration 6), and two transactions that lock the same users in different orders
    deadlock on PostgreSQL: so every writer takes users rows in id order, after the groups rows it
    needs (one row, one sorted executemany, or this first). SQLite writers hold the whole database.
    """
    member_edits = [e for e in edits if isinstance(e, (AddMembers, RemoveMembers, ReplaceMembers))]
    if not conn.dialect.for_no_key_update or not member_edits:
        return
    replaces = any(isinstance(e, ReplaceMembers) for e in member_edits)
    if len(member_edits) == 1 and not replaces:
        return  # one sorted executemany takes them in order itself
    members = "id IN (SELECT user_id FROM group_members WHERE group_id = ?) OR " if replaces else ""
    conn.execute(
        f"SELECT id FROM users WHERE {members}id IN (SELECT value FROM {conn.dialect.json_values}) "
        f"ORDER BY id{conn.dialect.for_no_key_update}",
        (*([group_id] if replaces else []), json.dumps(sorted({u for e in member_edits for u in e.user_ids}))),
    ).fetchall()


def insert_group(conn: Connection, team: str, new: NewGroup, rule: MemberRule) -> WireGroup:
    conn.execute("INSERT INTO teams (id, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING", (team, now_text()))
    _check_external_id(conn, team, new.fields.external_id, new.id)
    members = _members_to_store(conn, team, new.members, rule)
    now = now_text()
    try:
        conn.execute(
            f"INSERT INTO groups ({GROUP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, 1, ?)",
            (new.id, team, new.fields.display_name, new.fields.external_id, now, now, len(members)),
        )
    except conn.dialect.integrity_error:  # a racing writer in another process
        raise Uniqueness(f"externalId {new.fields.external_id!r} is already taken by another group") from None
    _add_members(conn, new.id, members)
    conn.execute("UPDATE teams SET group_count = group_count + 1 WHERE id = ?", (team,))
    return WireGroup(
        id=new.id,
        team=team,
        display_name=new.fields.display_name,
        external_id=new.fields.external_id,
        created=now,
        last_modified=now,
        version=group_version(1),
        member_count=len(members),
        members=tuple(sorted(members)),
    )


def edit_group(
    conn: Connection,
    team: str,
    group_id: str,
    edits: Sequence[GroupEdit],
    rule: MemberRule,
    expected_version: str | None,
    include_members: bool,
) -> WireGroup:
    """
    The edits in one transaction, checked against `expected_version` (If-Match) on the row
    locked for them: the one comparison of it, made where no other writer can move it.
    """
    row = select_row(conn, team, group_id, lock=True)
    if row is None:
        raise NotFound(f"Group {group_id} not found")
    current = row_to_group(row)
    if expected_version is not None and expected_version != current.version:
        raise PreconditionFailed(
            f"Group {group_id} has changed (version {current.version}, If-Match {expected_version}); "
            "read it again and retry"
        )
    name, external_id, count = current.display_name, current.external_id, current.member_count
    changed = False
    _lock_members(conn, edits, group_id)
    for edit in edits:
        if isinstance(edit, Rename):
            changed |= edit.display_name != name
            name = edit.display_name
        elif isinstance(edit, SetExternalId):
            _check_external_id(conn, team, edit.external_id, group_id)
            changed |= edit.external_id != external_id
            external_id = edit.external_id
        else:
            delta = _edit_members(conn, team, group_id, edit, rule)
            changed |= delta != (0, 0)
            count += delta[0] - delta[1]
    if changed:
        revision, now = row[6] + 1, now_text()
        try:
            conn.execute(
                "UPDATE groups SET display_name = ?, external_id = ?, member_count = ?, revision = ?, "
                "last_modified = ? WHERE id = ?",
                (name, external_id, count, revision, now, group_id),
            )
        except conn.dialect.integrity_error:  # a racing writer in another process
            raise Uniqueness(f"externalId {external_id!r} is already taken by another group") from None
        current = dataclasses.replace(
            current,
            display_name=name,
            external_id=external_id,
            member_count=count,
            last_modified=now,
            version=group_version(revision),
        )
    if include_members:
        current = dataclasses.replace(current, members=member_ids(conn, _TABLES, group_id))
    return current


def _edit_members(
    conn: Connection,
    team: str,
    group_id: str,
    edit: AddMembers | RemoveMembers | ReplaceMembers,
    rule: MemberRule,
) -> tuple[int, int]:
    """Apply one member edit; returns (rows added, rows removed)."""
    if isinstance(edit, RemoveMembers):
        return 0, _remove_members(conn, group_id, edit.user_ids)
    members = _members_to_store(conn, team, edit.user_ids, rule)
    removed = 0
    if isinstance(edit, ReplaceMembers):
        removed = conn.execute(
            "DELETE FROM group_members "
            f"WHERE group_id = ? AND user_id NOT IN (SELECT value FROM {conn.dialect.json_values})",
            (group_id, json.dumps(list(members))),
        ).rowcount
    return _add_members(conn, group_id, members), removed


def delete_group(conn: Connection, team: str, group_id: str) -> bool:
    if select_row(conn, team, group_id, lock=True) is None:
        return False
    _lock_members(conn, [ReplaceMembers(())], group_id)  # its members, in id order
    conn.execute("DELETE FROM group_members WHERE group_id = ?", (group_id,))
    conn.execute("DELETE FROM groups WHERE id = ?", (group_id,))
    conn.execute("UPDATE teams SET group_count = group_count - 1 WHERE id = ?", (team,))
    return True
