"""
The `TeamDirectory` protocol: who may manage a team's SCIM tokens through the token API, as spar
asks brig and galley: which team a user is in, which role it has there, and whether it proves
its password again. Two implementations: `BrigTeamDirectory` (gateway/backend/brig/directory.py,
over brig's and galley's internal API) and `EmbeddedTeamDirectory`
(gateway/backend/embedded/team_directory.py: team members kept in the gateway's database).
"""

from __future__ import annotations

from typing import Protocol

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
