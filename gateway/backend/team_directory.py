"""
The `TeamDirectory` protocol: who may manage a team's SCIM tokens through the token API, as spar
asks brig and galley (wire-scim.md §2.2): which team a user is in, which role it has there, and
whether it proves its password again. Two implementations: `BrigTeamDirectory`
(gateway/backend/brig_directory.py, over brig's and galley's internal API) and
`EmbeddedTeamDirectory` below (the embedded backend's team members, kept in the gateway's database
and added with `scim-gateway team add-member`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from gateway.backend.models import now_text
from gateway.backend.passwords import MIN_PASSWORD_CHARS, hash_password_async, verify_password_async
from gateway.db.dialect import Connection, Database

# galley's roles, and the two whose hidden permissions include CreateReadDeleteScimToken
# (`roleHiddenPermissions`, libs/wire-api/src/Wire/API/Team/Member.hs).
ROLES = ("owner", "admin", "member", "partner")
TOKEN_MANAGER_ROLES = frozenset({"owner", "admin"})


class ReauthenticationFailed(Exception):
    """The user did not prove its identity again; `label` is brig's (e.g. invalid-credentials)."""

    def __init__(self, label: str) -> None:
        super().__init__(label)
        self.label = label


class MemberExists(Exception):
    """`add_member` with an email another member of the directory holds."""


class TeamDirectory(Protocol):
    """
    Contract (tests/contract/test_team_directory.py):
    - `team_of` is None for an unknown user and for a user in no team;
    - `role_in` is None when the user is not a member of that team (or has no role's permissions);
    - `reauthenticate` returns when the password is right (a user without a password may omit
      it) and raises ReauthenticationFailed with brig's label otherwise: `missing-auth`,
      `invalid-credentials`, `code-authentication-required`, `code-authentication-failed`, ...
    - nothing here logs or keeps a password.
    """

    async def team_of(self, user_id: str) -> str | None: ...

    async def role_in(self, team: str, user_id: str) -> str | None: ...

    async def reauthenticate(self, user_id: str, password: str | None, verification_code: str | None) -> None: ...


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
            lambda conn: conn.execute(
                "DELETE FROM team_members WHERE team = ? AND id = ?", (team, user_id)
            ).rowcount
            > 0
        )


def _member_row(conn: Connection, user_id: str) -> Any:
    return conn.execute(
        "SELECT id, team, email, role, password FROM team_members WHERE id = ?", (user_id,)
    ).fetchone()


def _insert_member(conn: Connection, member: Member, hashed: str) -> None:
    """Insert; the unique index on the email (ignoring case) refuses a second holder, even a concurrent one."""
    try:
        conn.execute(
            "INSERT INTO team_members (id, team, email, role, password, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (member.id, member.team, member.email, member.role, hashed, member.created_at),
        )
    except conn.dialect.integrity_error:
        raise MemberExists(f"{member.email} is already a member (of some team)") from None
