"""
brig's internal routes that spar calls for SCIM (docs/wire.md §6.1): the handlers parse Wire's
JSON, run one unit of work from accounts.py and answer as brig does. Each handler names the
wire-server definition it follows: the route by its `Named` label in
libs/wire-api/src/Wire/API/Routes/Internal/Brig.hs (IB) and the handler function in
services/brig/src/Brig/API/Internal.hs (BI), services/brig/src/Brig/API/User.hs (BU) or
services/brig/src/Brig/Team/API.hs.

A body that does not decode as the route's type is 400 `bad-request` (brig's
bodyParserErrorFormatter, services/brig/src/Brig/Run.hs).
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
from gateway.brig_lite.sso_id import parse_sso_id
from gateway.brig_lite.state import STATE, BrigLiteState, verify_password_async
from gateway.brig_lite.wire_json import (
    ROLE_PERMISSIONS,
    WireError,
    parse_locale,
    parse_rich_info_fields,
    parse_uuid,
    read_body,
    rich_info_json,
    user_json,
)

UID = "{uid:[0-9a-fA-F-]{36}}"
EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


def add_brig_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/i/status", status, allow_head=False)
    r.add_get("/i/users", get_users, allow_head=False)
    r.add_post("/i/users/spar", create_spar_user)
    r.add_post("/i/teams/{tid}/invitations", create_invitation)
    r.add_get("/i/users/locale", get_default_locale, allow_head=False)
    r.add_route("HEAD", "/i/handles/{handle}", check_handle)
    # services/brig/src/Brig/Run.hs, internalHandleCompatibilityMiddleware: real brig still rewrites
    # /i/users/handles/... to /i/handles/... (a FUTUREWORK marks it for removal), so the old path
    # answers the same until that middleware goes.
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


def _bad(message: str) -> WireError:
    return WireError(400, "bad-request", f"Error in $: {message}")


def _text(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise _bad(f"{key} must be a string")
    return value


def _email(body: Mapping[str, Any], key: str) -> str:
    value = _text(body, key)
    if not EMAIL.fullmatch(value):
        raise _bad(f"{key}: invalid email address")
    return value


def _role(value: Any) -> int:
    if value not in ROLE_PERMISSIONS:
        raise _bad(f"role must be one of {', '.join(ROLE_PERMISSIONS)}")
    return ROLE_PERMISSIONS[value]


def _uid(request: web.Request) -> str:
    return parse_uuid(request.match_info["uid"], "user id")


def _state(request: web.Request) -> BrigLiteState:
    return request.app[STATE]


def _user(request: web.Request, account: acc.Account, status: int = 200) -> web.Response:
    return web.json_response(user_json(account, domain=_state(request).settings.domain), status=status)


async def status(request: web.Request) -> web.Response:
    """BI istatusAPI, Named "get-status": 200 while the database answers."""
    await _state(request).read(lambda conn, _: conn.execute("SELECT 1").fetchone())
    return web.Response(status=200)


async def get_users(request: web.Request) -> web.Response:
    """
    IB "iGetUsersByVariousKeys", BI listActivatedAccountsH: `ids`, `handles` and `email`
    (comma-separated); 404 `not-found` without any key; see accounts.find_accounts.
    """
    query = request.query
    keys = {name: [v for v in query.get(name, "").split(",") if v] for name in ("ids", "handles", "email")}
    if not any(keys.values()):
        raise WireError(404, "not-found", "no user keys")
    ids = [parse_uuid(value, "ids") for value in keys["ids"]]
    include = query.get("includePendingInvitations", "false").lower() == "true"
    # A write: brig's lookup enqueues the deletion of the pending users whose invitation expired
    # (getAccountsByImpl, garbageCollect); brig-lite deletes them at once (accounts.purge_expired).
    found = await _state(request).write(
        lambda conn, now_ts, _: acc.find_accounts(
            conn, ids=ids, handles=keys["handles"], emails=keys["email"], include_pending=include, now_ts=now_ts
        )
    )
    domain = _state(request).settings.domain
    return web.json_response([user_json(a, domain=domain) for a in found])


async def create_spar_user(request: web.Request) -> web.Response:
    """
    IB "createUserNoVerifySpar", BI createUserNoVerifySpar, BU createUserSpar: NewUserSpar
    (libs/wire-api/src/Wire/API/User.hs) -> 201 with the active user. The rich info is stored
    without brig's size limit; a taken handle answers 409 `handle-exists` only after the account
    was created, activated and made a team member (it stays, without handle).
    """
    body = await read_body(request)
    state = _state(request)
    fields = [] if body.get("newUserSparRichInfo") is None else parse_rich_info_fields(body["newUserSparRichInfo"])
    handle = body.get("newUserSparHandle")
    managed_by = body.get("newUserSparManagedBy", "wire")
    if managed_by not in ("wire", "scim"):
        raise _bad("newUserSparManagedBy must be wire or scim")
    locale = body.get("newUserSparLocale")
    new = acc.NewAccount(
        id=parse_uuid(body.get("newUserSparUUID"), "newUserSparUUID"),
        team=parse_uuid(body.get("newUserSparTeamId"), "newUserSparTeamId"),
        name=acc.check_name(body.get("newUserSparDisplayName")),
        status="active",
        locale=state.settings.default_locale if locale is None else parse_locale(locale),
        permissions=_role(body.get("newUserSparRole", "member")),
        managed_by=managed_by,
        handle=None if handle is None else acc.check_handle(handle),
        sso_id=parse_sso_id(body.get("newUserSparSSOId")),
        rich_info=json.dumps(fields, ensure_ascii=False),
    )
    account, handle_refused = await state.write(lambda conn, _, now: acc.create_spar_user(conn, new, state.limits, now))
    if handle_refused:
        raise WireError(409, "handle-exists", "The given handle is already taken")
    return _user(request, account, 201)


async def create_invitation(request: web.Request) -> web.Response:
    """
    IB "create-invitations-via-scim", Brig/Team/API.hs createInvitationViaScim then BU
    createUserInviteViaScim: NewUserScimInvitation -> 200 with the pending-invitation user (no
    galley member, no email key); refusals in accounts.create_invitation. The invitation belongs
    to the team in the path, the account to the body's `team_id` (as in brig, which compares
    neither).
    """
    body = await read_body(request)
    state = _state(request)
    team = parse_uuid(request.match_info["tid"], "team id")
    locale = body.get("locale")
    new = acc.NewAccount(
        id=parse_uuid(body.get("user_id"), "user_id"),
        team=parse_uuid(body.get("team_id"), "team_id"),
        name=acc.check_name(body.get("name")),
        status="pending-invitation",
        locale=state.settings.default_locale if locale is None else parse_locale(locale),
        permissions=_role(body.get("role", "member")),
        managed_by="scim",
        email=_email(body, "email"),
        sso_id=json.dumps({"scim_external_id": _text(body, "external_id")}, ensure_ascii=False),
    )
    timeout = state.settings.invitation_timeout_seconds

    def create(conn: sqlite3.Connection, now_ts: float, now: str) -> acc.Account | None:
        invitation = dataclasses.replace(new, team=team)
        account = acc.create_invitation(conn, invitation, state.limits, now, now_ts + timeout)
        if account is not None and new.team != team:
            conn.execute("UPDATE accounts SET team = ? WHERE id = ?", (new.team, new.id))
            account = acc.get_account(conn, new.id)
        return account

    account = await state.write(create)
    if account is None:  # the invitation row stays, as in brig
        raise WireError(*acc.KEY_EXISTS)
    return _user(request, account, 200)


async def get_default_locale(request: web.Request) -> web.Response:
    """IB "i-get-default-locale", BI getDefaultUserLocale: LocaleUpdate {"locale"} (brig's setting)."""
    return web.json_response({"locale": _state(request).settings.default_locale})


async def check_handle(request: web.Request) -> web.Response:
    """
    IB "iHeadHandle", BI checkHandleInternalH (UserSubsystem checkHandleImpl): 200 taken, 404 free,
    400 `invalid-handle` for an invalid or blocked handle.
    """
    handle = acc.check_handle(request.match_info["handle"])
    taken = await _state(request).read(lambda conn, _: acc.handle_taken(conn, handle))
    return web.Response(status=200 if taken else 404)


async def put_name(request: web.Request) -> web.Response:
    """IB "iPutUserName", BI updateUserNameH: 400 `invalid-user` for a bad name or an unknown user."""
    uid, name = _uid(request), _text(await read_body(request), "name")
    if not acc.valid_name(name):
        raise WireError(400, "invalid-user", "Invalid user")
    if not await _state(request).write(lambda conn, _, __: acc.set_field(conn, uid, "name", name)):
        raise WireError(400, "invalid-user", "Invalid user")
    return web.Response(status=200)


async def put_handle(request: web.Request) -> web.Response:
    """IB "iPutHandle", BI updateHandleH: see accounts.set_handle."""
    uid, handle = _uid(request), _text(await read_body(request), "handle")
    handle = acc.check_handle(handle)
    await _state(request).write(lambda conn, _, __: acc.set_handle(conn, uid, handle))
    return web.Response(status=200)


async def put_managed_by(request: web.Request) -> web.Response:
    """IB "iPutManagedBy", BI updateManagedByH: no existence check, 200 for an unknown user too."""
    uid, value = _uid(request), (await read_body(request)).get("managed_by")
    if value not in ("wire", "scim"):
        raise _bad("managed_by must be wire or scim")
    await _state(request).write(lambda conn, _, __: acc.set_field(conn, uid, "managed_by", value))
    return web.Response(status=200)


async def put_sso_id(request: web.Request) -> web.Response:
    """
    IB "iPutUserSsoId", BI updateSSOIdH: UserSSOId (sso_id.py); 404 without a body for an unknown
    user or one without a team (UserStore updateSSOIdImpl).
    """
    uid, sso_id = _uid(request), parse_sso_id(await read_body(request))
    if not await _state(request).write(lambda conn, _, __: acc.set_sso_id(conn, uid, sso_id)):
        return web.Response(status=404)
    return web.Response(status=200)


async def put_rich_info(request: web.Request) -> web.Response:
    """
    IB "iPutRichInfo", BI updateRichInfoH: 413 `too-large-rich-info` over the limit; no
    existence check (an unknown user is 200, nothing kept here).
    """
    uid, state = _uid(request), _state(request)
    fields = parse_rich_info_fields((await read_body(request)).get("rich_info"))
    acc.check_rich_info_size(fields, state.limits)
    value = json.dumps(fields, ensure_ascii=False)
    await state.write(lambda conn, _, __: acc.set_field(conn, uid, "rich_info", value))
    return web.Response(status=200)


async def get_rich_info(request: web.Request) -> web.Response:
    """IB "iGetRichInfo", BI getRichInfoH: never 404, an unknown user has empty rich info."""
    uid = _uid(request)
    account = await _state(request).read(lambda conn, _: acc.get_account(conn, uid))
    fields = [] if account is None else json.loads(account.rich_info)
    return web.json_response(rich_info_json([(t, v) for t, v in fields]))


async def _set_locale(request: web.Request, locale: str) -> None:
    uid = _uid(request)
    if not await _state(request).write(lambda conn, _, __: acc.set_field(conn, uid, "locale", locale)):
        raise WireError(404, "not-found", "User not found")


async def put_locale(request: web.Request) -> web.Response:
    """
    IB "i-update-user-locale", BI updateLocale: answers the LocaleUpdate as parsed (leniently:
    `de_DE` -> `de`); 404 `not-found` for an unknown user.
    """
    locale = parse_locale((await read_body(request)).get("locale"))
    await _set_locale(request, locale)
    return web.json_response({"locale": locale})


async def delete_locale(request: web.Request) -> web.Response:
    """IB "i-delete-user-locale", BI deleteLocale: the default locale; 200 with no body (NoContent)."""
    await _set_locale(request, _state(request).settings.default_locale)
    return web.Response(status=200)


async def get_status(request: web.Request) -> web.Response:
    """IB "iGetUserStatus", BI getAccountStatusH: {"status"}; 404 `not-found` (UserNotFound)."""
    uid = _uid(request)
    account = await _state(request).read(lambda conn, _: acc.get_account(conn, uid))
    if account is None:
        raise WireError(404, "not-found", "User not found")
    return web.json_response({"status": account.status})


async def put_status(request: web.Request) -> web.Response:
    """
    IB "iPutUserStatus", BI changeAccountStatusH, BU changeSingleAccountStatus: any existing
    account (a pending or deleted one too: this is not acceptance, no team member is made) gets
    the status; 404 `not-found` first, then 400 `invalid-status` for deleted, ephemeral and
    pending-invitation (mkUserEvent).
    """
    uid, value = _uid(request), (await read_body(request)).get("status")
    if value not in ("active", "suspended", "deleted", "ephemeral", "pending-invitation"):
        raise _bad("status must be an AccountStatus")

    def change(conn: sqlite3.Connection, _: float, __: str) -> None:
        if acc.get_account(conn, uid) is None:
            raise WireError(404, "not-found", "Account not found")
        if value not in ("active", "suspended"):
            raise WireError(400, "invalid-status", "The specified account status cannot be set.")
        acc.set_field(conn, uid, "status", value)

    await _state(request).write(change)
    return web.Response(status=200)


async def delete_user(request: web.Request) -> web.Response:
    """IB "iDeleteUser", BI deleteUserNoAuthH: 202 deleted, 200 already deleted, 404 `not-found`."""
    uid = _uid(request)
    code = await _state(request).write(lambda conn, _, __: acc.delete_account(conn, uid))
    if code == 404:
        raise WireError(404, "not-found", "User not found")
    return web.Response(status=code)


async def reauthenticate(request: web.Request) -> web.Response:
    """IB "reauthenticate" (a GET with a ReAuth JSON body): the password check before a SCIM token is made."""
    uid, body = _uid(request), await read_body(request)
    account, stored = await _state(request).read(lambda conn, _: acc.password_hash(conn, uid))
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


def _flag(query: Mapping[str, str], name: str) -> bool | None:
    value = query.get(name)
    if value is None:
        return None
    if value not in ("true", "false"):
        raise WireError(400, "bad-request", f"Error parsing query parameter {name} failed: {value!r}")
    return value == "true"


async def put_self_email(request: web.Request) -> web.Response:
    """
    IB "putSelfEmail", BI changeSelfEmailMaybeSendH: `email_activation=send_activation_email|
    auto_activate` decides when given; otherwise the deprecated flags: `activate=true` auto-
    activates, else `validate=true` sends an activation mail, else brig fails (`error`, a 500).
    Any other parameter (`activation=` included) is ignored. Answers: accounts.set_email.
    (brig also auto-activates an address whose domain is registered for SSO to the user's team;
    brig-lite has no domain registrations.)
    """
    state, query = _state(request), request.query
    if "Z-User" not in request.headers:
        raise WireError(400, "bad-request", "[header] 'Z-User' required")
    uid = parse_uuid(request.headers["Z-User"], "Z-User")
    email = _email(await read_body(request), "email")
    mode = query.get("email_activation")
    if mode is not None and mode not in ("send_activation_email", "auto_activate"):
        raise WireError(400, "bad-request", f"Error parsing query parameter email_activation failed: {mode!r}")
    validate, activate = _flag(query, "validate"), _flag(query, "activate")
    if mode is None:
        if activate:
            mode = "auto_activate"
        elif validate:
            mode = "send_activation_email"
        else:
            raise WireError(500, "server-error", "Server Error")
    auto = mode == "auto_activate"
    code = await state.write(lambda conn, _, __: acc.set_email(conn, uid, email, activate=auto))
    return web.Response(status=code)
