"""Reading and writing SCIM JSON: media types, body size, syntax, one response shape."""

from __future__ import annotations

import json
from typing import Any

import orjson
from aiohttp import web

from gateway.scim.errors import InvalidSyntax, InvalidValue, PayloadTooLarge, ScimError, UnsupportedMediaType

SCIM_JSON = "application/scim+json; charset=utf-8"
ACCEPTED_TYPES = ("application/scim+json", "application/json")


async def read_json(request: web.Request) -> Any:
    """The request's JSON body; 415 for other media types, 413 past the limit, 400 for bad JSON."""
    media_type = request.content_type.lower()
    if media_type not in ACCEPTED_TYPES:
        raise UnsupportedMediaType(
            f"Content-Type {media_type or '(none)'} is not supported; send application/scim+json or application/json"
        )
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge(
            f"The request body is larger than the limit of {request.client_max_size} bytes (limits.max_body_bytes)"
        ) from None
    try:
        return orjson.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        where = f" at line {exc.lineno}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        if "surrogate in string" in str(exc):  # orjson refuses "\ud800": no character, no store could hold it
            raise InvalidValue(
                f"The request body has a lone UTF-16 surrogate escape (such as \\ud800){where}: a string "
                "value must hold whole characters (a surrogate pair, or the character itself)"
            ) from None
        raise InvalidSyntax(f"The request body is not valid JSON{where}") from None
    except RecursionError:
        raise InvalidSyntax("The request body is JSON nested too deeply") from None


def scim_response(body: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return serialised_response(orjson.dumps(body), status=status, headers=headers)


def serialised_response(body: bytes, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A SCIM JSON response whose body is serialised already."""
    return web.Response(body=body, status=status, headers={"Content-Type": SCIM_JSON, **(headers or {})})


def error_response(error: ScimError) -> web.Response:
    return scim_response(error.to_body(), status=error.status, headers=error.headers)


def not_modified(request: web.Request, version: str) -> web.Response | None:
    """304 when the client's If-None-Match names the current version (RFC 7644 §3.14)."""
    header = request.headers.get("If-None-Match")
    if header and (version in {tag.strip() for tag in header.split(",")} or header.strip() == "*"):
        return web.Response(status=304, headers={"ETag": version})
    return None
