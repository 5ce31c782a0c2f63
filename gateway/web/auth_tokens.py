"""
Wire's token API over HTTP: `/scim/auth-tokens` (and `/vN/scim/auth-tokens`), which is not a SCIM
resource: its errors are Wire's {"code", "label", "message"} (gateway/provisioning/wire_errors.py).

| method and path                    | versions | answer                                  |
|------------------------------------|----------|-----------------------------------------|
| POST /scim/auth-tokens             | all      | 200 {"token", "info"}                   |
| GET /scim/auth-tokens              | all      | 200 {"tokens": [info, ...]}             |
| DELETE /scim/auth-tokens?id=ID     | all      | 204 (also for an unknown id)            |
| PUT /scim/auth-tokens/ID {"name"}  | 8 and up | 200 [] (404 below version 8, as Wire)   |

The unversioned path is version 0 (as spar reads it). The caller is the `Z-User` nginz sets after
checking the user's access token; it is believed only from an address in `trusted_proxies`: from
anywhere else the call is refused with 403 `untrusted-proxy` whatever the headers say. A trusted
request without `Z-User` gets Wire's 400 `client-error`. Wrong passwords count against the client
address (gateway/web/throttle.py): past the limit, POST is 429 `too-many-requests` without a
password check. The rules themselves are gateway/provisioning/token_api.py's.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from gateway import metrics
from gateway.provisioning.token_api import V8, TokenApi, parse_create, parse_rename
from gateway.provisioning.wire_errors import WireError
from gateway.web.keys import AUTH_FAILURES, TOKEN_API, WIRE_API
from gateway.web.middlewares import Routes
from gateway.web.routing import client_address, from_trusted_proxy

PATHS = (
    "/scim/auth-tokens",
    "/scim/auth-tokens/{id}",
    "/{version:v[0-9]{1,4}}/scim/auth-tokens",
    "/{version:v[0-9]{1,4}}/scim/auth-tokens/{id}",
)
JSON_TYPES = ("application/json",)
# Refusals of the re-authentication (a wrong or missing password, a wrong second factor): they
# count against the client address, and past limits.auth_failures_per_minute creating is 429.
PASSWORD_FAILURES = frozenset({"access-denied", "code-authentication-failed"})

Operation = Callable[[web.Request, TokenApi, str, int], Awaitable[web.StreamResponse]]


def add_auth_token_routes(router: Routes) -> None:
    """Before the SCIM catch-all route, so that these paths never reach the SCIM router."""
    for path in PATHS:
        router.add_route("*", path, auth_tokens)


async def auth_tokens(request: web.Request) -> web.StreamResponse:
    request[WIRE_API] = True
    version = int(request.match_info.get("version", "v0")[1:])
    if "id" in request.match_info:
        if request.method == "PUT" and version < V8:
            raise WireError(404, "not-found", "PUT /scim/auth-tokens/:id exists from API version 8 (/v8/scim/...)")
        operations: dict[str, Operation] = {"PUT": _rename}
    else:
        operations = {"POST": _create, "GET": _list, "DELETE": _delete}
    operation = operations.get(request.method)
    if operation is None:
        allowed = ", ".join(sorted(operations))
        raise WireError(405, "method-not-allowed", f"allowed here: {allowed}", headers={"Allow": allowed})
    return await operation(request, request.app[TOKEN_API], caller(request), version)


def caller(request: web.Request) -> str:
    """The user id nginz vouches for in `Z-User`, from a trusted proxy only."""
    if not from_trusted_proxy(request):
        raise WireError(
            403,
            "untrusted-proxy",
            "The token API is served through nginz only: this request did not come from an address "
            "in trusted_proxies, so its Z-User header is not believed.",
        )
    user = request.headers.get("Z-User")
    if user is None:
        raise WireError(400, "client-error", "[header] 'Z-User' required")
    return _uuid(user, "[header] 'Z-User'")


async def _create(request: web.Request, api: TokenApi, user: str, version: int) -> web.StreamResponse:
    body = parse_create(await _json_body(request), version=version)
    failures, address = request.app[AUTH_FAILURES], client_address(request)
    retry_after = failures.retry_after(address)
    if retry_after is not None:  # no password is checked, right or wrong
        metrics.throttled("token_api")
        raise WireError(
            429,
            "too-many-requests",
            f"Too many failed re-authentications from this address; retry in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )
    try:
        return web.json_response(await api.create(user, body, version=version))
    except WireError as exc:
        if exc.label in PASSWORD_FAILURES:
            metrics.auth_failed("token_api", exc.label)
            failures.failed(address)
        raise


async def _list(request: web.Request, api: TokenApi, user: str, version: int) -> web.StreamResponse:
    return web.json_response(await api.list(user, version=version))


async def _delete(request: web.Request, api: TokenApi, user: str, version: int) -> web.StreamResponse:
    token_id = request.query.get("id")
    if token_id is None:
        raise WireError(400, "bad-request", "[query] 'id' required")
    await api.delete(user, _uuid(token_id, "[query] 'id'"))
    return web.Response(status=204)


async def _rename(request: web.Request, api: TokenApi, user: str, version: int) -> web.StreamResponse:
    token_id = _uuid(request.match_info["id"], "the token id")
    await api.rename(user, token_id, parse_rename(await _json_body(request)))
    return web.json_response([])  # Wire answers JSON `()`


async def _json_body(request: web.Request) -> Any:
    if request.content_type.lower() not in JSON_TYPES:
        raise WireError(415, "unsupported-media-type", "send the body as application/json")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise WireError(413, "request-too-large", f"the body is larger than {request.client_max_size} bytes") from None
    try:
        return orjson.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise WireError(400, "bad-request", "the body is not valid JSON") from None


def _uuid(value: str, what: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise WireError(400, "bad-request", f"{what} must be a UUID") from None
