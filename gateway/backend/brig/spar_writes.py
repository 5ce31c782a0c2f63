"""
The brig backend's writes to spar's own tables (gateway/backend/spar_state/, with
`spar_state.kind: cassandra`), at the points of its flows where spar's SCIM makes them
(services/spar/src/Spar/Scim/User.hs; the order is gateway/backend/spar_state/flows.py's):

- create: the `scim_external` marker CREATING before brig is asked; after brig's create, the SCIM
  times, the externalId row and (SAML) `user_v2`; after the status, CREATED. A failed create
  removes what it wrote, so nothing blocks the IdP's retry;
- update: a new externalId moves the `scim_external` and `user_v2` rows before brig's `sso-id`
  PUT; the times last;
- delete: the rows go before brig's delete.

With spar's tables written so, spar's SSO login finds the users the gateway provisions, and spar
can read, update and delete them when nginz points `/scim` back at spar. Without `spar_state`
(`SparWrites(None)`) every method does nothing: the gateway's own mirror is the only index.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from gateway.backend.spar_state import flows
from gateway.backend.spar_state.model import ExternalIdEntry, SparState, UserTimes
from gateway.backend.wire_user import WireUser


class SparWrites:
    """spar's rows of one user's create, update and delete; no-ops without a SparState."""

    def __init__(self, state: SparState | None) -> None:
        self._state = state

    async def entry(self, team: str, external_id: str) -> ExternalIdEntry | None:
        """spar's `scim_external` row for `external_id` (None without spar's tables or a row)."""
        if self._state is None:
            return None
        return await flows.create_check(self._state, uuid.UUID(team), external_id)

    async def forget(self, team: str, external_id: str, user_id: str, issuer: str | None) -> None:
        """What a create of `user_id` wrote, removed (only rows naming that user): after a failed create."""
        await self.deleted(team, user_id, [(external_id, issuer)])

    @property
    def active(self) -> bool:
        """Whether spar's tables are written (and read) at all."""
        return self._state is not None

    async def times(self, user_id: str) -> UserTimes | None:
        """spar's SCIM times of a user (`scim_user_times`), if any."""
        return None if self._state is None else await self._state.user_times_get(uuid.UUID(user_id))

    async def creating(self, team: str, external_id: str, user_id: str) -> None:
        if self._state is not None:
            await flows.create_begin(self._state, uuid.UUID(team), external_id, uuid.UUID(user_id))

    async def created(self, team: str, external_id: str, issuer: str | None, user_id: str, now: str) -> None:
        """`createValidScimUserSpar` after brig's create: times, externalId row, SAML user."""
        if self._state is not None:
            times = UserTimes(created_at=_moment(now), last_updated_at=_moment(now))
            await flows.create_record(self._state, uuid.UUID(team), external_id, issuer, uuid.UUID(user_id), times)

    async def finished(self, team: str, external_id: str, user_id: str) -> None:
        if self._state is not None:
            await flows.create_finish(self._state, uuid.UUID(team), external_id, uuid.UUID(user_id))

    async def moved(self, team: str, user_id: str, old: tuple[str, str | None], new: tuple[str, str | None]) -> None:
        """`updateVsuUref`: (externalId, issuer) old and new."""
        if self._state is not None:
            await flows.update_external_id(self._state, uuid.UUID(team), uuid.UUID(user_id), old, new)

    async def touched(self, user: WireUser) -> None:
        """The last write of an update that changed something: the SCIM times."""
        if self._state is not None:
            await flows.update_times(self._state, uuid.UUID(user.id), _times(user))

    async def deleted(self, team: str, user_id: str, identities: list[tuple[str, str | None]]) -> None:
        """`deleteUserInSpar` for (externalId, issuer) pairs; only rows naming this user go."""
        if self._state is None:
            return
        owned = []
        for external_id, issuer in identities:
            entry = await flows.create_check(self._state, uuid.UUID(team), external_id)
            if entry is None or str(entry.user) == user_id:
                owned.append((external_id, issuer))
        await flows.delete_user(self._state, uuid.UUID(team), uuid.UUID(user_id), owned)


def _times(user: WireUser) -> UserTimes:
    return UserTimes(created_at=_moment(user.created), last_updated_at=_moment(user.last_modified))


def _moment(text: str) -> datetime:
    """The gateway's stored time (`2026-04-11T10:00:00.123Z`, gateway/clock.py) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
