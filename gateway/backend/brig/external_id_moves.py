"""
A change of a brig user's externalId (E1 -> E2) and the gateway's externalId index (issue 16).

The index must say what brig holds, or two users end up with one externalId: brig keeps the
externalId in the user's SSO id (`PUT /i/users/:uid/sso-id`), which can fail, or succeed with its
answer lost. So E2 is claimed `moving` beside E1 before brig is written (user_mirror.hold_move),
and one of the two goes only once brig's side is known: E1 when the PUT succeeded (the mirror's
`save` finishes the move), E2 when it was never sent or brig refused it; when its outcome is
unknown brig is read back. If even that fails, both stay claimed (no POST can take either) and
whoever meets the `moving` entry next asks brig again (`check_moving`); a retry of the same
update takes its own entry over, so it converges.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import structlog

from gateway.backend.brig import user_mirror as state
from gateway.backend.brig.client import BrigClient
from gateway.backend.brig.mapping import external_id_of, status_of
from gateway.db.dialect import Database
from gateway.scim.errors import ScimError, Uniqueness

log = structlog.get_logger()


@dataclass(slots=True)
class SsoWrite:
    """How far the update got with brig's `sso-id` PUT."""

    state: Literal["unsent", "sent", "done"] = "unsent"  # sent: no answer (an error, a lost answer)
    issuer: str | None = None  # the SAML issuer URI of the user's IdP; None: not a SAML user


async def settle(brig: BrigClient, db: Database, team: str, user_id: str, new: str, sso: SsoWrite) -> None:
    """After a failed update: keep the entry brig holds, drop the other (both stay when brig cannot say)."""
    try:
        if sso.state == "sent":
            accounts = await brig.get_users([user_id])
            held = [external_id_of(a.get("sso_id")) for a in accounts if a.get("id") == user_id]
            sso.state = "done" if new in held else "unsent"
        if sso.state == "done":
            await db.write(lambda conn: state.finish_move(conn, team, user_id, new))
        else:
            await db.write(lambda conn: state.drop_move(conn, team, user_id, new))
    except ScimError:
        log.warning("external_id_move_unsettled", user_id=user_id, team=team)


async def check_moving(
    brig: BrigClient, db: Database, team: str, external_id: str, claim: state.Claim, *, stale_after: float
) -> None:
    """
    Another user's `moving` claim on `external_id`: Uniqueness while brig holds it for that user
    (the move is finished here) or the move may still be under way; else the claim is dropped.
    """
    accounts = await brig.get_users([claim.user_id])
    live = [a for a in accounts if a.get("id") == claim.user_id and status_of(a) is not None]
    if live and external_id_of(live[0].get("sso_id")) == external_id:
        await db.write(lambda conn: state.finish_move(conn, team, claim.user_id, external_id))
        raise Uniqueness(f"externalId {external_id!r} is already taken by another user")
    if live and time.time() - claim.claimed_at < stale_after:
        raise Uniqueness(f"externalId {external_id!r} is being given to another user; retry shortly")
    await db.write(lambda conn: state.drop_move(conn, team, claim.user_id, external_id))
    log.info("external_id_move_dropped", user_id=claim.user_id, team=team)
