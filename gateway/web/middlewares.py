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
"""

from __future__ import annotations

import random
import time

import structlog
from aiohttp import web

from gateway.provisioning.wire_errors import WireError, wire_error_of
from gateway.scim.errors import InvalidSyntax, ScimError, UnsupportedMediaType
from gateway.web.json_io import error_response
from gateway.web.keys import REQUEST_ID, TOKEN, WIRE_API
from gateway.web.routing import Handler

log = structlog.get_logger()

CONTENT_ENCODINGS = frozenset({"gzip", "deflate", "identity"})  # what aiohttp always decodes
CLIENT_CLOSED_REQUEST = 499


@web.middleware
async def handle_request(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    request_id = _request_id(request)
    request[REQUEST_ID] = request_id
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    try:
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
    response.headers["X-Request-Id"] = request_id
    token = request.get(TOKEN)
    log.info(
        "request",
        method=request.method,
        path=request.path,
        status=response.status,
        duration_ms=round((time.perf_counter() - started) * 1000, 2),
        team=token.team if token else None,
        token_id=token.id if token else None,
    )
    return response


def _check_content_encoding(request: web.Request) -> None:
    """415 for a body aiohttp would hand over undecoded (br, zstd without their packages, x-gzip, ...)."""
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding and encoding not in CONTENT_ENCODINGS:
        raise UnsupportedMediaType("Content-Encoding not supported; send the body uncompressed, gzip or deflate")


def _request_id(request: web.Request) -> str:
    given = request.headers.get("X-Request-Id", "")
    if 0 < len(given) <= 64 and given.replace("-", "").isalnum():
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
