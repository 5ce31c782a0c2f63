"""
The SQL of SCIM Groups that the embedded backend's tables and the brig backend's mirror share:
both keep a group as one row (`GROUP_COLUMNS`) and each member as one row keyed (group_id,
user_id) and indexed by user_id, under other table names (`GroupTables`). Units of work over a
`Connection` (gateway/db/dialect.py), for SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from gateway.backend.sql.filters import Table
from gateway.backend.user_attributes import Column, Sort
from gateway.backend.wire_group import GroupPage, GroupQuery, WireGroup
from gateway.backend.wire_user import sorted_groups
from gateway.db.dialect import Connection
from gateway.scim.schemas import GROUP_URN

GROUP_COLUMNS = "id, team, display_name, external_id, created_at, last_modified, revision, member_count"


@dataclass(frozen=True, slots=True)
class GroupTables:
    """Where one backend keeps its groups: table names go into the SQL, so they are fixed here."""

    groups: Literal["groups", "brig_groups"]
    members: Literal["group_members", "brig_group_members"]
    users: Literal["users", "brig_users"]
    count: str  # the query of a team's number of groups, taking the team


EMBEDDED_TABLES = GroupTables("groups", "group_members", "users", "SELECT group_count FROM teams WHERE id = ?")
MIRROR_TABLES = GroupTables(
    "brig_groups", "brig_group_members", "brig_users", "SELECT group_count FROM brig_group_counts WHERE team = ?"
)

GROUP_SORT_COLUMNS = MappingProxyType(
    {
        "displayname": Sort("display_name", "displayName", folded=True),
        "meta.created": Sort("created_at", "meta.created"),
        "meta.lastmodified": Sort("last_modified", "meta.lastModified"),
    }
)


def group_filter_table(tables: GroupTables) -> Table:
    """The attributes a group filter may name, over `tables`."""
    is_member = f"EXISTS (SELECT 1 FROM {tables.members} m WHERE m.group_id = {tables.groups}.id AND m.user_id = ?)"
    return Table(
        MappingProxyType(
            {
                "id": Column("id", case_exact=True),
                "displayname": Column("display_name"),
                "externalid": Column("external_id", case_exact=True),
                "members": Column(is_member, kind="exists", present="member_count > 0"),
                "members.value": Column(is_member, kind="exists", present="member_count > 0"),
                "meta.created": Column("created_at", kind="datetime", case_exact=True),
                "meta.lastmodified": Column("last_modified", kind="datetime", case_exact=True),
            }
        ),
        GROUP_URN.lower(),
        "Group",
    )


def group_version(revision: int) -> str:
    """The weak ETag of a group: its revision, bumped on every effective change."""
    return f'W/"{revision}"'


def row_to_group(row: Sequence[Any], members: tuple[str, ...] | None = None) -> WireGroup:
    """A row of GROUP_COLUMNS as a group."""
    gid, team, display_name, external_id, created, last_modified, revision, member_count = row
    return WireGroup(
        id=gid,
        team=team,
        display_name=display_name,
        external_id=external_id,
        created=created,
        last_modified=last_modified,
        version=group_version(revision),
        member_count=member_count,
        members=members,
    )


def member_ids(conn: Connection, tables: GroupTables, group_id: str) -> tuple[str, ...]:
    """The whole member list, sorted (read only to show it or to replace it)."""
    rows = conn.execute(
        f"SELECT user_id FROM {tables.members} WHERE group_id = ? ORDER BY user_id", (group_id,)
    ).fetchall()
    return tuple(row[0] for row in rows)


def search_groups(
    conn: Connection, tables: GroupTables, team: str, where: str, params: list[object], order: str, query: GroupQuery
) -> GroupPage:
    """A page of the team's groups; the unfiltered total is one counter row, members one batched query."""
    condition = "team = ?" + (f" AND {where}" if where else "")
    if where:
        total = conn.execute(f"SELECT count(*) FROM {tables.groups} WHERE {condition}", [team, *params]).fetchone()[0]
    else:
        row = conn.execute(tables.count, (team,)).fetchone()
        total = row[0] if row else 0
    if query.limit <= 0 or query.offset >= total:
        return GroupPage(total, ())
    rows = conn.execute(
        f"SELECT {GROUP_COLUMNS} FROM {tables.groups} WHERE {condition} ORDER BY {order} LIMIT ? OFFSET ?",
        [team, *params, query.limit, query.offset],
    ).fetchall()
    if not query.include_members:
        return GroupPage(total, tuple(row_to_group(row) for row in rows))
    members: dict[str, list[str]] = {row[0]: [] for row in rows}
    for group_id, user_id in conn.execute(
        f"SELECT group_id, user_id FROM {tables.members} WHERE group_id IN "
        f"(SELECT value FROM {conn.dialect.json_values}) ORDER BY group_id, user_id",
        (json.dumps(list(members)),),
    ):
        members[group_id].append(user_id)
    return GroupPage(total, tuple(row_to_group(row, tuple(members[row[0]])) for row in rows))


def groups_of_user(conn: Connection, tables: GroupTables, user_id: str) -> tuple[tuple[str, str], ...]:
    """The (id, displayName) groups of one user, sorted: one indexed query."""
    rows = conn.execute(
        f"SELECT g.id, g.display_name FROM {tables.members} m JOIN {tables.groups} g ON g.id = m.group_id "
        "WHERE m.user_id = ?",
        (user_id,),
    ).fetchall()
    return sorted_groups(rows) if rows else ()


def groups_of_users(
    conn: Connection, tables: GroupTables, user_ids: Sequence[str]
) -> dict[str, tuple[tuple[str, str], ...]]:
    """The sorted (id, displayName) groups of each of `user_ids` that is in any: one batched query."""
    if not user_ids:
        return {}
    rows = conn.execute(
        f"SELECT m.user_id, g.id, g.display_name FROM {tables.members} m JOIN {tables.groups} g "
        f"ON g.id = m.group_id WHERE m.user_id IN (SELECT value FROM {conn.dialect.json_values})",
        (json.dumps(list(user_ids)),),
    ).fetchall()
    by_user: dict[str, list[tuple[str, str]]] = {}
    for user_id, group_id, name in rows:
        by_user.setdefault(user_id, []).append((group_id, name))
    return {user_id: sorted_groups(found) for user_id, found in by_user.items()}


def team_ids_among(
    conn: Connection,
    table: Literal["users", "groups", "brig_users", "brig_groups"],
    team: str,
    ids: Collection[str],
    *,
    suffix: str = "",
) -> set[str]:
    """
    Which of `ids` are rows of `table` (users, groups or their brig mirrors) in `team`: one probe
    of the unique id index per id, the team compared here. Not `WHERE team = ? AND id IN (...)`:
    SQLite plans that as a walk over the team's rows, so adding one member cost 20 ms at 100k
    users (bench group-member-patch).
    """
    if not ids:
        return set()
    rows = conn.execute(
        f"SELECT id, team FROM {table} WHERE id IN (SELECT value FROM {conn.dialect.json_values}){suffix}",
        (json.dumps(list(ids)),),
    )
    return {row_id for row_id, row_team in rows if row_team == team}
