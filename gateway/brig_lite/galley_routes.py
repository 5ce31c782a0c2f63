"""galley's internal routes that spar calls for SCIM (docs/wire.md §6.2), on brig-lite's listener."""

from __future__ import annotations

import json
import uuid

from aiohttp import web

from gateway.brig_lite import accounts as acc
from gateway.brig_lite.state import STATE
from gateway.brig_lite.wire_json import WireError, parse_permissions, permissions_json

TID = "{tid:[0-9a-fA-F-]{36}}"


def add_galley_routes(app: web.Application) -> None:
    r = app.router
    r.add_get(f"/i/teams/{TID}/members/{{uid:[0-9a-fA-F-]{{36}}}}", get_member, allow_head=False)
    r.add_put(f"/i/teams/{TID}/members", put_member)
    r.add_get(f"/i/teams/{TID}/features/validateSAMLemails", get_validate_saml_emails, allow_head=False)


def _uuid(value: object, what: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise WireError(400, "bad-request", f"{what} must be a UUID") from None


async def get_member(request: web.Request) -> web.Response:
    """200 the TeamMember (permissions as {"self", "copy"}); 404 `no-team-member`."""
    team = _uuid(request.match_info["tid"], "team id")
    uid = _uuid(request.match_info["uid"], "user id")
    bits, created_by, created_at = await request.app[STATE].read(lambda conn, _: acc.get_member(conn, team, uid))
    return web.json_response(
        {
            "user": uid,
            "permissions": permissions_json(bits),
            "created_by": created_by,
            "created_at": created_at,
            "legalhold_status": "disabled",
        }
    )


async def put_member(request: web.Request) -> web.Response:
    """The role change from SCIM: {"user", "permissions": {"self", "copy"}}."""
    team = _uuid(request.match_info["tid"], "team id")
    try:
        body = json.loads(await request.read())
    except ValueError:
        raise WireError(400, "bad-request", "the body is not JSON") from None
    if not isinstance(body, dict):
        raise WireError(400, "bad-request", "the body must be a JSON object")
    uid = _uuid(body.get("user"), "user")
    bits = parse_permissions(body.get("permissions"))
    await request.app[STATE].write(lambda conn, _, __: acc.set_member_permissions(conn, team, uid, bits))
    return web.Response(status=200)


async def get_validate_saml_emails(request: web.Request) -> web.Response:
    _uuid(request.match_info["tid"], "team id")
    enabled = request.app[STATE].settings.validate_saml_emails
    return web.json_response(
        {"status": "enabled" if enabled else "disabled", "lockStatus": "unlocked", "ttl": "unlimited"}
    )
