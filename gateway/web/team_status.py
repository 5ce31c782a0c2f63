"""
`GET /i/teams/{tid}/scim-status`: the SSO-invite switch of a team, for the service that handles
SSO logins to consult (internal, like /i/status: no token; keep /i/ away from the public side).

    {"scim_tokens": n, "sso_invites_enabled": n == 0}

The state is the token count itself, read at each call, so it cannot disagree with the tokens.
"""

from __future__ import annotations

import uuid

from aiohttp import web

from gateway.provisioning.wire_errors import WireError
from gateway.web.keys import TOKENS, WIRE_API

PATH = "/i/teams/{tid}/scim-status"


async def scim_status(request: web.Request) -> web.Response:
    request[WIRE_API] = True
    try:
        team = str(uuid.UUID(request.match_info["tid"]))
    except ValueError:
        raise WireError(400, "bad-request", "the team id must be a UUID") from None
    count = await request.app[TOKENS].count(team)
    return web.json_response({"scim_tokens": count, "sso_invites_enabled": count == 0})
