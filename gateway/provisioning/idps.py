"""
A team's SAML IdPs, as the token API and the brig backend need them. Wire's spar keeps IdPs (and
their SAML metadata); the gateway does no SAML, but:

- Wire's token API needs to know which IdPs a team has: a token made through the unversioned or
  `/v7/` API is tied to the team's IdP when it has exactly one, and refused (400
  more-than-one-idp) when it has several; from `/v8/` an `idp` must be one of them;
- the brig backend writes a SAML user's `sso_id.tenant` as the IdP's metadata issuer URI (what
  spar compares at login), found by the IdP id the token carries.

Both come from one of two sources (`TeamIdps`, and the backend's `IssuerLookup`), chosen by
gateway/app.py: spar's `GET /i/identity-providers/:tid` when `backend.spar_url` is set
(gateway/backend/brig/idp_issuers.py), else the gateway's own registry here, which operators
fill with `scim-gateway idp add --team T --id UUID --issuer URI`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Protocol

from gateway.clock import now_text
from gateway.scim.errors import ScimError
from gateway.store.base import IdpRecord, Store

ISSUER_CHARS = 1024  # longer than any IdP's entity ID seen; a bound on what is stored
# An absolute URI: a scheme (RFC 3986 §3.1), a colon, then something without spaces or controls.
# saml2-web-sso reads an Issuer as a URI (SAML2/WebSSO/XML.hs); spar writes it as the tenant.
_ISSUER = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s\x00-\x1f\x7f]+")
ISSUER_EXAMPLE = "https://sts.windows.net/<tenant-id>/ for Entra ID"


class TeamIdps(Protocol):
    """
    Where the token API reads a team's SAML IdPs: spar (gateway/backend/brig/idp_issuers.py
    `SparIssuers`) or the gateway's registry (`RegistryIssuers`). A token's `idp` is one of these
    ids, spar's IdP id as in Wire.
    """

    async def idps_of(self, team: str) -> Sequence[tuple[str, str | None]]:
        """The team's IdPs as (id, issuer URI or None when not known), oldest first."""
        ...


def parse_issuer(value: str) -> str:
    """
    `value` when it is an issuer URI (a scheme, a colon, no spaces), else ValueError saying what an
    issuer is. A bare UUID is refused: it is an IdP *id*, which real brig refuses as a tenant.
    """
    text = value.strip()
    try:
        uuid.UUID(text)
    except ValueError:
        pass
    else:
        raise ValueError(
            f"{value!r} is an id, not an issuer: give the IdP's entity ID (the `issuer` of its SAML "
            f"metadata, a URI such as {ISSUER_EXAMPLE})"
        )
    if len(text) > ISSUER_CHARS or not _ISSUER.fullmatch(text):
        raise ValueError(
            f"{value!r} is not an issuer URI: give the IdP's entity ID (the `issuer` of its SAML metadata, "
            f"a URI with a scheme such as {ISSUER_EXAMPLE}), at most {ISSUER_CHARS} characters"
        )
    return text


class IdpRegistry:
    """Register, list and remove a team's IdPs (ids are UUIDs, as spar's IdP ids)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def add(
        self, team: str, idp_id: str, *, description: str = "", issuer: str | None = None
    ) -> IdpRecord | None:
        """
        The new record; None when that id is registered already. ValueError for a non-UUID id or an
        issuer that is not a URI (`parse_issuer`). The CLI requires the issuer; the token API's
        tests and the embedded backend can do without it.
        """
        record = IdpRecord(
            id=_uuid(idp_id),
            team=team,
            description=description,
            created_at=now_text(),
            issuer=None if issuer is None else parse_issuer(issuer),
        )
        return record if await self._store.add_idp(record) else None

    async def set_issuer(self, team: str, idp_id: str, issuer: str) -> bool:
        """Set a registered IdP's issuer URI; False when the team has no such IdP."""
        return await self._store.set_idp_issuer(team, _uuid(idp_id), parse_issuer(issuer))

    async def list(self, team: str) -> list[IdpRecord]:
        return await self._store.list_idps(team)

    async def remove(self, team: str, idp_id: str) -> bool:
        """False when the team has no such IdP; IdpInUse (gateway.store.base) while tokens use it."""
        return await self._store.remove_idp(team, _uuid(idp_id))


class RegistryIssuers:
    """
    The team's IdPs and their issuers from the gateway's registry: the `TeamIdps` of the token API
    and the brig backend's `IssuerLookup` (gateway/backend/base.py) when `backend.spar_url` is not
    set. Read from the store each time: IdPs are few, and a change made with the CLI is seen at once.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    async def idps_of(self, team: str) -> list[tuple[str, str | None]]:
        return [(record.id, record.issuer) for record in await self._store.list_idps(team)]

    async def issuer_of(self, team: str, idp_id: str) -> str:
        """
        The IdP's issuer URI. An IdP the registry does not have, or has without an issuer, is the
        operator's to fix: a 500 whose detail says how (the IdP's retries then succeed).
        """
        found = {record.id: record for record in await self._store.list_idps(team)}.get(idp_id)
        if found is not None and found.issuer:
            return found.issuer
        missing = "is not registered" if found is None else "is registered without its issuer URI"
        fix = (
            f"scim-gateway idp add --team {team} --id {idp_id} --issuer <URI>"
            if found is None
            else f"scim-gateway idp set-issuer --team {team} --id {idp_id} --issuer <URI>"
        )
        raise ScimError(
            f"this SCIM token is bound to SAML IdP {idp_id}, which {missing} in the gateway for team {team}: "
            f"the gateway's operator must run `{fix}` with the IdP's metadata issuer (e.g. {ISSUER_EXAMPLE})",
            status=500,
        )


def _uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError(f"an IdP id is a UUID (as spar's), got {value!r}") from None
