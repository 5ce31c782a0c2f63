"""
The gateway's registry of a team's SAML IdPs. Wire's spar keeps IdPs (and their SAML metadata);
the gateway does not do SAML, but Wire's token API needs to know which IdPs a team has: a token
made through the unversioned or `/v7/` API is tied to the team's IdP when it has exactly one, and
refused (400 more-than-one-idp) when it has several; from `/v8/` an `idp` must be one of them.
Operators register the IdP ids spar shows (`scim-gateway idp add --team T --id UUID`).
"""

from __future__ import annotations

import uuid

from gateway.clock import now_text
from gateway.store.base import IdpRecord, Store


class IdpRegistry:
    """Register, list and remove a team's IdPs (ids are UUIDs, as spar's IdP ids)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def add(self, team: str, idp_id: str, *, description: str = "") -> IdpRecord | None:
        """The new record; None when that id is registered already. ValueError for a non-UUID id."""
        record = IdpRecord(id=_uuid(idp_id), team=team, description=description, created_at=now_text())
        return record if await self._store.add_idp(record) else None

    async def list(self, team: str) -> list[IdpRecord]:
        return await self._store.list_idps(team)

    async def remove(self, team: str, idp_id: str) -> bool:
        """False when the team has no such IdP; IdpInUse (gateway.store.base) while tokens use it."""
        return await self._store.remove_idp(team, _uuid(idp_id))


def _uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError(f"an IdP id is a UUID (as spar's), got {value!r}") from None
