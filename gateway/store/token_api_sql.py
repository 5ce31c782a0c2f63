"""
The token API's state as units of work over a `Database` (gateway/db/dialect.py), for SQLite and
PostgreSQL alike: the IdP registry, token renames and counts, and the SSO-invite switch's outbox.

The switch is not stored: it is off while a team holds a token and on otherwise, so it is read
from the token count and cannot disagree with it. What is stored is each *flip*, in the same
transaction as the insert or delete that caused it (`record_flip`, called by gateway/store/sql.py
under the team's token lock): the count before and after is read under that lock, so concurrent
creates and deletes, from any process, record exactly the flips that happened, in their order.
A deliverer (gateway/provisioning/sso_switch.py) takes them from there to the webhook.
"""

from __future__ import annotations

from typing import Any

from gateway.clock import now_text
from gateway.db.dialect import Connection, serialize_on
from gateway.store.base import IdpInUse, SwitchFlip

# Serialises deliverers (all processes) while they claim flips, so two never lease the same one.
_OUTBOX_LOCK = "sso_switch_outbox"
FLIP_COLUMNS = "seq, team, sso_invites_enabled, changed_at, attempts, delivered_at"
ERROR_CHARS = 500  # of a failed delivery's error kept in `last_error`


def record_flip(conn: Connection, team: str, *, sso_invites_enabled: bool) -> None:
    """Write one flip of `team`'s switch; call inside the transaction that caused it."""
    conn.execute(
        "INSERT INTO sso_switch_outbox (team, sso_invites_enabled, changed_at) VALUES (?, ?, ?)",
        (team, int(sso_invites_enabled), now_text()),
    )


def revoke_token(conn: Connection, team: str, token_id: str) -> bool:
    """Delete under the team's token lock; the last token gone records the flip (invites on)."""
    serialize_on(conn, f"tokens:{team}")
    if conn.execute("DELETE FROM tokens WHERE team = ? AND id = ?", (team, token_id)).rowcount == 0:
        return False
    if count_tokens(conn, team) == 0:
        record_flip(conn, team, sso_invites_enabled=True)
    return True


def count_tokens(conn: Connection, team: str) -> int:
    return int(conn.execute("SELECT count(*) FROM tokens WHERE team = ?", (team,)).fetchone()[0])


def remove_idp(conn: Connection, team: str, idp_id: str) -> bool:
    serialize_on(conn, f"tokens:{team}")  # no token may be made for it meanwhile
    using = [row[0] for row in conn.execute("SELECT id FROM tokens WHERE team = ? AND idp = ?", (team, idp_id))]
    if using:
        raise IdpInUse(idp_id, using)
    return conn.execute("DELETE FROM idps WHERE team = ? AND id = ?", (team, idp_id)).rowcount > 0


def claim_flips(conn: Connection, now: float, until: float, limit: int) -> list[SwitchFlip]:
    """Each team's oldest undelivered flip, when due and not leased; leased to the caller."""
    serialize_on(conn, _OUTBOX_LOCK)
    rows = conn.execute(
        f"SELECT {FLIP_COLUMNS} FROM sso_switch_outbox o "
        "WHERE delivered_at IS NULL AND next_attempt_at <= ? AND claimed_until <= ? "
        "AND seq = (SELECT min(seq) FROM sso_switch_outbox p WHERE p.team = o.team AND p.delivered_at IS NULL) "
        "ORDER BY seq LIMIT ?",
        (now, now, limit),
    ).fetchall()
    flips = [flip_of(row) for row in rows]
    if flips:
        conn.executemany(
            "UPDATE sso_switch_outbox SET claimed_until = ? WHERE seq = ?", [(until, f.seq) for f in flips]
        )
    return flips


def flip_of(row: Any) -> SwitchFlip:
    return SwitchFlip(
        seq=int(row[0]),
        team=row[1],
        sso_invites_enabled=bool(row[2]),
        changed_at=row[3],
        attempts=int(row[4]),
        delivered_at=row[5],
    )
