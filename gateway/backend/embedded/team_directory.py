"""
The embedded backend's `TeamDirectory` (gateway/backend/team_directory.py): the team members the
gateway itself keeps (`team_members` table, scrypt password hashes), added with
`scim-gateway team add-member`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from gateway.backend.embedded.passwords import MIN_PASSWORD_CHARS, hash_password_async, verify_password_async
from gateway.backend.team_directory import ROLES, MemberExists, ReauthenticationFailed
from gateway.clock import now_text
from gateway.db.dialect import Connection, Database


@dataclass(frozen=True, slots=True)
class Member:
    id: str
    team: str
    email: str
    role: str
    created_at: str


class EmbeddedTeamDirectory:
    """The embedded backend's team members (`team_members` table, scrypt password hashes)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def team_of(self, user_id: str) -> str | None:
        row = await self._db.read(lambda conn: _member_row(conn, user_id))
        return None if row is None else row[1]

    async def role_in(self, team: str, user_id: str) -> str | None:
        row = await self._db.read(lambda conn: _member_row(conn, user_id))
        return row[3] if row is not None and row[1] == team else None

    async def reauthenticate(self, user_id: str, password: str | None, verification_code: str | None) -> None:
        """As brig with the 2nd-factor feature off: the password must be right; the code is not asked."""
        row = await self._db.read(lambda conn: _member_row(conn, user_id))
        if row is None:
            raise ReauthenticationFailed("not-found")
        if password is None:
            raise ReauthenticationFailed("missing-auth")
        if not await verify_password_async(password, row[4]):
            raise ReauthenticationFailed("invalid-credentials")

    async def add_member(self, *, team: str, role: str, email: str, password: str) -> Member:
        """A new member with a password (hashed off the event loop); MemberExists for a taken email."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD_CHARS:
            raise ValueError(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
        member = Member(id=str(uuid.uuid4()), team=team, email=email, role=role, created_at=now_text())
        hashed = await hash_password_async(password)
        await self._db.write(lambda conn: _insert_member(conn, member, hashed))
        return member

    async def list_members(self, team: str) -> list[Member]:
        rows = await self._db.read(
            lambda conn: conn.execute(
                "SELECT id, team, email, role, created_at FROM team_members WHERE team = ? ORDER BY created_at, id",
                (team,),
            ).fetchall()
        )
        return [Member(*row) for row in rows]

    async def remove_member(self, team: str, user_id: str) -> bool:
        return await self._db.write(
            lambda conn: (
                conn.execute("DELETE FROM team_members WHERE team = ? AND id = ?", (team, user_id)).rowcount > 0
            )
        )


def _member_row(conn: Connection, user_id: str) -> Any:
    return conn.execute("SELECT id, team, email, role, password FROM team_members WHERE id = ?", (user_id,)).fetchone()


def _insert_member(conn: Connection, member: Member, hashed: str) -> None:
    """Insert; the unique index on the email (ignoring case) refuses a second holder, even a concurrent one."""
    try:
        conn.execute(
            "INSERT INTO team_members (id, team, email, role, password, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (member.id, member.team, member.email, member.role, hashed, member.created_at),
        )
    except conn.dialect.integrity_error:
        raise MemberExists(f"{member.email} is already a member (of some team)") from None
