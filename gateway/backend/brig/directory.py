"""
The `TeamDirectory` (gateway/backend/team_directory.py) over brig and galley, with the calls spar
makes for the token API (`guardScimTokenCreation`, services/spar/src/Spar/Scim/Auth.hs): brig
`GET /i/users?ids=` for the user's team, galley `GET /i/teams/:tid/members/:uid` for its
permission bits, brig `GET /i/users/:uid/reauthenticate` for the password. It shares the brig
backend's client (one connection pool); a refusal no method expects leaves as its SCIM error
(refusals.py).
"""

from __future__ import annotations

from gateway.backend.brig.client import BrigClient
from gateway.backend.brig.mapping import ROLE_PERMISSIONS
from gateway.backend.brig.refusals import refusals_mapped
from gateway.backend.team_directory import ReauthenticationFailed

# The action brig checks the verification code for (User.CreateScimToken, "create_scim_token").
REAUTH_ACTION = "create_scim_token"


class BrigTeamDirectory:
    def __init__(self, client: BrigClient) -> None:
        self._client = client

    @refusals_mapped
    async def team_of(self, user_id: str) -> str | None:
        """The team of the account with this id (pending invitations left out, as spar asks)."""
        for user in await self._client.get_users([user_id], include_pending=False):
            if user.get("id") == user_id:
                team = user.get("team")
                return team if isinstance(team, str) else None
        return None

    @refusals_mapped
    async def role_in(self, team: str, user_id: str) -> str | None:
        """galley's `permissionsRole`: the role whose bits these are exactly; None otherwise."""
        bits = await self._client.get_member_permissions(team, user_id)
        if bits is None:
            return None
        return next((role for role, role_bits in ROLE_PERMISSIONS.items() if role_bits == bits), None)

    @refusals_mapped
    async def reauthenticate(self, user_id: str, password: str | None, verification_code: str | None) -> None:
        body = {"password": password, "verification_code": verification_code, "action": REAUTH_ACTION}
        status, label = await self._client.reauthenticate(user_id, body)
        if status != 200:
            raise ReauthenticationFailed(label or ("not-found" if status == 404 else "access-denied"))
