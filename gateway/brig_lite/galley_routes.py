"""
galley's internal routes that spar calls for SCIM (docs/wire.md §6.2), on brig-lite's listener.
Routes by their `Named` label in libs/wire-api/src/Wire/API/Routes/Internal/Galley.hs (IG),
handlers in services/galley/src/Galley/API/Internal.hs and Galley/API/Teams.hs. A body that does
not decode is 400 `bad-request` (galley's bodyParserErrorFormatter', services/galley/src/Galley/Run.hs).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from gateway.brig_lite import accounts as acc
from gateway.brig_lite.state import STATE
from gateway.brig_lite.wire_json import WireError, permissions_json, read_body

TID = "{tid:[0-9a-fA-F-]{36}}"
MAX_PERMISSIONS = 0x1FFF  # every Perm of libs/wire-api/src/Wire/API/Team/Permission.hs


def add_galley_routes(app: web.Application) -> None:
    r = app.router
    r.add_get(f"/i/teams/{TID}/members/{{uid:[0-9a-fA-F-]{{36}}}}", get_member, allow_head=False)
    r.add_put(f"/i/teams/{TID}/members", put_member)
    r.add_get(f"/i/teams/{TID}/features/validateSAMLemails", get_validate_saml_emails, allow_head=False)


def _uuid(value: object, what: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise WireError(400, "bad-request", f"Error in $: {what} must be a UUID") from None


async def get_member(request: web.Request) -> web.Response:
    """
    IG "unchecked-get-team-member": 200 the TeamMember (golden testObject_TeamMember_team_1.json);
    404 `no-team-member` (TeamMemberNotFound), also for an invitee that has not accepted yet.
    """
    team = _uuid(request.match_info["tid"], "team id")
    uid = _uuid(request.match_info["uid"], "user id")
    bits, created_by, created_at = await request.app[STATE].read(lambda conn, _: acc.get_member(conn, team, uid))
    return web.json_response(
        {
            "user": uid,
            "permissions": permissions_json(bits),
            # Team/Member.hs: the invitation (inviter, time) is both or neither; SAML users, seeded
            # members and SCIM invitees (invited by nobody) have neither.
            "created_by": created_by,
            "created_at": None if created_by is None else created_at,
            "legalhold_status": "disabled",
        }
    )


def _is_bitmask(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_PERMISSIONS


def parse_permissions(value: Any) -> int:
    """
    A Permissions object (Team/Permission.hs, ToSchema Permissions via newPermissions): `self`
    and `copy` bitmasks, `copy` a subset of `self`; brig-lite keeps only `self`.
    """
    if not isinstance(value, Mapping):
        raise WireError(400, "bad-request", 'Error in $.member.permissions: expected {"self", "copy"}')
    own, copy = value.get("self"), value.get("copy")
    if not all(_is_bitmask(bits) for bits in (own, copy)):
        raise WireError(400, "bad-request", "Error in $.member.permissions: self and copy must be permission bitmasks")
    assert isinstance(own, int) and isinstance(copy, int)
    if copy & ~own:
        raise WireError(400, "bad-request", "Error in $.member.permissions: invalid permissions")
    return own


async def put_member(request: web.Request) -> web.Response:
    """
    IG "unchecked-update-team-member", Galley/API/Teams.hs uncheckedUpdateTeamMember: a
    NewTeamMember `{"member": {"user", "permissions": {"self", "copy"}, "created_by",
    "created_at"}}` (Team/Member.hs; golden testObject_NewTeamMember_team_1.json); an unwrapped
    body does not decode (400 `bad-request`). 404 `no-team-member` (TeamMemberNotFound) for a
    user that is no member of the team; 200 with no body otherwise.
    """
    team = _uuid(request.match_info["tid"], "team id")
    member = (await read_body(request)).get("member")
    if not isinstance(member, Mapping):
        raise WireError(400, "bad-request", 'Error in $: key "member" not found')
    uid = _uuid(member.get("user"), "member.user")
    bits = parse_permissions(member.get("permissions"))
    created_by, created_at = member.get("created_by"), member.get("created_at")
    if (created_by is None) != (created_at is None):
        raise WireError(400, "bad-request", "Error in $.member: created_by, created_at")  # both or neither
    if created_by is not None:
        _uuid(created_by, "member.created_by")
    if created_at is not None and not isinstance(created_at, str):
        raise WireError(400, "bad-request", "Error in $.member.created_at: expected a UTCTimeMillis")
    await request.app[STATE].write(lambda conn, _, __: acc.set_member_permissions(conn, team, uid, bits))
    return web.Response(status=200)


async def get_validate_saml_emails(request: web.Request) -> web.Response:
    """
    IG's feature route for `validateSAMLemails` (LockableFeature: status, lockStatus, ttl),
    following brig-lite's `validate_saml_emails` setting.
    """
    _uuid(request.match_info["tid"], "team id")
    enabled = request.app[STATE].settings.validate_saml_emails
    return web.json_response(
        {"status": "enabled" if enabled else "disabled", "lockStatus": "unlocked", "ttl": "unlimited"}
    )
