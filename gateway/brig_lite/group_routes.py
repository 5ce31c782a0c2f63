"""
brig's internal user-group routes that spar calls for SCIM Groups (docs/wire.md §6.4; the
calls in libs/wire-subsystems/src/Wire/BrigAPIAccess/Rpc.hs), over user_groups.py:

    POST   /i/user-groups/full                    {"managed_by", "team_id", "creator_user_id",
                                                   "new_group": {"name", "members"}} -> UserGroup
    GET    /i/user-groups/:tid/:gid/:includeChannels                                -> UserGroup | null
    GET    /i/user-groups/:tid?nameContains=&managedBy=&startIndex=&count=       -> {"page", "total"}
    PUT    /i/user-groups                         {"team_id", "group_id", "name", "members"}
    DELETE /i/user-groups/:tid/:gid/managed/:managedBy

Routes by their `Named` label in libs/wire-api/src/Wire/API/Routes/Internal/Brig.hs, handlers
in services/brig/src/Brig/API/Internal.hs; the rules are user_groups.py's. Successes answer 200,
as servant's Post/Get/Put/Delete do. Wire's internal API has no route that adds or removes one
member: the member list is only ever replaced whole (PUT).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.brig_lite import user_groups as ug
from gateway.brig_lite.state import STATE, BrigLiteState
from gateway.brig_lite.wire_json import WireError, parse_uuid, read_body, user_group_json

TID = "{tid:[0-9a-fA-F-]{36}}"
GID = "{gid:[0-9a-fA-F-]{36}}"
DEFAULT_COUNT = 100  # an inference: Wire's default page size is not in the routes we could read
MAX_COUNT = 500  # as Wire's PageSize for the public user-group list


def add_group_routes(app: web.Application) -> None:
    r = app.router
    r.add_post("/i/user-groups/full", create_group)
    r.add_put("/i/user-groups", update_group)
    r.add_get(f"/i/user-groups/{TID}", list_groups, allow_head=False)
    r.add_get(f"/i/user-groups/{TID}/{GID}/{{channels}}", get_group, allow_head=False)
    r.add_delete(f"/i/user-groups/{TID}/{GID}/managed/{{managed_by}}", delete_group)


def _state(request: web.Request) -> BrigLiteState:
    return request.app[STATE]


def _managed_by(value: Any) -> str:
    if value not in ug.MANAGED_BY:
        raise WireError(400, "bad-request", "managed_by must be wire or scim")
    return str(value)


def _natural(text: str | None, default: int, what: str) -> int:
    if text is None:
        return default
    if not text.isdigit():
        raise WireError(400, "bad-request", f"{what} must be a non-negative integer")
    return int(text)


async def create_group(request: web.Request) -> web.Response:
    """
    Named "i-create-group-full", createGroupInternalH: CreateGroupInternalRequest -> UserGroup, managed
    by `managed_by` (spar sends "scim" and no creator).
    """
    body = await read_body(request)
    team = parse_uuid(body.get("team_id"), "team_id")
    managed_by = _managed_by(body.get("managed_by"))
    if body.get("creator_user_id") is not None:
        parse_uuid(body["creator_user_id"], "creator_user_id")
    new = body.get("new_group")
    if not isinstance(new, dict):
        raise WireError(400, "bad-request", 'new_group must be {"name", "members"}')
    name, members = ug.check_name(new.get("name")), ug.check_members(new.get("members"))
    group = await _state(request).write(
        lambda conn, _, now: ug.create_group(
            conn, team=team, name=name, managed_by=managed_by, members=members, now=now
        )
    )
    return web.json_response(user_group_json(group))


async def get_group(request: web.Request) -> web.Response:
    """Named "i-get-group", getGroupInternalH: 200 with the group, or 200 `null` (`Maybe UserGroup`)."""
    team = parse_uuid(request.match_info["tid"], "team id")
    group_id = parse_uuid(request.match_info["gid"], "group id")
    channels = request.match_info["channels"]
    if channels not in ("true", "false"):
        raise WireError(400, "bad-request", "includeChannels must be true or false")
    group = await _state(request).read(lambda conn, _: ug.get_group(conn, team, group_id))
    return web.json_response(None if group is None else user_group_json(group, include_channels=channels == "true"))


async def list_groups(request: web.Request) -> web.Response:
    """
    Named "i-get-groups", getGroupsInternalH: a page of the team's groups and how many match;
    `startIndex` (0-based) is a required query parameter (400 without it).
    """
    team = parse_uuid(request.match_info["tid"], "team id")
    query = request.query
    managed_by = None if query.get("managedBy") is None else _managed_by(query["managedBy"])
    if query.get("startIndex") is None:
        raise WireError(400, "bad-request", "Query parameter startIndex is required")
    start = _natural(query.get("startIndex"), 0, "startIndex")
    count = min(_natural(query.get("count"), DEFAULT_COUNT, "count"), MAX_COUNT)
    page, total = await _state(request).read(
        lambda conn, _: ug.list_groups(
            conn,
            team,
            name_contains=query.get("nameContains") or None,
            managed_by=managed_by,
            start=start,
            count=count,
        )
    )
    return web.json_response({"page": [user_group_json(group) for group in page], "total": total})


async def update_group(request: web.Request) -> web.Response:
    """
    Named "i-update-group", updateGroupInternalH (UGI resetUserGroupInternal): UpdateGroupInternalRequest;
    the name, then the whole member list, each in a write of its own as in brig (a refused member
    list leaves the rename done); `null` or absent leaves either as it is.
    """
    body = await read_body(request)
    team = parse_uuid(body.get("team_id"), "team_id")
    group_id = parse_uuid(body.get("group_id"), "group_id")
    name = None if body.get("name") is None else ug.check_name(body["name"])
    members = None if body.get("members") is None else ug.check_members(body["members"], dedupe=False)
    state = _state(request)
    if name is not None:
        await state.write(lambda conn, _, __: ug.rename_group(conn, team, group_id, name))
    if members is not None:
        await state.write(lambda conn, _, __: ug.replace_members(conn, team, group_id, members))
    return web.Response(status=200)


async def delete_group(request: web.Request) -> web.Response:
    """
    Named "i-delete-group-managed", deleteGroupManagedInternalH: 200, also for an unknown group;
    403 `user-group-managed-by-mismatch`.
    """
    team = parse_uuid(request.match_info["tid"], "team id")
    group_id = parse_uuid(request.match_info["gid"], "group id")
    managed_by = _managed_by(request.match_info["managed_by"])
    await _state(request).write(lambda conn, _, __: ug.delete_group(conn, team, group_id, managed_by))
    return web.Response(status=200)
