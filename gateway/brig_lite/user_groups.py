"""
brig's user groups as SQL on one connection, as accounts.py does for accounts: each function is
one unit of work for SqliteDatabase.read/write and raises WireError with brig's status and label
(libs/wire-api/src/Wire/API/Error/Brig.hs): 404 `user-group-not-found`, 403
`user-group-managed-by-mismatch`, 400 `user-group-invalid` (UserGroupMemberIsNotInTheSameTeam).

The rules are those of libs/wire-subsystems/src/Wire/UserGroupSubsystem/Interpreter.hs (UGI):
- create (createUserGroupFullImpl, guardMembersInTeam) checks brig's user profiles: every member
  must be a user of the group's team that is not a pending invitee (getLocalUserProfiles leaves
  those out); a deleted user's tombstone still has its team and passes;
- update (resetUserGroupInternal) renames first (updateGroupNoAccessControl: 404 for an unknown
  group), then checks every member against galley's team members (updateUsersNoAccessControl:
  pending invitees and deleted users are none) and replaces the member list; no managed-by check;
- delete managed (deleteGroupManagedImpl): an unknown group is fine (idempotent), another
  manager is 403.
A deleted user leaves its groups (accounts.py, removeUserFromAllGroups).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence

from gateway.brig_lite.wire_json import UserGroup, WireError

MAX_NAME = 4000  # Wire's UserGroupName: 1 to 4000 characters
MANAGED_BY = ("wire", "scim")
_CHUNK = 500  # ids per IN (...) list

NOT_FOUND = (404, "user-group-not-found", "User group not found")
MANAGED_BY_MISMATCH = (403, "user-group-managed-by-mismatch", "User group is not managed by the expected system")
NOT_IN_TEAM = (400, "user-group-invalid", "Only team members of the same team can be added to a user group.")


def check_name(name: object) -> str:
    """A UserGroupName: a string of 1 to 4000 characters."""
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME:
        raise WireError(400, "bad-request", f"name must be a string of 1 to {MAX_NAME} characters")
    return name


def check_members(value: object, *, dedupe: bool = True) -> tuple[str, ...]:
    """A JSON list of user ids (UUIDs), in their first order; duplicates dropped unless `dedupe` is False."""
    if not isinstance(value, list):
        raise WireError(400, "bad-request", "members must be a list of user ids")
    ids: list[str] = []
    for item in value:
        try:
            ids.append(str(uuid.UUID(str(item))))
        except ValueError:
            raise WireError(400, "bad-request", "members must be a list of user ids") from None
    return tuple(dict.fromkeys(ids)) if dedupe else tuple(ids)


def create_group(
    conn: sqlite3.Connection, *, team: str, name: str, managed_by: str, members: Sequence[str], now: str
) -> UserGroup:
    """`POST /i/user-groups/full`: a new group (brig chooses its id) with its members (UGI createUserGroupFullImpl)."""
    _check_profiles_in_team(conn, team, members)
    group = UserGroup(
        id=str(uuid.uuid4()),
        team=team,
        name=name,
        managed_by=managed_by,
        created_at=now,
        members=tuple(sorted(members)),
    )
    conn.execute(
        "INSERT INTO user_groups (id, team, name, managed_by, created_at) VALUES (?, ?, ?, ?, ?)",
        (group.id, team, name, managed_by, now),
    )
    conn.executemany(
        "INSERT INTO user_group_members (group_id, user) VALUES (?, ?)", [(group.id, m) for m in group.members]
    )
    return group


def get_group(conn: sqlite3.Connection, team: str, group_id: str) -> UserGroup | None:
    """The team's group with its members, or None (brig answers `null` then)."""
    row = conn.execute(
        "SELECT id, team, name, managed_by, created_at FROM user_groups WHERE id = ? AND team = ?",
        (group_id, team),
    ).fetchone()
    if row is None:
        return None
    return _group(row, _members_of(conn, [group_id])[group_id])


def list_groups(
    conn: sqlite3.Connection,
    team: str,
    *,
    name_contains: str | None,
    managed_by: str | None,
    start: int,
    count: int,
) -> tuple[list[UserGroup], int]:
    """
    `GET /i/user-groups/:tid`: (the page, how many match) of the team's groups whose name contains
    `name_contains` (ignoring case), managed by `managed_by`, in creation order, from the 0-based
    `start`.
    """
    where, params = "team = ?", [team]
    if name_contains:
        where += " AND instr(lower(name), lower(?)) > 0"
        params.append(name_contains)
    if managed_by is not None:
        where += " AND managed_by = ?"
        params.append(managed_by)
    (total,) = conn.execute(f"SELECT count(*) FROM user_groups WHERE {where}", params).fetchone()
    rows = conn.execute(
        f"SELECT id, team, name, managed_by, created_at FROM user_groups WHERE {where} ORDER BY seq LIMIT ? OFFSET ?",
        [*params, count, start],
    ).fetchall()
    members = _members_of(conn, [row[0] for row in rows])
    return [_group(row, members[row[0]]) for row in rows], total


def rename_group(conn: sqlite3.Connection, team: str, group_id: str, name: str) -> None:
    """The rename of `PUT /i/user-groups` (UGI updateGroupNoAccessControl): 404 for an unknown group."""
    _existing(conn, team, group_id)
    conn.execute("UPDATE user_groups SET name = ? WHERE id = ?", (name, group_id))


def replace_members(conn: sqlite3.Connection, team: str, group_id: str, members: Sequence[str]) -> None:
    """
    The member list of `PUT /i/user-groups` (UGI updateUsersNoAccessControl): 404 for an unknown
    group, 400 `user-group-invalid` unless every id is a galley member of the team; a duplicate id
    hits the store's primary key, a 500 in brig.
    """
    _existing(conn, team, group_id)
    _check_in_team(conn, team, members)
    if len(set(members)) != len(members):
        raise WireError(500, "server-error", "Server Error")
    conn.execute("DELETE FROM user_group_members WHERE group_id = ?", (group_id,))
    conn.executemany("INSERT INTO user_group_members (group_id, user) VALUES (?, ?)", [(group_id, m) for m in members])


def delete_group(conn: sqlite3.Connection, team: str, group_id: str, managed_by: str) -> None:
    """`DELETE /i/user-groups/:tid/:gid/managed/<managed_by>` (UGI deleteGroupManagedImpl): unknown is fine; 403."""
    row = conn.execute("SELECT managed_by FROM user_groups WHERE id = ? AND team = ?", (group_id, team)).fetchone()
    if row is None:
        return
    if row[0] != managed_by:
        raise WireError(*MANAGED_BY_MISMATCH)
    conn.execute("DELETE FROM user_group_members WHERE group_id = ?", (group_id,))
    conn.execute("DELETE FROM user_groups WHERE id = ?", (group_id,))


def _existing(conn: sqlite3.Connection, team: str, group_id: str) -> tuple[str, str, str, str, str]:
    row = conn.execute(
        "SELECT id, team, name, managed_by, created_at FROM user_groups WHERE id = ? AND team = ?",
        (group_id, team),
    ).fetchone()
    if row is None:
        raise WireError(*NOT_FOUND)
    return row


def _check_profiles_in_team(conn: sqlite3.Connection, team: str, members: Sequence[str]) -> None:
    """400 `user-group-invalid` unless every id is a user of `team` with a profile (not pending; tombstones pass)."""
    profiles = "SELECT id FROM accounts WHERE team = ? AND status != 'pending-invitation' AND id"
    _require_all(conn, profiles, team, members)


def _check_in_team(conn: sqlite3.Connection, team: str, members: Sequence[str]) -> None:
    """400 `user-group-invalid` unless every id is a galley member of `team`."""
    _require_all(conn, "SELECT user FROM team_members WHERE team = ? AND user", team, members)


def _require_all(conn: sqlite3.Connection, select: str, team: str, members: Sequence[str]) -> None:
    """400 `user-group-invalid` unless `select` (ending in the id column) `IN (...)` finds every member."""
    found: set[str] = set()
    for start in range(0, len(members), _CHUNK):
        chunk = list(members[start : start + _CHUNK])
        marks = ", ".join("?" * len(chunk))
        found.update(row[0] for row in conn.execute(f"{select} IN ({marks})", [team, *chunk]))
    if any(member not in found for member in members):
        raise WireError(*NOT_IN_TEAM)


def _members_of(conn: sqlite3.Connection, group_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """{group id: its member ids, sorted} for these groups (one query per chunk)."""
    members: dict[str, list[str]] = {group_id: [] for group_id in group_ids}
    for start in range(0, len(group_ids), _CHUNK):
        chunk = list(group_ids[start : start + _CHUNK])
        for group_id, user in conn.execute(
            f"SELECT group_id, user FROM user_group_members WHERE group_id IN ({', '.join('?' * len(chunk))}) "
            "ORDER BY group_id, user",
            chunk,
        ):
            members[group_id].append(user)
    return {group_id: tuple(users) for group_id, users in members.items()}


def _group(row: tuple[str, str, str, str, str], members: tuple[str, ...]) -> UserGroup:
    group_id, team, name, managed_by, created_at = row
    return UserGroup(id=group_id, team=team, name=name, managed_by=managed_by, created_at=created_at, members=members)
