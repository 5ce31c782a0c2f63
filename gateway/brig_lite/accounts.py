"""
brig's and galley's rules for accounts, invitations, email keys and team members, as SQL on one
connection: each function is one unit of work for SqliteDatabase.read/write (a write is one
transaction) and raises WireError with brig's status and label. No I/O besides the connection,
no clock of its own: `now` (ISO text) and `now_ts` (Unix seconds) come from the caller.

What the tables stand for, as in wire-server:
- `accounts`: brig's users. Deleted accounts stay as tombstones (status "deleted", handle, email
  key and rich info released), as brig's deleteAccount leaves them.
- `team_members`: galley's team members. A SCIM invitee is none until it accepts (BU
  createUserInviteViaScim adds no member; the member is added by acceptInvitationToTeam).
- `invitations`: brig's team invitations (Brig/Team/API.hs createInvitationViaScim), holding the
  invited role; an invitation lives until it is accepted or expires.
- `email_keys`: brig's user keys (UserKeyStore.hs): an address is claimed by the account that
  activated it; pending invitees and unvalidated addresses claim none.

(BU = services/brig/src/Brig/API/User.hs, BI = services/brig/src/Brig/API/Internal.hs.)
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, replace

from gateway.brig_lite.wire_json import Account, WireError, email_key

HANDLE = re.compile(r"[a-z0-9_.-]{2,256}")
# libs/wire-subsystems/src/Wire/UserSubsystem/HandleBlacklist.hs
RESERVED_HANDLES = frozenset(
    "account admin administrator all android anna avs backend bot cs design dev developer "
    "development everyone help helpdesk hr info ios legal management news otto payment product "
    "purchase qa support team user web wire wirebot wireteam".split()
)

_COLUMNS = "id, name, handle, email, email_unvalidated, status, locale, team, sso_id, managed_by, rich_info, created_at"

KEY_EXISTS = (409, "key-exists", "The given e-mail address is in use.")  # Wire/API/Error/Brig.hs, UserKeyExists
EMAIL_EXISTS = (409, "email-exists", "The given e-mail address is in use.")  # EmailExists
TOO_MANY_MEMBERS = (403, "too-many-team-members", "Too many members in this team.")
NOT_FOUND = "not-found"


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


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    max_team_size: int
    rich_info_chars: int


def check_handle(handle: object) -> str:
    if not isinstance(handle, str) or not HANDLE.fullmatch(handle) or handle in RESERVED_HANDLES:
        raise WireError(400, "invalid-handle", "The given handle is invalid.")
    return handle


def valid_name(name: object) -> bool:
    """Wire's Name (mkName): 1 to 128 characters."""
    return isinstance(name, str) and 1 <= len(name) <= 128


def check_name(name: object) -> str:
    if not valid_name(name):
        raise WireError(400, "bad-request", "Error in $: name must be 1 to 128 characters")
    assert isinstance(name, str)
    return name


def purge_expired(conn: sqlite3.Connection, now_ts: float) -> None:
    """
    Expired invitations go; a user still pending when its invitation expired is deleted (a
    tombstone), as brig's pendingActivationCleanup (services/brig/src/Brig/Run.hs) and the
    garbage collection in `GET /i/users` (UserSubsystem/Interpreter.hs, getAccountsByImpl) do.
    A pending user forced active through the status route is left alone (so is it in brig).
    """
    expired = [
        row[0]
        for row in conn.execute(
            "SELECT a.id FROM accounts AS a JOIN invitations AS i ON i.user = a.id "
            "WHERE i.expires_at <= ? AND a.status = 'pending-invitation'",
            (now_ts,),
        )
    ]
    conn.execute("DELETE FROM invitations WHERE expires_at <= ?", (now_ts,))
    for user_id in expired:
        _tombstone(conn, user_id)


def _row_to_account(row: tuple[object, ...]) -> Account:
    names = [c.strip() for c in _COLUMNS.split(",")]
    return Account(**dict(zip(names, row, strict=True)))  # type: ignore[arg-type]  # columns are Account's fields


def get_account(conn: sqlite3.Connection, user_id: str) -> Account | None:
    """The account (tombstones included), or None when there is none."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM accounts WHERE id = ?", (user_id,)).fetchone()
    return None if row is None else _row_to_account(row)


def live_account(conn: sqlite3.Connection, user_id: str, label: str = NOT_FOUND) -> Account:
    """The account unless it is missing or deleted: 404 with `label`."""
    account = get_account(conn, user_id)
    if account is None or account.status == "deleted":
        raise WireError(404, label, f"User {user_id} not found")
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
    """
    `GET /i/users` (BI listActivatedAccountsH): the accounts with these ids or handles (pending
    ones only with include_pending), then the owners of these email keys (getAccountsByEmailNoFilter:
    only an activated address finds its account), each part without duplicates but not the two
    together, deleted accounts left out. A pending user whose invitation has expired is left out
    too (getAccountsByImpl, garbageCollect; purge_expired deletes it at the next write).
    """
    by_keys: dict[str, Account] = {}
    for column, values in (("id", ids), ("handle", handles)):
        for account in _select_in(conn, column, values):
            pending = account.status == "pending-invitation"
            if pending and (not include_pending or not _invited(conn, account.id, now_ts)):
                continue
            by_keys.setdefault(account.id, account)
    owners = list(dict.fromkeys(owner for email in emails if (owner := key_owner(conn, email)) is not None))
    by_email = {a.id: a for a in _select_in(conn, "id", owners)}
    found = [*by_keys.values(), *(by_email[o] for o in owners if o in by_email)]
    return [account for account in found if account.status != "deleted"]


def _invited(conn: sqlite3.Connection, user_id: str, now_ts: float) -> bool:
    row = conn.execute("SELECT 1 FROM invitations WHERE user = ? AND expires_at > ?", (user_id, now_ts)).fetchone()
    return row is not None


def _select_in(conn: sqlite3.Connection, column: str, values: Sequence[str]) -> list[Account]:
    out: list[Account] = []
    for start in range(0, len(values), 500):
        chunk = list(values[start : start + 500])
        marks = ", ".join("?" * len(chunk))
        rows = conn.execute(f"SELECT {_COLUMNS} FROM accounts WHERE {column} IN ({marks}) ORDER BY seq", chunk)
        out.extend(_row_to_account(row) for row in rows)
    return out


def handle_taken(conn: sqlite3.Connection, handle: str) -> bool:
    return conn.execute("SELECT 1 FROM accounts WHERE handle = ?", (handle,)).fetchone() is not None


# -- email keys (libs/wire-subsystems/src/Wire/UserKeyStore.hs and UserKeyStore/Cassandra.hs)


def key_owner(conn: sqlite3.Connection, email: str) -> str | None:
    """The account that claimed this address's key (lookupKey), if any."""
    row = conn.execute("SELECT user FROM email_keys WHERE key = ?", (email_key(email),)).fetchone()
    return None if row is None else str(row[0])


def key_available(conn: sqlite3.Connection, email: str, user_id: str | None) -> bool:
    """keyAvailableImpl: unclaimed, or claimed by `user_id` (an owner is always activated here)."""
    owner = key_owner(conn, email)
    return owner is None or owner == user_id


def claim_key(conn: sqlite3.Connection, email: str, user_id: str) -> None:
    """Claim the address for `user_id` (its old key released): 409 `key-exists` if another holds it."""
    if not key_available(conn, email, user_id):
        raise WireError(*KEY_EXISTS)
    conn.execute("DELETE FROM email_keys WHERE user = ?", (user_id,))
    conn.execute("INSERT INTO email_keys (key, user) VALUES (?, ?)", (email_key(email), user_id))


# -- creation


def _insert_account(conn: sqlite3.Connection, new: NewAccount, now: str) -> Account:
    if conn.execute("SELECT 1 FROM accounts WHERE id = ?", (new.id,)).fetchone() is not None:
        # brig-lite's own guard: brig would overwrite the row (spar always sends a fresh id).
        raise WireError(409, "user-exists", f"User {new.id} already exists")
    conn.execute(
        "INSERT INTO accounts (id, name, handle, email, status, locale, team, sso_id, managed_by, "
        "rich_info, password, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        ),
    )
    account = get_account(conn, new.id)
    assert account is not None
    return account


def _add_member(conn: sqlite3.Connection, team: str, user_id: str, permissions: int, limits: Limits, now: str) -> None:
    """galley's addTeamMember: False (403 too-many-team-members here) when the team is full."""
    (members,) = conn.execute("SELECT count(*) FROM team_members WHERE team = ?", (team,)).fetchone()
    if members >= limits.max_team_size:
        raise WireError(*TOO_MANY_MEMBERS)
    conn.execute(
        "INSERT INTO team_members (team, user, permissions, created_at) VALUES (?, ?, ?, ?)",
        (team, user_id, permissions, now),
    )


def create_member(conn: sqlite3.Connection, new: NewAccount, limits: Limits, now: str) -> Account:
    """An active team member with an activated email (brig-lite's add-member seed): claims the key."""
    assert new.email is not None and new.handle is None
    if not key_available(conn, new.email, new.id):
        raise WireError(KEY_EXISTS[0], KEY_EXISTS[1], f"{new.email} is already in use")
    account = _insert_account(conn, new, now)
    _add_member(conn, new.team, new.id, new.permissions, limits, now)
    claim_key(conn, new.email, new.id)
    return account


def create_spar_user(conn: sqlite3.Connection, new: NewAccount, limits: Limits, now: str) -> tuple[Account, bool]:
    """
    BU createUserSpar: the account (rich info stored without brig's size limit), then the galley
    member with the role, activated; the handle last. Returns (account, handle_refused): a taken
    handle fails the call only after all that was done, so the account stays, without a handle,
    and the caller answers 409 `handle-exists` once this transaction is committed.
    """
    (members,) = conn.execute("SELECT count(*) FROM team_members WHERE team = ?", (new.team,)).fetchone()
    if members >= limits.max_team_size:  # brig-lite checks before creating (brig: after, see report)
        raise WireError(*TOO_MANY_MEMBERS)
    account = _insert_account(conn, _without_handle(new), now)
    _add_member(conn, new.team, new.id, new.permissions, limits, now)
    if new.handle is None:
        return account, False
    if handle_taken(conn, new.handle):
        return account, True
    conn.execute("UPDATE accounts SET handle = ? WHERE id = ?", (new.handle, new.id))
    return get_account(conn, new.id) or account, False


def _without_handle(new: NewAccount) -> NewAccount:
    return replace(new, handle=None)


def create_invitation(
    conn: sqlite3.Connection, new: NewAccount, limits: Limits, now: str, expires_at: float
) -> Account | None:
    """
    `POST /i/teams/:tid/invitations` (Brig/Team/API.hs createInvitationViaScim):

    1. the invitation subsystem (TeamInvitationSubsystem/Interpreter.hs, createInvitation'): an
       address whose key is held by an account that is active and without a team passes on (an
       "existing user" invitation); held by any other live account: 409 `email-exists`; then 403
       `too-many-team-invitations` when the team has max_team_size pending invitations; then the
       invitation row, with the invited role;
    2. BU createUserInviteViaScim: 409 `key-exists` if an activated account holds the key (so
       the row of step 1 stays: None is returned, and the caller raises that error after the
       commit), else the pending-invitation account. No galley member, no key claimed.
    """
    assert new.email is not None
    owner_id = key_owner(conn, new.email)
    owner = None if owner_id is None else get_account(conn, owner_id)
    existing_user = owner is not None and owner.status == "active" and owner.team is None
    if owner is not None and owner.status != "deleted" and not existing_user:
        raise WireError(*EMAIL_EXISTS)
    (pending,) = conn.execute("SELECT count(*) FROM invitations WHERE team = ?", (new.team,)).fetchone()
    if pending >= limits.max_team_size:
        raise WireError(403, "too-many-team-invitations", "Too many team invitations for this team")
    conn.execute(
        "INSERT OR REPLACE INTO invitations (user, team, permissions, email, name, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (new.id, new.team, new.permissions, new.email, new.name, now, expires_at),
    )
    if existing_user:
        return None
    return _insert_account(conn, new, now)


def accept_invitation(
    conn: sqlite3.Connection, user_id: str, *, name: str | None, locale: str | None, limits: Limits
) -> Account:
    """
    The invitee registers (BU createUser, acceptInvitationToTeam): the email key is claimed (409
    `key-exists` if an activated account took it meanwhile), the galley member is added with the
    invited role, the account is activated with the name and locale it registered, and the
    invitation is gone. Not a Wire route: brig-lite's stand-in for the invitee's own sign-up.
    """
    account = live_account(conn, user_id)
    row = conn.execute("SELECT team, permissions, created_at FROM invitations WHERE user = ?", (user_id,)).fetchone()
    if account.status != "pending-invitation" or row is None:
        raise WireError(409, "no-pending-invitation", f"User {user_id} has no pending invitation")
    team, permissions, created_at = row
    assert account.email is not None
    claim_key(conn, account.email, user_id)
    _add_member(conn, team, user_id, permissions, limits, created_at)
    conn.execute(
        "UPDATE accounts SET status = 'active', expires_at = NULL, name = ?, locale = ? WHERE id = ?",
        (name or account.name, locale or account.locale, user_id),
    )
    conn.execute("DELETE FROM invitations WHERE user = ?", (user_id,))
    accepted = get_account(conn, user_id)
    assert accepted is not None
    return accepted


# -- updates


_SETTABLE = frozenset({"name", "managed_by", "sso_id", "rich_info", "locale", "status"})


def set_field(conn: sqlite3.Connection, user_id: str, column: str, value: object) -> bool:
    """One column of an account, tombstones included; False when there is no such account."""
    assert column in _SETTABLE, column
    cursor = conn.execute(f"UPDATE accounts SET {column} = ? WHERE id = ?", (value, user_id))
    return cursor.rowcount > 0


def set_sso_id(conn: sqlite3.Connection, user_id: str, sso_id: str) -> bool:
    """UserStore/Cassandra.hs updateSSOIdImpl: only a user with a team (False: brig's 404)."""
    cursor = conn.execute("UPDATE accounts SET sso_id = ? WHERE id = ? AND team IS NOT NULL", (sso_id, user_id))
    return cursor.rowcount > 0


def check_rich_info_size(fields: list[tuple[str, str]], limits: Limits) -> None:
    size = sum(len(t) + len(v) for t, v in fields)
    if size > limits.rich_info_chars:
        raise WireError(
            413,
            "too-large-rich-info",
            f"Rich info has exceeded its limit: {size} of {limits.rich_info_chars} characters",
        )


def set_handle(conn: sqlite3.Connection, user_id: str, handle: str) -> None:
    """
    UserSubsystem updateHandle: 403 `no-identity` for a user brig does not find (the fidelity
    reading of wire-server, "An unknown user answers differently per route"); 409 `handle-exists`.
    """
    account = get_account(conn, user_id)
    if account is None or account.status == "deleted":
        raise WireError(403, "no-identity", "The user has no verified email")
    if account.handle == handle:
        return
    if handle_taken(conn, handle):
        raise WireError(409, "handle-exists", "The given handle is already taken")
    conn.execute("UPDATE accounts SET handle = ? WHERE id = ?", (handle, user_id))


def set_email(conn: sqlite3.Connection, user_id: str, email: str, *, activate: bool) -> int:
    """
    `PUT /i/self/email` (UserSubsystem.hs createEmailChangeToken, requestEmailChange; BI
    changeSelfEmailMaybeSend): 409 `key-exists` when another account holds the key (checked
    first), 404 for an unknown user, 204 when the address is already the user's email (exactly),
    else with `activate` the key is claimed and the email set (204), without it the address waits
    in email_unvalidated, claiming nothing (202).
    """
    if not key_available(conn, email, user_id):
        raise WireError(*KEY_EXISTS)
    account = get_account(conn, user_id)
    if account is None:
        raise WireError(404, "not-found", "User not found")
    if account.email == email:
        return 204
    if activate:
        claim_key(conn, email, user_id)
        conn.execute("UPDATE accounts SET email = ?, email_unvalidated = NULL WHERE id = ?", (email, user_id))
        return 204
    conn.execute("UPDATE accounts SET email_unvalidated = ? WHERE id = ?", (email, user_id))
    return 202


def _tombstone(conn: sqlite3.Connection, user_id: str) -> None:
    conn.execute(
        "UPDATE accounts SET status = 'deleted', handle = NULL, email = NULL, "
        "email_unvalidated = NULL, sso_id = NULL, rich_info = '[]', password = NULL, "
        "expires_at = NULL WHERE id = ?",
        (user_id,),
    )
    conn.execute("DELETE FROM team_members WHERE user = ?", (user_id,))
    conn.execute("DELETE FROM user_group_members WHERE user = ?", (user_id,))  # Wire: removeUserFromAllGroups
    conn.execute("DELETE FROM email_keys WHERE user = ?", (user_id,))
    conn.execute("DELETE FROM invitations WHERE user = ?", (user_id,))


def delete_account(conn: sqlite3.Connection, user_id: str) -> int:
    """`DELETE /i/users/:uid`: 202 deleted now (and out of its user groups), 200 already deleted, 404 none."""
    account = get_account(conn, user_id)
    if account is None:
        return 404
    if account.status == "deleted":
        return 200
    _tombstone(conn, user_id)
    return 202


def password_hash(conn: sqlite3.Connection, user_id: str) -> tuple[Account, str | None]:
    account = live_account(conn, user_id)
    row = conn.execute("SELECT password FROM accounts WHERE id = ?", (user_id,)).fetchone()
    return account, row[0]


def get_member(conn: sqlite3.Connection, team: str, user_id: str) -> tuple[int, str | None, str]:
    """(permissions, created_by, created_at) of a team member; 404 `no-team-member` (TeamMemberNotFound)."""
    row = conn.execute(
        "SELECT permissions, created_by, created_at FROM team_members WHERE team = ? AND user = ?",
        (team, user_id),
    ).fetchone()
    if row is None:
        raise WireError(404, "no-team-member", "Team member not found")
    return row[0], row[1], row[2]


def set_member_permissions(conn: sqlite3.Connection, team: str, user_id: str, permissions: int) -> None:
    get_member(conn, team, user_id)
    conn.execute("UPDATE team_members SET permissions = ? WHERE team = ? AND user = ?", (permissions, team, user_id))
