"""
A team's SAML IdPs and their issuers, read from spar (`backend.spar_url`): the brig backend's
`IssuerLookup` (gateway/backend/base.py), which gives the IdP's metadata issuer URI that brig
stores as a SAML user's `sso_id.tenant` and spar compares at login, and the token API's list of a
team's IdPs (gateway/provisioning/idps.py `TeamIdps`).

spar's `GET /i/identity-providers/:tid` (`i_get_identity_providers`,
libs/wire-api/src/Wire/API/Routes/Internal/Spar.hs) answers an IdPList; each IdP is an IdPConfig
{"id", "metadata": {"issuer", "requestURI", "certAuthnResponse"}, "extraInfo": {"team", ...}}
(golden libs/wire-api/test/golden/testObject_IdP_1.json).

Caching (docs/wire.md, "SAML issuers"): per team, a dict {idp id: issuer}, kept for at most
`ttl` seconds (ISSUER_TTL_SECONDS) so that an IdP removed or changed in spar is seen within that
time; an IdP id the cached list lacks re-reads spar once before failing (an IdP added since is
seen at once), unless the list was read less than `miss_floor` seconds ago (a token bound to a
removed IdP cannot make every request a spar call). At most `max_teams` teams are kept (least
recently used go first), and one read per team is in flight at a time: concurrent callers share it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from gateway.scim.errors import ScimError

log = structlog.get_logger()

ISSUER_TTL_SECONDS = 300.0  # how long a team's IdP list is used before spar is asked again
MISS_FLOOR_SECONDS = 2.0  # an unknown IdP id re-reads spar only when the list is older than this
MAX_TEAMS = 10000  # teams whose IdP lists are kept


class IdpSource(Protocol):
    """What SparIssuers reads (gateway/backend/brig/client.py `BrigClient`)."""

    async def get_identity_providers(self, team: str) -> list[dict[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class _TeamIdps:
    issuers: dict[str, str]  # idp id -> metadata issuer, in spar's order
    read_at: float


class SparIssuers:
    """The issuers of a team's IdPs as spar lists them (see the module docstring for the cache)."""

    def __init__(
        self,
        client: IdpSource,
        *,
        ttl: float = ISSUER_TTL_SECONDS,
        miss_floor: float = MISS_FLOOR_SECONDS,
        max_teams: int = MAX_TEAMS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._miss_floor = miss_floor
        self._max_teams = max_teams
        self._clock = clock
        self._teams: OrderedDict[str, _TeamIdps] = OrderedDict()
        self._reading: dict[str, asyncio.Task[_TeamIdps]] = {}

    async def issuer_of(self, team: str, idp_id: str) -> str:
        """
        The IdP's metadata issuer URI. When spar does not list the IdP for the team (even after a
        fresh read), a 403: the token is bound to an IdP Wire no longer has, and no retry helps.
        """
        known = await self._cached(team)
        if idp_id not in known.issuers and self._clock() - known.read_at >= self._miss_floor:
            known = await self._read(team)
        issuer = known.issuers.get(idp_id)
        if issuer is None:
            log.warning("scim_token_idp_unknown_to_spar", team=team, idp=idp_id)
            raise ScimError(
                f"this SCIM token is bound to SAML IdP {idp_id}, which spar no longer lists for team {team}: "
                "create a new token in Team Settings (tied to the team's current IdP) and use it instead",
                status=403,
            )
        return issuer

    async def idps_of(self, team: str) -> list[tuple[str, str | None]]:
        """
        The team's IdPs as (id, issuer), in spar's order, read from spar now (the token API asks
        rarely, and an IdP just added in Team Settings must count); the read refreshes the cache.
        """
        return list((await self._read(team)).issuers.items())

    async def _cached(self, team: str) -> _TeamIdps:
        known = self._teams.get(team)
        if known is None or self._clock() - known.read_at >= self._ttl:
            return await self._read(team)
        self._teams.move_to_end(team)
        return known

    async def _read(self, team: str) -> _TeamIdps:
        """Read spar, or join the read of this team already in flight."""
        task = self._reading.get(team)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._fetch(team), name=f"spar-idps-{team}")
            self._reading[team] = task
            task.add_done_callback(lambda done: self._read_done(team, done))
        # shielded: a caller that gives up (its request cancelled) does not cancel the others' read
        return await asyncio.shield(task)

    def _read_done(self, team: str, task: asyncio.Task[_TeamIdps]) -> None:
        if self._reading.get(team) is task:
            del self._reading[team]
        if not task.cancelled():
            task.exception()  # retrieved here too, so that a read nobody awaits any more logs nothing

    async def _fetch(self, team: str) -> _TeamIdps:
        providers = await self._client.get_identity_providers(team)
        known = _TeamIdps(issuers=_issuers(team, providers), read_at=self._clock())
        self._teams[team] = known
        self._teams.move_to_end(team)
        while len(self._teams) > self._max_teams:
            self._teams.popitem(last=False)
        log.info("spar_idps_read", team=team, idps=len(known.issuers))
        return known


def _issuers(team: str, providers: list[dict[str, Any]]) -> dict[str, str]:
    """{idp id: metadata issuer} of the IdPConfigs that are the team's; malformed entries are skipped."""
    issuers: dict[str, str] = {}
    for idp in providers:
        metadata, extra = idp.get("metadata"), idp.get("extraInfo")
        issuer = metadata.get("issuer") if isinstance(metadata, dict) else None
        owner = extra.get("team") if isinstance(extra, dict) else None
        idp_id = _uuid(idp.get("id"))
        if idp_id is None or not isinstance(issuer, str) or not issuer or (owner is not None and owner != team):
            log.warning("spar_idp_skipped", team=team, idp=idp.get("id"))
            continue
        issuers[idp_id] = issuer
    return issuers


def _uuid(value: Any) -> str | None:
    try:
        return str(uuid.UUID(value)) if isinstance(value, str) else None
    except ValueError:
        return None
