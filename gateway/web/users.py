"""/Users handlers: parse the request, call one UserService method, render the result."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from gateway.backend.wire_user import WireUser
from gateway.config import Limits
from gateway.provisioning.render import USER_ALWAYS_RETURNED, render_user
from gateway.provisioning.render_groups import render_user_groups
from gateway.provisioning.users import SearchRequest
from gateway.provisioning.wire_schemas import USER_EXTENSION_URNS
from gateway.scim.errors import InvalidValue
from gateway.scim.filter.grammar import parse_filter, refuse_unstorable
from gateway.scim.projection import parse_attribute_list, project
from gateway.scim.schemas import USER_URN, list_response
from gateway.web.json_io import not_modified, read_json, scim_response, serialised_response
from gateway.web.keys import BASE_URL, CONFIG, RESOURCE_ID, TOKEN, USERS


def _location(request: web.Request, user: WireUser) -> str:
    return f"{request[BASE_URL]}/Users/{user.id}"


Projection = tuple[tuple[str, ...], tuple[str, ...]]


def query_projection(request: web.Request) -> Projection:
    """The `attributes` and `excludedAttributes` of the request (RFC 7644 §3.4.2.5)."""
    return (
        parse_attribute_list(request.query.get("attributes"), extension_urns=USER_EXTENSION_URNS),
        parse_attribute_list(request.query.get("excludedAttributes"), extension_urns=USER_EXTENSION_URNS),
    )


def _projected(request: web.Request, user: WireUser, projection: Projection | None = None) -> dict:
    attributes, excluded = projection or query_projection(request)
    resource = render_user(user, location=_location(request, user))
    if user.groups:  # read-only; the backend read them with the user
        resource["groups"] = render_user_groups(user.groups, base_url=request[BASE_URL])
    if attributes or excluded:
        resource = project(resource, attributes=attributes, excluded=excluded, always=USER_ALWAYS_RETURNED)
    return resource


def _user_response(request: web.Request, user: WireUser, *, status: int = 200) -> web.Response:
    headers = {"ETag": user.version}
    if status == 201:
        headers["Location"] = _location(request, user)
    return scim_response(_projected(request, user), status=status, headers=headers)


async def create_user(request: web.Request) -> web.Response:
    body = await read_json(request)
    user = await request.app[USERS].create(request[TOKEN], body)
    return _user_response(request, user, status=201)


async def get_user(request: web.Request) -> web.Response:
    if not request.query_string:  # the whole user: its stored document, if the backend keeps one
        users, base_url = request.app[USERS], request[BASE_URL]
        found = await users.get_serialised(request[TOKEN], request[RESOURCE_ID], base_url=base_url)
        if found is not None:
            body, version = found
            return not_modified(request, version) or serialised_response(body, headers={"ETag": version})
    user = await request.app[USERS].get(request[TOKEN], request[RESOURCE_ID])
    unchanged = not_modified(request, user.version)
    if unchanged is not None:
        return unchanged
    return _user_response(request, user)


async def replace_user(request: web.Request) -> web.Response:
    body = await read_json(request)
    user = await request.app[USERS].replace(
        request[TOKEN], request[RESOURCE_ID], body, if_match=request.headers.get("If-Match")
    )
    return _user_response(request, user)


async def patch_user(request: web.Request) -> web.Response:
    body = await read_json(request)
    user = await request.app[USERS].patch(
        request[TOKEN], request[RESOURCE_ID], body, if_match=request.headers.get("If-Match")
    )
    return _user_response(request, user)


async def delete_user(request: web.Request) -> web.Response:
    await request.app[USERS].delete(request[TOKEN], request[RESOURCE_ID], if_match=request.headers.get("If-Match"))
    return web.Response(status=204)


async def list_users(request: web.Request) -> web.Response:
    search = search_of(request.query, request.app[CONFIG].limits)
    projection = query_projection(request)
    if not any(projection):  # whole users: the backend's stored documents, if it keeps them
        body = await request.app[USERS].search_page(request[TOKEN], search, base_url=request[BASE_URL])
        if body is not None:
            return serialised_response(body)
    page, start = await request.app[USERS].search(request[TOKEN], search)
    resources = [_projected(request, user, projection) for user in page.users]
    return scim_response(list_response(resources, total=page.total, start_index=start))


def search_of(query: Mapping[str, str], limits: Limits) -> SearchRequest:
    """The search a list request's query asks for."""
    count = int_param(query, "count", limits.default_page_size)
    sort_by = query.get("sortBy")
    return SearchRequest(
        filter=filter_param(query),
        sort_by=_sort_path(sort_by) if sort_by else None,
        descending=query.get("sortOrder", "ascending").lower() == "descending",
        start_index=int_param(query, "startIndex", 1),
        count=min(max(count, 0), limits.max_page_size),
    )


# startIndex and count are clamped into [-MAX_INT, MAX_INT] (RFC 7644 §3.4.2.4: a startIndex below
# 1 counts as 1, one past the results gives an empty page): a database integer holds them all.
MAX_INT = 2**31


def int_param(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    text = raw.strip()
    digits = text.removeprefix("-").removeprefix("+")
    if not digits.isascii() or not digits.isdigit():  # int() would also take "1_000" and Arabic digits
        raise InvalidValue(f"{name} must be a whole number, got {raw[:40]!r}")
    significant = digits.lstrip("0") or "0"
    number = int(significant[:11])  # 11 digits are past MAX_INT: no need to read 4,300 more
    return max(-MAX_INT, min(MAX_INT, -number if text.startswith("-") else number))


def filter_param(query: Mapping[str, str]) -> str | None:
    """
    The `filter` parameter; 400 here already for a value no store can compare (NUL). The fast
    lane checks it here too (gateway/web/fast_lane.py).
    """
    text = query.get("filter") or None
    if text is not None:
        refuse_unstorable(parse_filter(text))
    return text


def _sort_path(text: str) -> str:
    """sortBy as a lower-case dotted path without the core User URN."""
    return text.strip().lower().removeprefix(USER_URN.lower() + ":")
