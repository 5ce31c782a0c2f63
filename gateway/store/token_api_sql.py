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

from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from gateway.db.dialect import Connection, Database, serialize_on
from gateway.store.base import IdpInUse, IdpRecord, SwitchFlip

# Serialises deliverers (all processes) while they claim flips, so two never lease the same one.
_OUTBOX_LOCK = "sso_switch_outbox"
_FLIP_COLUMNS = "seq, team, sso_invites_enabled, changed_at, attempts, delivered_at"
_ERROR_CHARS = 500  # of a failed delivery's error kept in `last_error`


def now_text() -> str:
    """The stored form of a time (as gateway.backend.models.now_text, which the store may not import)."""
    utc = datetime.now(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


class TokenApiStore:
    """The token API's part of the SQL store (mixed into gateway/store/sql.py's SqlStore)."""

    db: Database
    tokens_changed: Callable[[], Awaitable[None]]  # SqlStore's: after a committed change to the tokens

    async def rename_token(self, team: str, token_id: str, name: str) -> bool:
        renamed = await self.db.write(
            lambda conn: conn.execute(
                "UPDATE tokens SET name = ? WHERE team = ? AND id = ?", (name, team, token_id)
            ).rowcount
            > 0
        )
        await self.tokens_changed()
        return renamed

    async def count_tokens(self, team: str) -> int:
        return await self.db.read(lambda conn: _count_tokens(conn, team))

    async def add_idp(self, record: IdpRecord) -> bool:
        return await self.db.write(
            lambda conn: conn.execute(
                "INSERT INTO idps (id, team, description, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (record.id, record.team, record.description, record.created_at),
            ).rowcount
            > 0
        )

    async def list_idps(self, team: str) -> list[IdpRecord]:
        rows = await self.db.read(
            lambda conn: conn.execute(
                "SELECT id, team, description, created_at FROM idps WHERE team = ? ORDER BY created_at, id",
                (team,),
            ).fetchall()
        )
        return [IdpRecord(id=r[0], team=r[1], description=r[2], created_at=r[3]) for r in rows]

    async def remove_idp(self, team: str, idp_id: str) -> bool:
        return await self.db.write(lambda conn: _remove_idp(conn, team, idp_id))

    async def claim_switch_flips(self, *, now: float, lease_seconds: float, limit: int) -> list[SwitchFlip]:
        return await self.db.write(lambda conn: _claim(conn, now, now + lease_seconds, limit))

    async def switch_flip_delivered(self, seq: int, *, when: str) -> None:
        await self.db.write(
            lambda conn: conn.execute(
                "UPDATE sso_switch_outbox SET delivered_at = ?, attempts = attempts + 1, claimed_until = 0 "
                "WHERE seq = ?",
                (when, seq),
            )
        )

    async def switch_flip_failed(self, seq: int, *, error: str, retry_at: float) -> None:
        await self.db.write(
            lambda conn: conn.execute(
                "UPDATE sso_switch_outbox SET attempts = attempts + 1, next_attempt_at = ?, "
                "claimed_until = 0, last_error = ? WHERE seq = ? AND delivered_at IS NULL",
                (retry_at, error[:_ERROR_CHARS], seq),
            )
        )

    async def list_switch_flips(self, team: str) -> list[SwitchFlip]:
        rows = await self.db.read(
            lambda conn: conn.execute(
                f"SELECT {_FLIP_COLUMNS} FROM sso_switch_outbox WHERE team = ? ORDER BY seq", (team,)
            ).fetchall()
        )
        return [_flip(row) for row in rows]


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
    if _count_tokens(conn, team) == 0:
        record_flip(conn, team, sso_invites_enabled=True)
    return True


def _count_tokens(conn: Connection, team: str) -> int:
    return int(conn.execute("SELECT count(*) FROM tokens WHERE team = ?", (team,)).fetchone()[0])


def _remove_idp(conn: Connection, team: str, idp_id: str) -> bool:
    serialize_on(conn, f"tokens:{team}")  # no token may be made for it meanwhile
    using = [row[0] for row in conn.execute("SELECT id FROM tokens WHERE team = ? AND idp = ?", (team, idp_id))]
    if using:
        raise IdpInUse(idp_id, using)
    return conn.execute("DELETE FROM idps WHERE team = ? AND id = ?", (team, idp_id)).rowcount > 0


def _claim(conn: Connection, now: float, until: float, limit: int) -> list[SwitchFlip]:
    """Each team's oldest undelivered flip, when due and not leased; leased to the caller."""
    serialize_on(conn, _OUTBOX_LOCK)
    rows = conn.execute(
        f"SELECT {_FLIP_COLUMNS} FROM sso_switch_outbox o "
        "WHERE delivered_at IS NULL AND next_attempt_at <= ? AND claimed_until <= ? "
        "AND seq = (SELECT min(seq) FROM sso_switch_outbox p WHERE p.team = o.team AND p.delivered_at IS NULL) "
        "ORDER BY seq LIMIT ?",
        (now, now, limit),
    ).fetchall()
    flips = [_flip(row) for row in rows]
    if flips:
        conn.executemany(
            "UPDATE sso_switch_outbox SET claimed_until = ? WHERE seq = ?", [(until, f.seq) for f in flips]
        )
    return flips


def _flip(row: Any) -> SwitchFlip:
    return SwitchFlip(
        seq=int(row[0]), team=row[1], sso_invites_enabled=bool(row[2]), changed_at=row[3],
        attempts=int(row[4]), delivered_at=row[5],
    )  # fmt: skip
