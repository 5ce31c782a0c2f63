"""
spar's internal route that the gateway reads (a team's IdPs and their issuers), on brig-lite's
listener: operators point the gateway's `backend.spar_url` at the same brig-lite URL.
"""

from __future__ import annotations

from aiohttp import web

from gateway.brig_lite.idps import idp_json, team_idps
from gateway.brig_lite.state import STATE
from gateway.brig_lite.wire_json import parse_uuid

TID = "{tid:[0-9a-fA-F-]{36}}"


def add_spar_routes(app: web.Application) -> None:
    app.router.add_get(f"/i/identity-providers/{TID}", get_identity_providers, allow_head=False)


async def get_identity_providers(request: web.Request) -> web.Response:
    """
    libs/wire-api/src/Wire/API/Routes/Internal/Spar.hs, Named "i_get_identity_providers":
    `GET /i/identity-providers/:team` -> IdPList `{"providers": [IdP]}` (IdentityProvider.hs,
    deriveJSON of IdPList); a team without IdPs answers an empty list.
    """
    team = parse_uuid(request.match_info["tid"], "team id")
    idps = await request.app[STATE].read(lambda conn, _: team_idps(conn, team))
    return web.json_response({"providers": [idp_json(idp) for idp in idps]})
