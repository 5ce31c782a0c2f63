"""
The `Store` (gateway/store/base.py) as units of work over a `Database` (gateway/db/dialect.py):
one implementation for SQLite (gateway/store/sqlite.py) and PostgreSQL (gateway/store/postgres.py).

Nothing is cached here: `find_token` reads the database every time. A caller may keep what it read
while `token_generation()` stays the same (SQLite: gateway/store/token_epoch.py); every change to the
tokens moves it, in whichever process it is made. PostgreSQL has no generation (None).
"""

from __future__ import annotations

from gateway.db.dialect import Connection, Database, serialize_on
from gateway.store.base import IdpRecord, SwitchFlip, TokenLimitReached, TokenRecord
from gateway.store.token_api_sql import (
    ERROR_CHARS,
    FLIP_COLUMNS,
    claim_flips,
    count_tokens,
    flip_of,
    record_flip,
    remove_idp,
    revoke_token,
)

_TOKEN_COLUMNS = "id, team, hash, created_at, description, name, idp, last_used_at"
_TOKEN_FIELDS = tuple(name.strip() for name in _TOKEN_COLUMNS.split(","))
_IDP_COLUMNS = "id, team, description, created_at, issuer"
_IDP_FIELDS = tuple(name.strip() for name in _IDP_COLUMNS.split(","))


class SqlStore:
    """
    The Store over an open database, which it owns (closing the store closes it). The units of
    work of the token API's part (IdP registry, SSO-invite switch outbox) are in
    gateway/store/token_api_sql.py.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def token_generation(self) -> int | None:
        """None: this store cannot tell cheaply whether the tokens changed (see the module docstring)."""
        return None

    async def tokens_changed(self) -> None:
        """Called after each committed change to the tokens (the SQLite store moves its generation)."""

    async def add_token(self, record: TokenRecord, *, max_per_team: int) -> None:
        await self.db.write(lambda conn: _add_token(conn, record, max_per_team))
        await self.tokens_changed()

    async def find_token(self, token_hash: str) -> TokenRecord | None:
        row = await self.db.read(
            lambda conn: conn.execute(f"SELECT {_TOKEN_COLUMNS} FROM tokens WHERE hash = ?", (token_hash,)).fetchone()
        )
        return None if row is None else TokenRecord(**dict(zip(_TOKEN_FIELDS, row, strict=True)))

    async def list_tokens(self, team: str) -> list[TokenRecord]:
        rows = await self.db.read(
            lambda conn: conn.execute(
                f"SELECT {_TOKEN_COLUMNS} FROM tokens WHERE team = ? ORDER BY created_at, id",
                (team,),
            ).fetchall()
        )
        return [TokenRecord(**dict(zip(_TOKEN_FIELDS, row, strict=True))) for row in rows]

    async def revoke_token(self, team: str, token_id: str) -> bool:
        revoked = await self.db.write(lambda conn: revoke_token(conn, team, token_id))
        await self.tokens_changed()
        return revoked

    async def touch_token(self, token_id: str, when: str) -> None:
        await self.db.write(
            lambda conn: conn.execute("UPDATE tokens SET last_used_at = ? WHERE id = ?", (when, token_id))
        )

    async def rename_token(self, team: str, token_id: str, name: str) -> bool:
        renamed = await self.db.write(
            lambda conn: (
                conn.execute("UPDATE tokens SET name = ? WHERE team = ? AND id = ?", (name, team, token_id)).rowcount
                > 0
            )
        )
        await self.tokens_changed()
        return renamed

    async def count_tokens(self, team: str) -> int:
        return await self.db.read(lambda conn: count_tokens(conn, team))

    async def add_idp(self, record: IdpRecord) -> bool:
        return await self.db.write(
            lambda conn: (
                conn.execute(
                    f"INSERT INTO idps ({_IDP_COLUMNS}) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (record.id, record.team, record.description, record.created_at, record.issuer),
                ).rowcount
                > 0
            )
        )

    async def list_idps(self, team: str) -> list[IdpRecord]:
        rows = await self.db.read(
            lambda conn: conn.execute(
                f"SELECT {_IDP_COLUMNS} FROM idps WHERE team = ? ORDER BY created_at, id", (team,)
            ).fetchall()
        )
        return [IdpRecord(**dict(zip(_IDP_FIELDS, row, strict=True))) for row in rows]

    async def set_idp_issuer(self, team: str, idp_id: str, issuer: str) -> bool:
        return await self.db.write(
            lambda conn: (
                conn.execute("UPDATE idps SET issuer = ? WHERE team = ? AND id = ?", (issuer, team, idp_id)).rowcount
                > 0
            )
        )

    async def list_idps_without_issuer(self) -> list[IdpRecord]:
        rows = await self.db.read(
            lambda conn: conn.execute(
                f"SELECT {_IDP_COLUMNS} FROM idps WHERE issuer IS NULL ORDER BY created_at, id"
            ).fetchall()
        )
        return [IdpRecord(**dict(zip(_IDP_FIELDS, row, strict=True))) for row in rows]

    async def remove_idp(self, team: str, idp_id: str) -> bool:
        return await self.db.write(lambda conn: remove_idp(conn, team, idp_id))

    async def claim_switch_flips(self, *, now: float, lease_seconds: float, limit: int) -> list[SwitchFlip]:
        return await self.db.write(lambda conn: claim_flips(conn, now, now + lease_seconds, limit))

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
                (retry_at, error[:ERROR_CHARS], seq),
            )
        )

    async def list_switch_flips(self, team: str) -> list[SwitchFlip]:
        rows = await self.db.read(
            lambda conn: conn.execute(
                f"SELECT {FLIP_COLUMNS} FROM sso_switch_outbox WHERE team = ? ORDER BY seq", (team,)
            ).fetchall()
        )
        return [flip_of(row) for row in rows]

    async def switch_outbox_backlog(self) -> tuple[int, str | None]:
        row = await self.db.read(
            lambda conn: conn.execute(
                "SELECT count(*), min(changed_at) FROM sso_switch_outbox WHERE delivered_at IS NULL"
            ).fetchone()
        )
        return int(row[0]), row[1]

    async def check(self) -> None:
        await self.db.read(lambda conn: conn.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        await self.db.close()


def _add_token(conn: Connection, record: TokenRecord, max_per_team: int) -> None:
    """Count and insert under one lock per team, so that concurrent adds (any replica) keep the cap."""
    serialize_on(conn, f"tokens:{record.team}")
    (count,) = conn.execute("SELECT count(*) FROM tokens WHERE team = ?", (record.team,)).fetchone()
    if count >= max_per_team:
        raise TokenLimitReached(
            f"team {record.team} already has {count} SCIM tokens, the most allowed "
            f"(limits.tokens_per_team = {max_per_team}); revoke one first"
        )
    conn.execute(
        f"INSERT INTO tokens ({_TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            record.id,
            record.team,
            record.hash,
            record.created_at,
            record.description,
            record.name,
            record.idp,
            record.last_used_at,
        ),
    )
    if count == 0:  # the team's first token: the SSO-invite switch flips off, in this transaction
        record_flip(conn, record.team, sso_invites_enabled=False)
