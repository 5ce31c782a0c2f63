"""
The state the brig backend keeps in the gateway's database (spar's, docs/wire.md §6.3), as units
of work for the store's database (SQLite or PostgreSQL: portable SQL, `conn.dialect` for the rest):

- `brig_external_ids`: (team, externalId) -> user, with spar's creation marker: `creating` while
  a POST is under way, `abandoned` when it failed and the brig account may be left over (the next
  POST of that externalId deletes it first), `created` once done; and `moving` for the new
  externalId of a user whose change is under way, held beside the old one until brig holds either
  (external_id_moves.py);
- `brig_users`: the searchable mirror of each SCIM user (what filters, sorting and paging need,
  the SCIM times and the attributes only the gateway keeps);
- `brig_saml_refs`: (IdP, case-folded NameID) of SAML users.

(The mirror of the SCIM groups and their members: group_mirror.py.)
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.backend.brig.group_mirror import remove_user_from_groups
from gateway.backend.sql.user_rows import UPDATED_COLUMNS, row_to_user, updated_values
from gateway.backend.sql.user_search import MIRROR_USERS, user_window
from gateway.backend.user_attributes import STORED, USER_COLUMNS, column_values
from gateway.backend.wire_user import WireUser
from gateway.db.dialect import Connection
from gateway.scim.errors import Uniqueness

_INSERT = f"INSERT INTO brig_users ({USER_COLUMNS}) VALUES ({', '.join(['?'] * len(STORED))})"
_UPDATE = f"UPDATE brig_users SET {', '.join(f'{c} = ?' for c in UPDATED_COLUMNS)} WHERE id = ?"


@dataclass(frozen=True, slots=True)
class Claim:
    user_id: str
    state: str  # creating | abandoned | created
    claimed_at: float


def get_claim(conn: Connection, team: str, external_id: str) -> Claim | None:
    row = conn.execute(
        "SELECT user_id, state, claimed_at FROM brig_external_ids WHERE team = ? AND external_id = ?",
        (team, external_id),
    ).fetchone()
    return None if row is None else Claim(*row)


def claim(conn: Connection, team: str, external_id: str, user_id: str, now_ts: float) -> None:
    """Mark (team, externalId) `creating` for `user_id`; Uniqueness when someone holds it."""
    try:
        conn.execute(
            "INSERT INTO brig_external_ids (team, external_id, user_id, state, claimed_at) "
            "VALUES (?, ?, ?, 'creating', ?)",
            (team, external_id, user_id, now_ts),
        )
    except conn.dialect.integrity_error:
        raise Uniqueness(f"externalId {external_id!r} is already taken by another user") from None


def set_claim_state(conn: Connection, team: str, external_id: str, user_id: str, state: str) -> None:
    conn.execute(
        "UPDATE brig_external_ids SET state = ? WHERE team = ? AND external_id = ? AND user_id = ?",
        (state, team, external_id, user_id),
    )


def release(conn: Connection, team: str, external_id: str, user_id: str) -> None:
    """Drop the claim of `user_id` (never another user's) and any trace of that user."""
    conn.execute(
        "DELETE FROM brig_external_ids WHERE team = ? AND external_id = ? AND user_id = ?",
        (team, external_id, user_id),
    )
    forget(conn, user_id)


def forget(conn: Connection, user_id: str) -> None:
    """Everything the gateway keeps about a user: index entries, mirror row, SAML ref, group memberships."""
    remove_user_from_groups(conn, user_id)  # as brig does when a user is deleted
    conn.execute("DELETE FROM brig_external_ids WHERE user_id = ?", (user_id,))
    conn.execute("DELETE FROM brig_users WHERE id = ?", (user_id,))
    conn.execute("DELETE FROM brig_saml_refs WHERE user_id = ?", (user_id,))


def record_created(conn: Connection, user: WireUser) -> None:
    """The mirror row, the SAML ref and the `created` marker, in one transaction."""
    conn.execute(_INSERT, column_values(user))
    _save_saml_ref(conn, user)
    set_claim_state(conn, user.team, user.external_id, user.id, "created")


def hold_move(conn: Connection, team: str, user_id: str, new: str, now_ts: float) -> None:
    """
    Claim `new` as `moving` for `user_id`, beside its present entry (which stays until brig holds
    `new`); Uniqueness when another user holds it. An entry of the user's own is taken over.
    """
    # One statement: on PostgreSQL a failed INSERT would abort the transaction for the fallback.
    held = conn.execute(
        "INSERT INTO brig_external_ids (team, external_id, user_id, state, claimed_at) "
        "VALUES (?, ?, ?, 'moving', ?) "
        "ON CONFLICT (team, external_id) DO UPDATE SET state = 'moving', claimed_at = excluded.claimed_at "
        "WHERE brig_external_ids.user_id = excluded.user_id RETURNING user_id",
        (team, new, user_id, now_ts),
    ).fetchone()
    if held is None:
        raise Uniqueness(f"externalId {new!r} is already taken by another user")


def finish_move(conn: Connection, team: str, user_id: str, new: str) -> None:
    """brig holds `new`: the user's `moving` entry becomes `created` and its other entries go."""
    moved = conn.execute(
        "UPDATE brig_external_ids SET state = 'created' "
        "WHERE team = ? AND external_id = ? AND user_id = ? AND state = 'moving'",
        (team, new, user_id),
    ).rowcount
    if moved == 1:
        conn.execute(
            "DELETE FROM brig_external_ids WHERE team = ? AND user_id = ? AND external_id <> ?", (team, user_id, new)
        )


def drop_move(conn: Connection, team: str, user_id: str, new: str) -> None:
    """brig did not take `new`: the user's `moving` entry goes (its present one stays)."""
    conn.execute(
        "DELETE FROM brig_external_ids WHERE team = ? AND external_id = ? AND user_id = ? AND state = 'moving'",
        (team, new, user_id),
    )


def save(conn: Connection, user: WireUser) -> None:
    """Write the mirror row of an existing user (and its SAML ref)."""
    conn.execute(_UPDATE, (*updated_values(user), user.id))
    finish_move(conn, user.team, user.id, user.external_id)  # brig holds the externalId a move claimed
    # brig's SSO id is the truth: an externalId changed behind the gateway moves the index entry
    # too, unless another user holds the new one (then the next POST or PUT sorts it out).
    conn.execute(
        "UPDATE brig_external_ids SET external_id = ? WHERE team = ? AND user_id = ? AND state = 'created' "
        "AND NOT EXISTS (SELECT 1 FROM brig_external_ids WHERE team = ? AND external_id = ?)",
        (user.external_id, user.team, user.id, user.team, user.external_id),
    )
    _save_saml_ref(conn, user)


def mirror_row(conn: Connection, team: str, user_id: str) -> WireUser | None:
    row = conn.execute(f"SELECT {USER_COLUMNS} FROM brig_users WHERE id = ? AND team = ?", (user_id, team)).fetchone()
    return None if row is None else row_to_user(row)


def search(
    conn: Connection, team: str, where: str, params: list[object], order: str, offset: int, limit: int
) -> tuple[int, list[WireUser]]:
    """(matches, the window of them) from the mirror."""
    rows, total = user_window(MIRROR_USERS, where, params, order, offset, limit)(conn, team, USER_COLUMNS, ())
    return total, [row_to_user(row) for row in rows]


def _save_saml_ref(conn: Connection, user: WireUser) -> None:
    if user.idp is None:
        return
    conn.execute(
        "INSERT INTO brig_saml_refs (user_id, idp, name_id) VALUES (?, ?, ?) "
        "ON CONFLICT (user_id) DO UPDATE SET idp = excluded.idp, name_id = excluded.name_id",
        (user.id, user.idp, user.external_id.casefold()),
    )
