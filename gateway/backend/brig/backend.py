"""
The brig backend: Wire users and user groups live in Wire's brig and galley, reached over their
internal API (client.py); the gateway keeps spar's SCIM state and a searchable mirror beside them
in its own database (user_mirror.py, group_mirror.py).

`BrigBackend` is the `Backend` (gateway/backend/base.py): the user flows are users.py's
`BrigUsers`, the group flows groups.py's `BrigGroups`; both share one client (one connection
pool), the database and one set of per-key write sections, exclusive across the gateway processes
sharing the database (locks.py). Group members follow the `MemberRule` given
(gateway/backend/base.py); brig's refusals leave every method as SCIM errors (refusals.py).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from gateway.backend.base import IssuerLookup, MemberRule
from gateway.backend.brig.client import BrigClient, BrigSettings
from gateway.backend.brig.groups import BrigGroups
from gateway.backend.brig.idp_issuers import SparIssuers
from gateway.backend.brig.locks import WriteLocks
from gateway.backend.brig.refusals import refusals_mapped
from gateway.backend.brig.spar_writes import SparWrites
from gateway.backend.brig.users import CALLS_PER_CREATE, BrigUsers
from gateway.backend.spar_state.model import SparState
from gateway.backend.wire_group import GroupEdit, GroupPage, GroupQuery, NewGroup, WireGroup
from gateway.backend.wire_user import NewUser, Page, UserFields, UserQuery, WireUser
from gateway.db.dialect import Database
from gateway.scim.errors import ScimError

LOCALE_SECONDS = 300.0  # how long brig's default locale is kept before it is asked again


class NoIssuers:
    """The IssuerLookup of a brig backend given none: every SAML write says what to configure."""

    async def issuer_of(self, team: str, idp_id: str) -> str:
        raise ScimError(
            f"the gateway cannot tell the SAML issuer of IdP {idp_id}: configure backend.spar_url, or "
            "register the IdP with its issuer (scim-gateway idp add --issuer)",
            status=500,
        )

    async def idps_of(self, team: str) -> list[tuple[str, str | None]]:
        return []


class BrigBackend:
    """A `Backend` over brig and galley; see the module docstring."""

    def __init__(
        self,
        client: BrigClient,
        db: Database,
        *,
        stale_after: float,
        group_members: MemberRule,
        issuers: IssuerLookup | None = None,
        spar_state: SparState | None = None,
    ) -> None:
        self._brig = client
        locks = WriteLocks(db)  # per user and per group, across the processes on `db`
        spar = SparWrites(spar_state)  # spar's own tables beside brig (spar_writes.py), or nothing
        self._users = BrigUsers(client, db, locks, issuers or NoIssuers(), stale_after=stale_after, spar=spar)
        self._groups = BrigGroups(client, db, locks, group_members, stale_after=stale_after)
        self._users.join_groups = self._groups.admit_accepted
        self._default_locale: tuple[float, str] | None = None  # (read at, brig's answer)
        self.spar_issuers: SparIssuers | None = None  # the team IdPs spar lists, when they come from spar

    @classmethod
    async def open(
        cls,
        settings: BrigSettings,
        db: Database,
        *,
        group_members: MemberRule,
        issuers: IssuerLookup | None = None,
        spar_state: SparState | None = None,
    ) -> BrigBackend:
        """
        The client (one session, a bounded keep-alive pool, made on the running loop) over the
        gateway's database `db`. SAML issuers come from `issuers` when given, else from spar
        (`settings.spar_url`, through the same client: `spar_issuers`).
        """
        # how long a `creating` marker may stand before a retried POST takes it for abandoned
        stale_after = CALLS_PER_CREATE * settings.call_timeout + 5
        client = BrigClient(settings)
        spar = SparIssuers(client) if issuers is None and settings.spar_url else None
        backend = cls(
            client,
            db,
            stale_after=stale_after,
            group_members=group_members,
            issuers=issuers or spar,
            spar_state=spar_state,
        )
        backend.spar_issuers = spar
        return backend

    @property
    def client(self) -> BrigClient:
        """The brig/galley client, shared with the token API's team directory (directory.py)."""
        return self._brig

    @refusals_mapped
    async def ensure_team(self, team: str) -> None:
        """Teams are made in Wire; this only checks that galley answers for it."""
        await self._brig.check_team(team)

    @refusals_mapped
    async def default_locale(self) -> str | None:
        """
        brig's default locale (`GET /i/users/locale`), as spar asks it for a user without
        preferredLanguage; a deployment setting, so kept for LOCALE_SECONDS.
        """
        now = time.monotonic()
        if self._default_locale is None or now - self._default_locale[0] > LOCALE_SECONDS:
            self._default_locale = (now, await self._brig.default_locale())
        return self._default_locale[1]

    # --- users -------------------------------------------------------------------------------

    async def get_user(self, team: str, user_id: str) -> WireUser:
        return await self._users.get_user(team, user_id)

    async def search_users(self, team: str, query: UserQuery) -> Page:
        return await self._users.search_users(team, query)

    async def create_user(self, team: str, new: NewUser) -> WireUser:
        return await self._users.create_user(team, new)

    async def update_user(
        self, team: str, user_id: str, fields: UserFields, *, expected_version: str | None = None
    ) -> WireUser:
        return await self._users.update_user(team, user_id, fields, expected_version=expected_version)

    async def delete_user(self, team: str, user_id: str) -> bool:
        return await self._users.delete_user(team, user_id)

    async def accept_invitation(self, team: str, user_id: str) -> WireUser:
        return await self._users.accept_invitation(team, user_id)

    # --- groups ------------------------------------------------------------------------------

    async def get_group(self, team: str, group_id: str, *, include_members: bool = True) -> WireGroup:
        return await self._groups.get_group(team, group_id, include_members=include_members)

    async def search_groups(self, team: str, query: GroupQuery) -> GroupPage:
        return await self._groups.search_groups(team, query)

    async def create_group(self, team: str, new: NewGroup) -> WireGroup:
        return await self._groups.create_group(team, new)

    async def edit_group(
        self,
        team: str,
        group_id: str,
        edits: Sequence[GroupEdit],
        *,
        expected_version: str | None = None,
        include_members: bool = False,
    ) -> WireGroup:
        return await self._groups.edit_group(
            team, group_id, edits, expected_version=expected_version, include_members=include_members
        )

    async def delete_group(self, team: str, group_id: str) -> bool:
        return await self._groups.delete_group(team, group_id)

    # --- health ------------------------------------------------------------------------------

    @refusals_mapped
    async def check(self) -> None:
        await self._brig.check()

    async def close(self) -> None:
        await self._brig.close()
