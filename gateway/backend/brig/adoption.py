"""
Users spar's own SCIM made, taken over when an IdP looks for them (issue 15, "reversible"): with
`spar_state`, a filter `externalId eq "X"` or `userName eq "X"` that finds no user in the
gateway's mirror asks spar's tables and brig. A user complete in spar's index (`scim_external`
CREATED), alive in brig in the token's team and managed by SCIM is added to the mirror as brig,
galley and spar hold it, so the IdP's next sync finds and manages it (no 409 on its POST, no
second account). Users that SCIM did not make (managed by Wire) are never taken over
(docs/backend-calls.md, "Users not created by SCIM").
"""

from __future__ import annotations

import time
from typing import Any

import structlog

from gateway.backend.base import IssuerLookup
from gateway.backend.brig import user_mirror as state
from gateway.backend.brig.client import BrigClient
from gateway.backend.brig.mapping import external_id_of, read_back, rich_info_of, role_of, status_of
from gateway.backend.brig.spar_writes import SparWrites
from gateway.backend.spar_state.model import CreationStatus
from gateway.backend.wire_user import WireUser
from gateway.clock import format_time, now_text
from gateway.db.dialect import Database
from gateway.scim.errors import Uniqueness
from gateway.scim.filter.ast import Compare

log = structlog.get_logger()

CORE_USER_URN = "urn:ietf:params:scim:schemas:core:2.0:user"


def wanted(filter_: Any) -> tuple[str, str] | None:
    """("externalid" | "username", value) of a filter that is exactly `externalId eq "X"` or `userName eq "X"`."""
    if not isinstance(filter_, Compare) or filter_.op != "eq" or not isinstance(filter_.value, str):
        return None
    path = filter_.path
    if path.sub is not None or (path.uri is not None and path.uri.lower() != CORE_USER_URN):
        return None
    return (path.attr, filter_.value) if path.attr in ("externalid", "username") else None


async def adopt(
    brig: BrigClient, db: Database, spar: SparWrites, issuers: IssuerLookup, team: str, attr: str, value: str
) -> WireUser | None:
    """The user spar's SCIM made that the filter names, now in the mirror; None when there is none to take."""
    if not spar.active:
        return None
    account: dict[str, Any] | None = None
    external_id = value
    if attr == "username":
        account = await brig.get_user_by_handle(value.lower())
        found = None if account is None else external_id_of(account.get("sso_id"))
        if found is None:
            return None
        external_id = found
    if await db.read(lambda conn: state.get_claim(conn, team, external_id)) is not None:
        return None  # the gateway knows this externalId: its own flows decide
    entry = await spar.entry(team, external_id)
    if entry is None or entry.status != CreationStatus.CREATED:
        return None
    user_id = str(entry.user)
    if account is None or account.get("id") != user_id:
        account = next((u for u in await brig.get_users([user_id]) if u.get("id") == user_id), None)
    status = None if account is None else status_of(account)
    if account is None or status is None or account.get("team") != team or account.get("managed_by") != "scim":
        return None
    if await db.read(lambda conn: state.mirror_row(conn, team, user_id)) is not None:
        return None
    bits = await brig.get_member_permissions(team, user_id)
    rich_info = await brig.get_rich_info(user_id)
    times = await spar.times(user_id)
    created = now_text() if times is None else format_time(times.created_at)
    modified = now_text() if times is None else format_time(times.last_updated_at)
    blank = WireUser(
        id=user_id,
        team=team,
        handle="",
        display_name="",
        external_id=external_id,
        email=None,
        email_type=None,
        status="active",
        role="member",
        locale="",
        idp=await _idp_of(issuers, team, account.get("sso_id")),
        rich_info=(),
        extra="{}",
        created=created,
        last_modified=modified,
    )
    user = read_back(
        blank,
        account,
        status=status,
        rich_info=rich_info_of(rich_info),
        role="member" if bits is None else role_of(bits),
    )

    def record(conn: Any) -> None:
        state.claim(conn, team, external_id, user_id, time.time())
        state.record_created(conn, user)

    try:
        await db.write(record)
    except Uniqueness:  # another request took it over meanwhile: the search finds its row
        return None
    log.info("user_taken_over_from_spar", user_id=user_id, team=team)
    return user


async def _idp_of(issuers: IssuerLookup, team: str, sso: Any) -> str | None:
    """The id of the team's IdP whose issuer is the SAML tenant of `sso` (None: not a SAML user, or unknown)."""
    tenant = sso.get("tenant") if isinstance(sso, dict) else None
    if not isinstance(tenant, str):
        return None
    for idp_id, issuer in await issuers.idps_of(team):  # spar's list or the registry's
        if issuer and f">{issuer}<" in tenant:
            return str(idp_id)
    return None
