"""
The `Store` (gateway/store/base.py) as units of work over a `Database` (gateway/db/dialect.py):
one implementation for SQLite (gateway/store/sqlite.py) and PostgreSQL (gateway/store/postgres.py).

Nothing is cached here: `find_token` reads the database every time. A caller may keep what it read
while `token_generation()` stays the same (SQLite: gateway/store/token_epoch.py); every change to the
tokens moves it, in whichever process it is made. PostgreSQL has no generation (None).
"""

from __future__ import annotations

from gateway.db.dialect import Connection, Database, serialize_on
from gateway.store.base import TokenLimitReached, TokenRecord
from gateway.store.token_api_sql import TokenApiStore, record_flip, revoke_token

_TOKEN_COLUMNS = "id, team, hash, created_at, description, name, idp, last_used_at"
_TOKEN_FIELDS = tuple(name.strip() for name in _TOKEN_COLUMNS.split(","))


class SqlStore(TokenApiStore):
    """
    The Store over an open database, which it owns (closing the store closes it). The token API's
    part (IdP registry, SSO-invite switch outbox) is in gateway/store/token_api_sql.py.
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
            lambda conn: conn.execute(
                f"SELECT {_TOKEN_COLUMNS} FROM tokens WHERE hash = ?", (token_hash,)
            ).fetchone()
        )
        return None if row is None else TokenRecord(**dict(zip(_TOKEN_FIELDS, row)))

    async def list_tokens(self, team: str) -> list[TokenRecord]:
        rows = await self.db.read(
            lambda conn: conn.execute(
                f"SELECT {_TOKEN_COLUMNS} FROM tokens WHERE team = ? ORDER BY created_at, id",
                (team,),
            ).fetchall()
        )
        return [TokenRecord(**dict(zip(_TOKEN_FIELDS, row))) for row in rows]

    async def revoke_token(self, team: str, token_id: str) -> bool:
        revoked = await self.db.write(lambda conn: revoke_token(conn, team, token_id))
        await self.tokens_changed()
        return revoked

    async def touch_token(self, token_id: str, when: str) -> None:
        await self.db.write(
            lambda conn: conn.execute(
                "UPDATE tokens SET last_used_at = ? WHERE id = ?", (when, token_id)
            )
        )

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
        (record.id, record.team, record.hash, record.created_at, record.description,
         record.name, record.idp, record.last_used_at),  # fmt: skip
    )
    if count == 0:  # the team's first token: the SSO-invite switch flips off, in this transaction
        record_flip(conn, record.team, sso_invites_enabled=False)
