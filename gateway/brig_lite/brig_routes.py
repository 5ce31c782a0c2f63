"""
brig's internal routes that spar calls for SCIM (docs/wire.md §6.1): the handlers
parse Wire's JSON, run one unit of work from accounts.py and answer Wire's JSON.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from gateway.brig_lite import accounts as acc
from gateway.brig_lite.state import STATE, BrigLiteState, verify_password_async
from gateway.brig_lite.wire_json import (
    ROLE_PERMISSIONS,
    WireError,
    parse_rich_info_fields,
    parse_uuid,
    read_body,
    rich_info_json,
    user_json,
)

UID = "{uid:[0-9a-fA-F-]{36}}"
LOCALE = re.compile(r"[a-z]{2}(-[A-Z]{2})?")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


def add_brig_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/i/status", status, allow_head=False)
    r.add_get("/i/users", get_users, allow_head=False)
    r.add_post("/i/users/spar", create_spar_user)
    r.add_post("/i/teams/{tid}/invitations", create_invitation)
    r.add_get("/i/users/locale", get_default_locale, allow_head=False)
    r.add_route("HEAD", "/i/users/handles/{handle}", check_handle)
    r.add_put(f"/i/users/{UID}/name", put_name)
    r.add_put(f"/i/users/{UID}/handle", put_handle)
    r.add_put(f"/i/users/{UID}/managed-by", put_managed_by)
    r.add_put(f"/i/users/{UID}/sso-id", put_sso_id)
    r.add_put(f"/i/users/{UID}/rich-info", put_rich_info)
    r.add_get(f"/i/users/{UID}/rich-info", get_rich_info, allow_head=False)
    r.add_put(f"/i/users/{UID}/locale", put_locale)
    r.add_delete(f"/i/users/{UID}/locale", delete_locale)
    r.add_get(f"/i/users/{UID}/status", get_status, allow_head=False)
    r.add_put(f"/i/users/{UID}/status", put_status)
    r.add_delete(f"/i/users/{UID}", delete_user)
    r.add_get(f"/i/users/{UID}/reauthenticate", reauthenticate, allow_head=False)
    r.add_put("/i/self/email", put_self_email)


def _text(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise WireError(400, "bad-request", f"{key} must be a string")
    return value


def _role(value: Any) -> int:
    if value not in ROLE_PERMISSIONS:
        raise WireError(400, "bad-request", f"role must be one of {', '.join(ROLE_PERMISSIONS)}")
    return ROLE_PERMISSIONS[value]


def _locale(value: Any) -> str:
    if not isinstance(value, str) or not LOCALE.fullmatch(value):
        raise WireError(400, "bad-request", "locale must look like 'en' or 'en-US'")
    return value


def _sso_id(value: Any) -> str:
    """A UserSSOId: {"tenant", "subject"} (SAML) or {"scim_external_id"}, stored as JSON text."""
    if isinstance(value, Mapping):
        if isinstance(value.get("tenant"), str) and isinstance(value.get("subject"), str):
            return json.dumps({"tenant": value["tenant"], "subject": value["subject"]}, ensure_ascii=False)
        if isinstance(value.get("scim_external_id"), str):
            return json.dumps({"scim_external_id": value["scim_external_id"]}, ensure_ascii=False)
    raise WireError(400, "bad-request", 'sso_id must be {"tenant", "subject"} or {"scim_external_id"}')


def _uid(request: web.Request) -> str:
    return parse_uuid(request.match_info["uid"], "user id")


def _state(request: web.Request) -> BrigLiteState:
    return request.app[STATE]


def _user(request: web.Request, account: acc.Account, status: int = 200) -> web.Response:
    return web.json_response(user_json(account, domain=_state(request).settings.domain), status=status)


async def status(request: web.Request) -> web.Response:
    await _state(request).read(lambda conn, _: conn.execute("SELECT 1").fetchone())
    return web.Response(status=200)


async def get_users(request: web.Request) -> web.Response:
    """Row 1-3: by ids, handles or email (comma-separated); deleted users left out."""
    query = request.query
    keys = {name: [v for v in query.get(name, "").split(",") if v] for name in ("ids", "handles", "email")}
    if not any(keys.values()):
        raise WireError(404, "not-found", "no user keys")
    include = query.get("includePendingInvitations", "false").lower() == "true"
    found = await _state(request).read(
        lambda conn, now_ts: acc.find_accounts(
            conn,
            ids=keys["ids"],
            handles=keys["handles"],
            emails=keys["email"],
            include_pending=include,
            now_ts=now_ts,
        )
    )
    domain = _state(request).settings.domain
    return web.json_response([user_json(a, domain=domain) for a in found])


async def create_spar_user(request: web.Request) -> web.Response:
    """Row 4: NewUserSpar, an active SAML user in a team."""
    body = await read_body(request)
    state = _state(request)
    fields = [] if body.get("newUserSparRichInfo") is None else parse_rich_info_fields(body["newUserSparRichInfo"])
    acc.check_rich_info_size(fields, state.limits)
    handle = body.get("newUserSparHandle")
    managed_by = body.get("newUserSparManagedBy", "wire")
    if managed_by not in ("wire", "scim"):
        raise WireError(400, "bad-request", "newUserSparManagedBy must be wire or scim")
    new = acc.NewAccount(
        id=parse_uuid(body.get("newUserSparUUID"), "newUserSparUUID"),
        team=parse_uuid(body.get("newUserSparTeamId"), "newUserSparTeamId"),
        name=acc.check_name(body.get("newUserSparDisplayName")),
        status="active",
        locale=_locale(body.get("newUserSparLocale") or state.settings.default_locale),
        permissions=_role(body.get("newUserSparRole", "member")),
        managed_by=managed_by,
        handle=None if handle is None else acc.check_handle(handle),
        sso_id=_sso_id(body.get("newUserSparSSOId")),
        rich_info=json.dumps(fields, ensure_ascii=False),
    )
    account = await state.write(lambda conn, _, now: acc.create_account(conn, new, state.limits, now))
    return _user(request, account, 201)


async def create_invitation(request: web.Request) -> web.Response:
    """Row 5: NewUserScimInvitation, a pending-invitation user with the invitation's id."""
    body = await read_body(request)
    state = _state(request)
    team = parse_uuid(request.match_info["tid"], "team id")
    if parse_uuid(body.get("team_id"), "team_id") != team:
        raise WireError(400, "bad-request", "team_id differs from the team in the path")
    email = _text(body, "email")
    if not EMAIL.fullmatch(email):
        raise WireError(400, "invalid-email", "The given e-mail address is invalid.")
    timeout = state.settings.invitation_timeout_seconds
    new = acc.NewAccount(
        id=parse_uuid(body.get("user_id"), "user_id"),
        team=team,
        name=acc.check_name(body.get("name")),
        status="pending-invitation",
        locale=_locale(body.get("locale") or state.settings.default_locale),
        permissions=_role(body.get("role", "member")),
        managed_by="scim",
        email=email,
        sso_id=json.dumps({"scim_external_id": _text(body, "external_id")}, ensure_ascii=False),
    )

    def create(conn: sqlite3.Connection, now_ts: float, now: str) -> acc.Account:
        expiring = dataclasses.replace(new, expires_at=now_ts + timeout)  # brig's invitation expiry
        return acc.create_account(conn, expiring, state.limits, now)

    return _user(request, await state.write(create), 201)


async def get_default_locale(request: web.Request) -> web.Response:
    return web.json_response({"locale": _state(request).settings.default_locale})


async def check_handle(request: web.Request) -> web.Response:
    """Row 8: 200 = taken, 404 = free, 400 = not a valid handle."""
    handle = acc.check_handle(request.match_info["handle"])
    taken = await _state(request).read(lambda conn, now_ts: acc.handle_taken(conn, handle, now_ts))
    return web.Response(status=200 if taken else 404)


async def _set(request: web.Request, column: str, value: object) -> web.Response:
    uid = _uid(request)
    await _state(request).write(lambda conn, now_ts, _: acc.set_field(conn, uid, column, value, now_ts))
    return web.Response(status=200)


async def put_name(request: web.Request) -> web.Response:
    return await _set(request, "name", acc.check_name((await read_body(request)).get("name")))


async def put_handle(request: web.Request) -> web.Response:
    uid, handle = _uid(request), acc.check_handle((await read_body(request)).get("handle"))
    await _state(request).write(lambda conn, now_ts, _: acc.set_handle(conn, uid, handle, now_ts))
    return web.Response(status=200)


async def put_managed_by(request: web.Request) -> web.Response:
    value = (await read_body(request)).get("managed_by")
    if value not in ("wire", "scim"):
        raise WireError(400, "bad-request", "managed_by must be wire or scim")
    return await _set(request, "managed_by", value)


async def put_sso_id(request: web.Request) -> web.Response:
    return await _set(request, "sso_id", _sso_id(await read_body(request)))


async def put_rich_info(request: web.Request) -> web.Response:
    uid, state = _uid(request), _state(request)
    fields = parse_rich_info_fields((await read_body(request)).get("rich_info"))
    await state.write(lambda conn, now_ts, _: acc.set_rich_info(conn, uid, fields, state.limits, now_ts))
    return web.Response(status=200)


async def get_rich_info(request: web.Request) -> web.Response:
    uid = _uid(request)
    account = await _state(request).read(lambda conn, now_ts: acc.live_account(conn, uid, now_ts))
    return web.json_response(rich_info_json([(t, v) for t, v in json.loads(account.rich_info)]))


async def put_locale(request: web.Request) -> web.Response:
    locale = _locale((await read_body(request)).get("locale"))
    await _set(request, "locale", locale)
    return web.json_response({"locale": locale})


async def delete_locale(request: web.Request) -> web.Response:
    locale = _state(request).settings.default_locale
    await _set(request, "locale", locale)
    return web.json_response({"locale": locale})


async def get_status(request: web.Request) -> web.Response:
    uid = _uid(request)
    account = await _state(request).read(lambda conn, now_ts: acc.get_account(conn, uid, now_ts))
    if account is None:
        raise WireError(404, "not-found", f"User {uid} not found")
    return web.json_response({"status": account.status})


async def put_status(request: web.Request) -> web.Response:
    value = (await read_body(request)).get("status")
    if value not in ("active", "suspended"):
        raise WireError(400, "bad-request", "status must be active or suspended")
    return await _set(request, "status", value)


async def delete_user(request: web.Request) -> web.Response:
    """Row 18: 202 deleted, 200 already deleted, 404 no such user."""
    uid = _uid(request)
    code = await _state(request).write(lambda conn, now_ts, _: acc.delete_account(conn, uid, now_ts))
    if code == 404:
        raise WireError(404, "not-found", f"User {uid} not found")
    return web.Response(status=code)


async def reauthenticate(request: web.Request) -> web.Response:
    """Row 19 (a GET with a JSON body): the password check before a SCIM token is made."""
    uid, body = _uid(request), await read_body(request)
    account, stored = await _state(request).read(lambda conn, now_ts: acc.password_hash(conn, uid, now_ts))
    if account.status != "active":
        raise WireError(403, "suspended", "Account suspended or not yet activated.")
    password = body.get("password")
    if stored is None and password is None:
        return web.Response(status=200)  # a SAML user without password
    if stored is not None and password is None:
        raise WireError(403, "missing-auth", "Re-authentication via password required.")
    if stored is None or not isinstance(password, str) or not await verify_password_async(password, stored):
        raise WireError(403, "invalid-credentials", "Authentication failed.")
    return web.Response(status=200)


async def put_self_email(request: web.Request) -> web.Response:
    """Row 20: 202 when an activation mail goes out (email_unvalidated), 204 when done."""
    state = _state(request)
    if "Z-User" not in request.headers:
        raise WireError(400, "bad-request", "[header] 'Z-User' required")
    uid = parse_uuid(request.headers["Z-User"], "Z-User")
    email = _text(await read_body(request), "email")
    if not EMAIL.fullmatch(email):
        raise WireError(400, "invalid-email", "The given e-mail address is invalid.")
    query = request.query
    send = query.get("activation") == "send_activation_email" or (
        query.get("validate", "").lower() == "true" and query.get("activate", "").lower() != "true"
    )
    active = await state.write(
        lambda conn, now_ts, _: acc.set_email(conn, uid, email, activate=not send, limits=state.limits, now_ts=now_ts)
    )
    return web.Response(status=204 if active else 202)
