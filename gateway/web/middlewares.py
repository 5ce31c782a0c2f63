"""
The one middleware around every request: request id and log context, one access line, and every
failure rendered as an RFC 7644 error body (a 500 carries the request id, never a traceback) or,
on Wire's own APIs (the token API, `/i/...` routes: a WireError, or a request marked WIRE_API),
as Wire's body {"code", "label", "message"} with Content-Type application/json.

The access line never carries a body, a query string or a header value: the token API's bodies
hold passwords and its answers tokens. A body that cannot be decoded is the client's error (400
invalidSyntax; 415 for a Content-Encoding other than gzip and deflate), and a client that leaves
mid-request gets status 499 in the access line (nginx's "client closed request"), not a 500.
Requests aiohttp's parser rejects never get here: gateway/web/connections.py answers those.

The request id is nginz's (`Request-Id`, else `X-Request-Id`) when it is a sane one, else a new
one; it goes back in both headers and on every log line of the request. The access line also
carries the client address (through `listen.trusted_proxies`, gateway/web/routing.py) and the
User-Agent's product only (`product_of`); `serve` gives the app a faster writer for it
(`ACCESS_LOG`), the same line. Each answer is counted in the metrics by route template
(gateway/metrics.py). With `listen.internal_port` set, a listener answers only its own paths:
`/i/...` on the internal one, everything else on the public one; the rest is a SCIM 404.
"""

from __future__ import annotations

import functools
import random
import time
from typing import Any

import structlog
from aiohttp import web

from gateway import metrics
from gateway.config import Config
from gateway.provisioning.wire_errors import WireError, wire_error_of
from gateway.scim.errors import InvalidSyntax, NotFound, ScimError, UnsupportedMediaType
from gateway.store.base import TokenRecord
from gateway.web.json_io import error_response
from gateway.web.keys import ACCESS_LOG, CONFIG, REQUEST_ID, ROUTE, TOKEN, WIRE_API
from gateway.web.routing import Handler, Headers, logged_client_address

log = structlog.get_logger()

CONTENT_ENCODINGS = frozenset({"gzip", "deflate", "identity"})  # what aiohttp always decodes
CLIENT_CLOSED_REQUEST = 499
CATCH_ALL = "/{tail}"  # the canonical form of the SCIM catch-all route (gateway/app.py)
MAX_REQUEST_ID = 64
MAX_PRODUCT = 64

# What a listener serves (gateway/web/connections.py GatewaySite): everything, or with
# `listen.internal_port` set only `/i/...` (internal) or only the rest (public).
SERVES_ALL, SERVES_PUBLIC, SERVES_INTERNAL = "all", "public", "internal"


class Routes:
    """
    Where `create_app` adds its routes: each handler runs inside `handle_request`, wrapped when
    added rather than installed as an aiohttp middleware, whose machinery (the chain built
    around every handler, the current-app bookkeeping) cost more per request than the wrapper.
    Every route goes through here, the SCIM catch-all too, so every request gets what the
    middleware gave it.
    """

    def __init__(self, router: web.UrlDispatcher) -> None:
        self._router = router

    def add_get(self, path: str, handler: Handler, *, allow_head: bool = True) -> None:
        self._router.add_get(path, within_request(handler), allow_head=allow_head)

    def add_route(self, method: str, path: str, handler: Handler) -> None:
        self._router.add_route(method, path, within_request(handler))


def within_request(handler: Handler) -> Handler:
    """`handler` inside `handle_request`."""

    async def handle(request: web.Request) -> web.StreamResponse:
        return await handle_request(request, handler)

    return functools.update_wrapper(handle, handler)


@web.middleware  # usable as aiohttp's middleware too (tests/api/test_connections.py)
async def handle_request(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    request_id = request_id_of(request.headers)
    request[REQUEST_ID] = request_id
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    try:
        _check_listener(request)
        _check_content_encoding(request)
        response = await handler(request)
    except web.RequestPayloadError:  # a corrupt gzip or deflate body, a broken chunked encoding
        response = _wire_or_scim(
            request, InvalidSyntax("The request body could not be read: it is not validly encoded")
        )
    except ConnectionError:
        log.info("client_disconnected", method=request.method, path=request.path)
        response = web.Response(status=CLIENT_CLOSED_REQUEST)  # for the access line: nobody reads it
    except WireError as exc:
        response = wire_error_response(exc)
    except ScimError as exc:
        response = _wire_or_scim(request, exc)
    except web.HTTPException as exc:
        response = _from_http_exception(request, exc)
    except Exception:
        log.exception("unhandled_error", method=request.method, path=request.path)
        response = _wire_or_scim(
            request, ScimError(f"Internal error; quote request id {request_id} to the operator", status=500)
        )
    response.headers["Request-Id"] = request_id
    response.headers["X-Request-Id"] = request_id
    token = request.get(TOKEN)
    team = token.team if token else None
    seconds = time.perf_counter() - started
    metrics.observe_request(request.method, _route_of(request), response.status, team, seconds)
    config = request.app[CONFIG]
    fields = access_fields(
        request.method, request.path, response.status, seconds, token, request.remote, request.headers, config
    )
    request.app.get(ACCESS_LOG, _access_line_by_structlog)(request_id, fields)
    return response


def access_fields(
    method: str,
    path: str,
    status: int,
    seconds: float,
    token: TokenRecord | None,
    remote: str | None,
    headers: Headers,
    config: Config,
) -> dict[str, Any]:
    """The access line's fields (without the request id), of the middleware and the fast lane alike."""
    return {
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
        "team": token.team if token else None,
        "token_id": token.id if token else None,
        "client": logged_client_address(remote, config.listen.trusted_proxies, headers),
        "user_agent": product_of(headers.get("User-Agent")),
    }


def _access_line_by_structlog(request_id: str, fields: dict[str, Any]) -> None:
    log.info("request", **fields)  # the request id is bound in the context already


def _check_listener(request: web.Request) -> None:
    """404 for `/i/...` on the public listener and for anything else on the internal one."""
    serves = getattr(request.protocol, "serves", SERVES_ALL)
    if serves == SERVES_ALL:
        return
    internal = request.path == "/i" or request.path.startswith("/i/")
    if serves == SERVES_PUBLIC and internal:
        raise NotFound(f"There is no SCIM resource at {request.path}; the base URL is /scim/v2")
    if serves == SERVES_INTERNAL and not internal:
        raise NotFound(f"{request.path} is not served on the internal port; only /i/... is")


def _route_of(request: web.Request) -> str:
    """The route template for the metrics: the SCIM router's, else aiohttp's resource; never the path."""
    route = request.get(ROUTE)
    if route is not None:
        return route
    resource = request.match_info.route.resource
    if resource is None or resource.canonical == CATCH_ALL:
        return metrics.UNMATCHED
    return resource.canonical


@functools.lru_cache(maxsize=256)
def product_of(user_agent: str | None) -> str | None:
    """
    The User-Agent's product, for the access line: the text before the first comment `(` and up
    to the end of the first `name/version` token, printable ASCII only, at most MAX_PRODUCT
    characters ("Mozilla/5.0 (Windows ...) ..." -> "Mozilla/5.0"; "Okta SCIM Client 1.0.0" as
    it is). None when there is none.
    """
    if not user_agent:
        return None
    words = []
    for word in user_agent.split("(", 1)[0].split():
        words.append("".join(c for c in word if "!" <= c <= "~"))
        if "/" in word:
            break
    product = " ".join(w for w in words if w)[:MAX_PRODUCT].strip()
    return product or None


def _check_content_encoding(request: web.Request) -> None:
    """415 for a body aiohttp would hand over undecoded (br, zstd without their packages, x-gzip, ...)."""
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding and encoding not in CONTENT_ENCODINGS:
        raise UnsupportedMediaType("Content-Encoding not supported; send the body uncompressed, gzip or deflate")


def request_id_of(headers: Headers) -> str:
    """nginz's `Request-Id` (else `X-Request-Id`) if it is 1 to 64 ASCII letters, digits and dashes; else a new one."""
    for header in ("Request-Id", "X-Request-Id"):
        given = headers.get(header, "")
        if 0 < len(given) <= MAX_REQUEST_ID and given.isascii() and given.replace("-", "").isalnum():
            return given
    return f"{random.getrandbits(128):032x}"  # unique, not secret: no need for os.urandom


def wire_error_response(exc: WireError) -> web.Response:
    return web.json_response(exc.to_body(), status=exc.status, headers=exc.headers)


def _wire_or_scim(request: web.Request, exc: ScimError) -> web.Response:
    """A ScimError in the shape of the API it happened on."""
    if request.get(WIRE_API):
        return wire_error_response(wire_error_of(exc.status, exc.detail, headers=exc.headers))
    return error_response(exc)


def _from_http_exception(request: web.Request, exc: web.HTTPException) -> web.StreamResponse:
    if exc.status < 400:
        return exc
    if exc.status == 413:
        return _wire_or_scim(request, ScimError("The request body is larger than the configured limit", status=413))
    return _wire_or_scim(request, ScimError(exc.reason, status=exc.status))
