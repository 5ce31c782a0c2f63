"""`POST /.search` at the service root (RFC 7644 §3.4.3): searching every resource type at once."""

from __future__ import annotations

from aiohttp import web

from gateway.scim.errors import ScimError


async def search_all_resource_types(request: web.Request) -> web.StreamResponse:
    """Not implemented (501, RFC 7644 §3.12): a client searches /Users and /Groups one at a time."""
    raise ScimError(
        "Searching several resource types at once (POST /.search) is not implemented; "
        "use GET /Users?filter=... or GET /Groups?filter=...",
        status=501,
    )
