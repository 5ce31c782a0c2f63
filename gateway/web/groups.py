"""
/Groups handlers: parse the request, call one GroupService method, render the result.

Members are loaded only when the response shows them: `excludedAttributes=members` (what Entra
sends) or an `attributes` list without members reads no membership row. A PATCH answers 204 (what
Entra asks for; RFC 7644 §3.5.2 allows it) unless the request names `attributes` or
`excludedAttributes`, so that a member change never costs a read of the whole member list.
"""

from __future__ import annotations

from aiohttp import web

from gateway.backend.wire_group import WireGroup
from gateway.provisioning.groups import GroupSearch
from gateway.provisioning.render_groups import render_group
from gateway.scim.projection import project
from gateway.scim.schemas import GROUP_URN, list_response
from gateway.web.json_io import not_modified, read_json, scim_response
from gateway.web.keys import BASE_URL, CONFIG, GROUPS, RESOURCE_ID, TOKEN
from gateway.web.users import Projection, filter_param, int_param, query_projection


def include_members(projection: Projection) -> bool:
    """Whether a response projected this way shows `members` (so they must be read)."""
    attributes, excluded = projection
    if attributes:
        return any(path == "members" or path.startswith("members.") for path in attributes)
    return "members" not in excluded


def _projected(request: web.Request, group: WireGroup, projection: Projection) -> dict:
    attributes, excluded = projection
    resource = render_group(group, base_url=request[BASE_URL])
    if attributes or excluded:
        resource = project(resource, attributes=attributes, excluded=excluded)
    return resource


def _group_response(request: web.Request, group: WireGroup, *, status: int = 200) -> web.Response:
    headers = {"ETag": group.version}
    if status == 201:
        headers["Location"] = f"{request[BASE_URL]}/Groups/{group.id}"
    resource = _projected(request, group, query_projection(request))
    return scim_response(resource, status=status, headers=headers)


async def create_group(request: web.Request) -> web.Response:
    body = await read_json(request)
    group = await request.app[GROUPS].create(request[TOKEN], body)
    return _group_response(request, group, status=201)


async def get_group(request: web.Request) -> web.Response:
    projection = query_projection(request)
    group = await request.app[GROUPS].get(
        request[TOKEN], request[RESOURCE_ID], include_members=include_members(projection)
    )
    unchanged = not_modified(request, group.version)
    if unchanged is not None:
        return unchanged
    return scim_response(_projected(request, group, projection), headers={"ETag": group.version})


async def replace_group(request: web.Request) -> web.Response:
    body = await read_json(request)
    group = await request.app[GROUPS].replace(
        request[TOKEN], request[RESOURCE_ID], body, if_match=request.headers.get("If-Match")
    )
    return _group_response(request, group)


async def patch_group(request: web.Request) -> web.Response:
    body = await read_json(request)
    projection = query_projection(request)
    wants_body = bool(projection[0] or projection[1])
    group = await request.app[GROUPS].patch(
        request[TOKEN],
        request[RESOURCE_ID],
        body,
        if_match=request.headers.get("If-Match"),
        include_members=wants_body and include_members(projection),
    )
    if not wants_body:
        return web.Response(status=204, headers={"ETag": group.version})
    return scim_response(_projected(request, group, projection), headers={"ETag": group.version})


async def delete_group(request: web.Request) -> web.Response:
    await request.app[GROUPS].delete(request[TOKEN], request[RESOURCE_ID], if_match=request.headers.get("If-Match"))
    return web.Response(status=204)


async def list_groups(request: web.Request) -> web.Response:
    limits = request.app[CONFIG].limits
    query = request.query
    projection = query_projection(request)
    count = int_param(query, "count", limits.default_page_size)
    sort_by = query.get("sortBy")
    search = GroupSearch(
        filter=filter_param(query),
        sort_by=_sort_path(sort_by) if sort_by else None,
        descending=query.get("sortOrder", "ascending").lower() == "descending",
        start_index=int_param(query, "startIndex", 1),
        count=min(max(count, 0), limits.max_page_size),
        include_members=include_members(projection),
    )
    page, start = await request.app[GROUPS].search(request[TOKEN], search)
    resources = [_projected(request, group, projection) for group in page.groups]
    return scim_response(list_response(resources, total=page.total, start_index=start))


def _sort_path(text: str) -> str:
    """sortBy as a lower-case dotted path without the core Group URN."""
    return text.strip().lower().removeprefix(GROUP_URN.lower() + ":")
