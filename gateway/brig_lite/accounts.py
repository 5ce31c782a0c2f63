"""
brig's and galley's rules for accounts and team members, as SQL on one connection: each function
is one unit of work for SqliteDatabase.read/write (a write is one transaction) and raises
WireError with brig's status and label. No I/O besides the connection, no clock of its own:
`now` (ISO text) and `now_ts` (Unix seconds) come from the caller.

Deleted accounts stay as tombstones (status "deleted", handle and email released), as in brig;
pending invitations older than their expiry vanish completely, as brig's garbage collection does.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.brig_lite.wire_json import Account, WireError

HANDLE = re.compile(r"[a-z0-9_.-]{2,256}")
# libs/wire-subsystems/src/Wire/UserSubsystem/HandleBlacklist.hs
RESERVED_HANDLES = frozenset(
    "account admin administrator all android anna avs backend bot cs design dev developer "
    "development everyone help helpdesk hr info ios legal management news otto payment product "
    "purchase qa support team user web wire wirebot wireteam".split()
)

_COLUMNS = "id, name, handle, email, email_unvalidated, status, locale, team, sso_id, managed_by, rich_info, created_at"
_LIVE = "(expires_at IS NULL OR expires_at > ?)"


@dataclass(frozen=True, slots=True, kw_only=True)
class NewAccount:
    """An account to create (NewUserSpar, NewUserScimInvitation or add-member)."""

    id: str
    team: str
    name: str
    status: str
    locale: str
    permissions: int
    managed_by: str = "wire"
    handle: str | None = None
    email: str | None = None
    sso_id: str | None = None
    rich_info: str = "[]"
    password: str | None = None
    expires_at: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    max_team_size: int
    unique_emails: bool
    rich_info_chars: int


def check_handle(handle: object) -> str:
    if not isinstance(handle, str) or not HANDLE.fullmatch(handle) or handle in RESERVED_HANDLES:
        raise WireError(400, "invalid-handle", "The given handle is invalid.")
    return handle


def check_name(name: object) -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= 128:
        raise WireError(400, "bad-request", "name must be 1 to 128 characters")
    return name


def purge_expired(conn: sqlite3.Connection, now_ts: float) -> None:
    """Pending invitations past their expiry vanish (brig's garbage collection), groups included."""
    for table in ("team_members", "user_group_members"):
        conn.execute(
            f"DELETE FROM {table} WHERE user IN "
            "(SELECT id FROM accounts WHERE expires_at IS NOT NULL AND expires_at <= ?)",
            (now_ts,),
        )
    conn.execute("DELETE FROM accounts WHERE expires_at IS NOT NULL AND expires_at <= ?", (now_ts,))


def _row_to_account(row: tuple[object, ...]) -> Account:
    names = [c.strip() for c in _COLUMNS.split(",")]
    return Account(**dict(zip(names, row, strict=True)))  # type: ignore[arg-type]  # columns are Account's fields


def get_account(conn: sqlite3.Connection, user_id: str, now_ts: float) -> Account | None:
    """The account (tombstones included), or None when there is none or it expired."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM accounts WHERE id = ? AND {_LIVE}", (user_id, now_ts)).fetchone()
    return None if row is None else _row_to_account(row)


def live_account(conn: sqlite3.Connection, user_id: str, now_ts: float) -> Account:
    """The account unless it is missing, expired or deleted: 404 `not-found`."""
    account = get_account(conn, user_id, now_ts)
    if account is None or account.status == "deleted":
        raise WireError(404, "not-found", f"User {user_id} not found")
    return account


def find_accounts(
    conn: sqlite3.Connection,
    *,
    ids: Sequence[str],
    handles: Sequence[str],
    emails: Sequence[str],
    include_pending: bool,
    now_ts: float,
) -> list[Account]:
    """`GET /i/users`: the live accounts with any of these ids, handles or emails (deleted left out)."""
    found: dict[str, Account] = {}
    for column, values in (("id", ids), ("handle", handles), ("email", emails)):
        for start in range(0, len(values), 500):
            chunk = list(values[start : start + 500])
            marks = ", ".join("?" * len(chunk))
            collate = " COLLATE NOCASE" if column == "email" else ""
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM accounts WHERE {column}{collate} IN ({marks}) "
                f"AND status != 'deleted' AND {_LIVE} ORDER BY seq",
                [*chunk, now_ts],
            ).fetchall()
            for row in rows:
                account = _row_to_account(row)
                if include_pending or account.status != "pending-invitation":
                    found.setdefault(account.id, account)
    return list(found.values())


def handle_taken(conn: sqlite3.Connection, handle: str, now_ts: float) -> bool:
    row = conn.execute(f"SELECT 1 FROM accounts WHERE handle = ? AND {_LIVE}", (handle, now_ts)).fetchone()
    return row is not None


def _check_email_free(conn: sqlite3.Connection, email: str, user_id: str, limits: Limits) -> None:
    if not limits.unique_emails:
        return
    row = conn.execute(
        "SELECT 1 FROM accounts WHERE id != ? AND status != 'deleted' AND "
        "(email = ? COLLATE NOCASE OR email_unvalidated = ? COLLATE NOCASE)",
        (user_id, email, email),
    ).fetchone()
    if row is not None:
        raise WireError(409, "email-exists", "The given e-mail address is in use.")


def create_account(conn: sqlite3.Connection, new: NewAccount, limits: Limits, now: str) -> Account:
    """Insert an account and its team membership; brig's checks first."""
    if conn.execute("SELECT 1 FROM accounts WHERE id = ?", (new.id,)).fetchone() is not None:
        raise WireError(409, "user-exists", f"User {new.id} already exists")
    if new.handle is not None and conn.execute("SELECT 1 FROM accounts WHERE handle = ?", (new.handle,)).fetchone():
        raise WireError(409, "handle-exists", "The given handle is already taken.")
    if new.email is not None:
        _check_email_free(conn, new.email, new.id, limits)
    (members,) = conn.execute("SELECT count(*) FROM team_members WHERE team = ?", (new.team,)).fetchone()
    if members >= limits.max_team_size:
        raise WireError(403, "too-many-team-members", "Too many members in this team.")
    conn.execute(
        "INSERT INTO accounts (id, name, handle, email, status, locale, team, sso_id, managed_by, "
        "rich_info, password, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            new.id,
            new.name,
            new.handle,
            new.email,
            new.status,
            new.locale,
            new.team,
            new.sso_id,
            new.managed_by,
            new.rich_info,
            new.password,
            now,
            new.expires_at,
        ),
    )
    conn.execute(
        "INSERT INTO team_members (team, user, permissions, created_at) VALUES (?, ?, ?, ?)",
        (new.team, new.id, new.permissions, now),
    )
    return Account(
        id=new.id,
        name=new.name,
        handle=new.handle,
        email=new.email,
        email_unvalidated=None,
        status=new.status,
        locale=new.locale,
        team=new.team,
        sso_id=new.sso_id,
        managed_by=new.managed_by,
        rich_info=new.rich_info,
        created_at=now,
    )


_SETTABLE = frozenset({"name", "managed_by", "sso_id", "rich_info", "locale", "status"})


def set_field(conn: sqlite3.Connection, user_id: str, column: str, value: object, now_ts: float) -> None:
    """One `PUT /i/users/:uid/<field>` (name, managed-by, sso-id, rich-info, locale, status)."""
    assert column in _SETTABLE, column
    live_account(conn, user_id, now_ts)
    conn.execute(f"UPDATE accounts SET {column} = ? WHERE id = ?", (value, user_id))
    if column == "status" and value == "active":  # an accepted invitation no longer expires
        conn.execute("UPDATE accounts SET expires_at = NULL WHERE id = ?", (user_id,))


def check_rich_info_size(fields: list[tuple[str, str]], limits: Limits) -> None:
    size = sum(len(t) + len(v) for t, v in fields)
    if size > limits.rich_info_chars:
        raise WireError(
            413,
            "too-large-rich-info",
            f"Rich info has exceeded its limit: {size} of {limits.rich_info_chars} characters",
        )


def set_rich_info(
    conn: sqlite3.Connection, user_id: str, fields: list[tuple[str, str]], limits: Limits, now_ts: float
) -> None:
    check_rich_info_size(fields, limits)
    set_field(conn, user_id, "rich_info", json.dumps(fields, ensure_ascii=False), now_ts)


def set_handle(conn: sqlite3.Connection, user_id: str, handle: str, now_ts: float) -> None:
    account = live_account(conn, user_id, now_ts)
    if account.handle == handle:
        return
    if conn.execute("SELECT 1 FROM accounts WHERE handle = ?", (handle,)).fetchone() is not None:
        raise WireError(409, "handle-exists", "The given handle is already taken.")
    conn.execute("UPDATE accounts SET handle = ? WHERE id = ?", (handle, user_id))


def set_email(
    conn: sqlite3.Connection, user_id: str, email: str, *, activate: bool, limits: Limits, now_ts: float
) -> bool:
    """`PUT /i/self/email`: True when the address is active now (204), False when pending (202)."""
    account = live_account(conn, user_id, now_ts)
    if account.email is not None and account.email.lower() == email.lower():
        conn.execute("UPDATE accounts SET email_unvalidated = NULL WHERE id = ?", (user_id,))
        return True
    _check_email_free(conn, email, user_id, limits)
    if activate:
        conn.execute("UPDATE accounts SET email = ?, email_unvalidated = NULL WHERE id = ?", (email, user_id))
        return True
    conn.execute("UPDATE accounts SET email_unvalidated = ? WHERE id = ?", (email, user_id))
    return False


def delete_account(conn: sqlite3.Connection, user_id: str, now_ts: float) -> int:
    """`DELETE /i/users/:uid`: 202 deleted now (and out of its user groups), 200 already deleted, 404 none."""
    account = get_account(conn, user_id, now_ts)
    if account is None:
        return 404
    if account.status == "deleted":
        return 200
    conn.execute(
        "UPDATE accounts SET status = 'deleted', handle = NULL, email = NULL, "
        "email_unvalidated = NULL, sso_id = NULL, rich_info = '[]', password = NULL, "
        "expires_at = NULL WHERE id = ?",
        (user_id,),
    )
    conn.execute("DELETE FROM team_members WHERE user = ?", (user_id,))
    conn.execute("DELETE FROM user_group_members WHERE user = ?", (user_id,))  # Wire: removeUserFromAllGroups
    return 202


def password_hash(conn: sqlite3.Connection, user_id: str, now_ts: float) -> tuple[Account, str | None]:
    account = live_account(conn, user_id, now_ts)
    row = conn.execute("SELECT password FROM accounts WHERE id = ?", (user_id,)).fetchone()
    return account, row[0]


def get_member(conn: sqlite3.Connection, team: str, user_id: str) -> tuple[int, str | None, str]:
    """(permissions, created_by, created_at) of a team member; 404 `no-team-member`."""
    row = conn.execute(
        "SELECT permissions, created_by, created_at FROM team_members WHERE team = ? AND user = ?",
        (team, user_id),
    ).fetchone()
    if row is None:
        raise WireError(404, "no-team-member", "Requesting user is not a team member")
    return row[0], row[1], row[2]


def set_member_permissions(conn: sqlite3.Connection, team: str, user_id: str, permissions: int) -> None:
    get_member(conn, team, user_id)
    conn.execute("UPDATE team_members SET permissions = ? WHERE team = ? AND user = ?", (permissions, team, user_id))


def email_in_use(conn: sqlite3.Connection, email: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM accounts WHERE status != 'deleted' AND email = ? COLLATE NOCASE", (email,)
    ).fetchone()
    return row is not None
