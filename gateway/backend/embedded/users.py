"""
The embedded backend's users as units of work over a `Connection` (gateway/db/dialect.py). It
follows brig's rules that matter to SCIM: handles unique across teams, invited users pending until
they accept, suspension by `active`.

Each operation is one unit of work over a `Connection` (gateway/db/dialect.py), the same function
for both databases. Races between processes (replicas on one PostgreSQL database) are decided by
the unique constraints, whose violation becomes the same Uniqueness, and by reading a row
`FOR UPDATE` before changing it (nothing on SQLite, where a write holds the whole database).
"""

from __future__ import annotations

import dataclasses

from gateway.backend.documents import DocumentRenderer
from gateway.backend.embedded.documents import DOCUMENT_COLUMNS, document_of
from gateway.backend.embedded.memberships import lock_groups_of_user, remove_user_from_groups
from gateway.backend.sql.user_rows import UPDATED_COLUMNS, row_to_user, updated_values
from gateway.backend.sql.user_search import Window
from gateway.backend.user_attributes import STORED, USER_COLUMNS, column_values
from gateway.backend.wire_user import (
    NewUser,
    Page,
    Status,
    UserFields,
    WireUser,
    content_of,
    content_version,
    next_status,
)
from gateway.clock import now_text
from gateway.db.dialect import Connection
from gateway.scim.errors import NotFound, PreconditionFailed, Uniqueness

# A user's row with its document (documents.py): written whole at creation, all but the columns
# fixed at creation on a change.
_DOCUMENT_COLUMNS = DOCUMENT_COLUMNS.split(", ")
_INSERT = (
    f"INSERT INTO users ({USER_COLUMNS}, {DOCUMENT_COLUMNS}) "
    f"VALUES ({', '.join(['?'] * (len(STORED) + len(_DOCUMENT_COLUMNS)))})"
)
_UPDATE = f"UPDATE users SET {', '.join(f'{c} = ?' for c in (*UPDATED_COLUMNS, *_DOCUMENT_COLUMNS))} WHERE id = ?"


def ensure_team(conn: Connection, team: str) -> None:
    conn.execute("INSERT INTO teams (id, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING", (team, now_text()))


def select_user(conn: Connection, team: str, user_id: str, *, lock: bool = False) -> WireUser | None:
    """The user, or None; `lock`: for a change in this transaction (no concurrent change meanwhile)."""
    suffix = conn.dialect.for_update if lock else ""
    row = conn.execute(
        f"SELECT {USER_COLUMNS} FROM users WHERE id = ? AND team = ?{suffix}", (user_id, team)
    ).fetchone()
    return None if row is None else row_to_user(row)


def search_users(conn: Connection, team: str, window: Window) -> tuple[Page, int | None]:
    """The page of users that `window` selects, and the `seq` of its last row."""
    rows, total = window(conn, team, f"{USER_COLUMNS}, seq", ())
    users = tuple(map(row_to_user, rows))
    return Page(total, users), (rows[-1][-1] if rows else None)


def _check_unique(conn: Connection, team: str, fields: UserFields, *, user_id: str | None) -> None:
    """Wire's order: externalId first, then userName (handles are unique across teams)."""
    row = conn.execute("SELECT id FROM users WHERE team = ? AND external_id = ?", (team, fields.external_id)).fetchone()
    if row is not None and row[0] != user_id:
        raise Uniqueness(f"externalId {fields.external_id!r} is already taken by another user")
    row = conn.execute("SELECT id FROM users WHERE handle = ?", (fields.handle,)).fetchone()
    if row is not None and row[0] != user_id:
        raise Uniqueness(f"userName {fields.handle!r} is already taken")


def insert_user(conn: Connection, team: str, new: NewUser, documents: DocumentRenderer | None) -> WireUser:
    fields = new.fields
    ensure_team(conn, team)
    _check_unique(conn, team, fields, user_id=None)
    if new.idp is None:
        status: Status = "pending-invitation"
    else:
        status = "active" if fields.active else "suspended"
    now = now_text()
    user = WireUser(
        id=new.id,
        team=team,
        status=status,
        idp=new.idp,
        created=now,
        last_modified=now,
        version=content_version(fields, status),
        **content_of(fields),
    )
    try:
        conn.execute(_INSERT, (*column_values(user), *document_of(documents, user)))
    except conn.dialect.integrity_error as exc:  # a racing writer in another process
        raise _uniqueness(exc, fields) from None
    conn.execute("UPDATE teams SET user_count = user_count + 1 WHERE id = ?", (team,))
    return user


def _uniqueness(exc: Exception, fields: UserFields) -> Uniqueness:
    """The Uniqueness error for a unique constraint that a concurrent writer won."""
    # PostgreSQL names the constraint (users_handle_key); SQLite's message the column (users.handle)
    constraint = getattr(getattr(exc, "diag", None), "constraint_name", None) or str(exc)
    if "handle" in constraint:
        return Uniqueness(f"userName {fields.handle!r} is already taken")
    return Uniqueness(f"externalId {fields.external_id!r} is already taken by another user")


def update_user(
    conn: Connection,
    team: str,
    user_id: str,
    fields: UserFields,
    expected_version: str | None,
    documents: DocumentRenderer | None,
) -> WireUser:
    current = select_user(conn, team, user_id, lock=True)
    if current is None:
        raise NotFound(f"User {user_id} not found")
    if expected_version is not None and expected_version != current.version:
        raise PreconditionFailed(
            f"User {user_id} has changed (version {current.version}, If-Match {expected_version}); "
            "read it again and retry"
        )
    status = next_status(current.status, fields.active)
    version = content_version(fields, status)
    if version == current.version:
        return current
    _check_unique(conn, team, fields, user_id=user_id)
    user = dataclasses.replace(
        current,
        status=status,
        last_modified=now_text(),
        version=version,
        **content_of(fields),
    )
    try:
        conn.execute(_UPDATE, (*updated_values(user), *document_of(documents, user), user.id))
    except conn.dialect.integrity_error as exc:  # a racing writer in another process
        raise _uniqueness(exc, fields) from None
    return user


def delete_user(conn: Connection, team: str, user_id: str) -> bool:
    lock_groups_of_user(conn, user_id)  # groups, then users, then the team: as group edits lock
    deleted = conn.execute("DELETE FROM users WHERE id = ? AND team = ?", (user_id, team)).rowcount
    if deleted:
        remove_user_from_groups(conn, user_id)  # same transaction: no member outlives its user
        conn.execute("UPDATE teams SET user_count = user_count - 1 WHERE id = ?", (team,))
    return bool(deleted)


def accept_invitation(conn: Connection, team: str, user_id: str, documents: DocumentRenderer | None) -> WireUser:
    current = select_user(conn, team, user_id, lock=True)
    if current is None:
        raise NotFound(f"User {user_id} not found")
    if current.status != "pending-invitation":
        return current
    user = dataclasses.replace(
        current, status="active", last_modified=now_text(), version=content_version(current, "active")
    )
    conn.execute(
        "UPDATE users SET status = 'active', last_modified = ?, version = ?, document = ?, "
        "document_key = ?, document_stamp = ? WHERE id = ?",
        (user.last_modified, user.version, *document_of(documents, user), user_id),
    )
    return user
