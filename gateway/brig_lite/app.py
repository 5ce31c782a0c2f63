"""
`create_brig_lite_app(settings)`: brig's and galley's internal routes (and spar's
`GET /i/identity-providers/:tid`) on one aiohttp app, its database opened in a cleanup context;
`serve_brig_lite` runs it. Seeding and control, none of them a Wire route:

    add_member(settings, ...)        an active team member with a password (token API's admin check)
    add_idp(settings, ...)           an IdP of a team, for spar's IdP route
    accept_invitation(settings, ...) what a SCIM invitee's own sign-up does in Wire
    POST /i/_brig-lite/invitations/{uid}/accept   the same over HTTP ({"name", "locale"}, optional)
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import structlog
from aiohttp import web

from gateway.brig_lite import accounts as acc
from gateway.brig_lite.brig_routes import add_brig_routes
from gateway.brig_lite.faults import CONTROL_PATH, FAULTS, FaultInjector, get_faults, inject_faults, put_faults
from gateway.brig_lite.galley_routes import add_galley_routes
from gateway.brig_lite.group_routes import add_group_routes
from gateway.brig_lite.idps import add_idp as insert_idp
from gateway.brig_lite.schema import migrate_brig_lite
from gateway.brig_lite.spar_routes import add_spar_routes
from gateway.brig_lite.state import STATE, BrigLiteState, hash_password_async
from gateway.brig_lite.wire_json import ROLE_PERMISSIONS, WireError, parse_locale, parse_uuid, read_body, user_json
from gateway.config import BrigLite, Config
from gateway.db.sqlite import SqliteDatabase
from gateway.logconfig import configure_logging

log = structlog.get_logger()

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
T = TypeVar("T")

ACCEPT_PATH = "/i/_brig-lite/invitations/{uid}/accept"


@web.middleware
async def render_wire_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure as Wire's error body {"code", "label", "message"} (no access log: brig-lite is a test double)."""
    try:
        response = await handler(request)
    except WireError as exc:
        response = _error(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        label = {404: "not-found", 405: "method-not-allowed"}.get(exc.status, "client-error")
        response = _error(WireError(exc.status, label, exc.reason))
    except Exception:
        log.exception("brig_lite_unhandled_error", method=request.method, path=request.path)
        response = _error(WireError(500, "server-error", "Server Error"))
    return response


def _error(exc: WireError) -> web.Response:
    return web.json_response(exc.to_body(), status=exc.status)


def create_brig_lite_app(settings: BrigLite) -> web.Application:
    app = web.Application(middlewares=[render_wire_errors, inject_faults])
    app[FAULTS] = FaultInjector(settings.faults, seed=settings.fault_seed)

    async def database(app: web.Application) -> AsyncIterator[None]:
        db = await SqliteDatabase.open(settings.path, migrate=migrate_brig_lite)
        app[STATE] = BrigLiteState(db, settings)
        try:
            yield
        finally:
            await db.close()

    app.cleanup_ctx.append(database)
    add_brig_routes(app)
    add_group_routes(app)
    add_galley_routes(app)
    add_spar_routes(app)
    app.router.add_post(ACCEPT_PATH, post_accept)
    app.router.add_put(CONTROL_PATH, put_faults)
    app.router.add_get(CONTROL_PATH, get_faults, allow_head=False)
    return app


def serve_brig_lite(config: Config) -> int:
    """Run brig-lite on `brig_lite.host:port` until SIGTERM or SIGINT."""
    configure_logging(level=config.log.level, format=config.log.format)
    settings = config.brig_lite
    log.info(
        "brig_lite_starting", host=settings.host, port=settings.port, path=settings.path, faults=len(settings.faults)
    )
    web.run_app(
        create_brig_lite_app(settings),
        host=settings.host,
        port=settings.port,
        access_log=None,
        print=None,
        handle_signals=True,
        shutdown_timeout=config.shutdown_grace_seconds,
    )
    log.info("brig_lite_stopped")
    return 0


async def _write(settings: BrigLite, fn: Callable[[sqlite3.Connection, float, str], T]) -> T:
    """One unit of work on brig-lite's database, from outside the app (the CLI and test helpers)."""
    db = await SqliteDatabase.open(settings.path, migrate=migrate_brig_lite)
    try:
        return await BrigLiteState(db, settings).write(fn)
    finally:
        await db.close()


def _limits(settings: BrigLite) -> acc.Limits:
    return acc.Limits(max_team_size=settings.max_team_size, rich_info_chars=settings.rich_info_chars)


async def add_member(settings: BrigLite, *, team: str, role: str, email: str, password: str) -> str:
    """
    An active team member with an activated email and a password (managed by Wire, not SCIM);
    returns its id. 409 `key-exists` when another account holds the address's email key.
    """
    if role not in ROLE_PERMISSIONS:
        raise WireError(400, "bad-request", f"role must be one of {', '.join(ROLE_PERMISSIONS)}")
    if len(password) < 6:
        raise WireError(400, "bad-request", "the password needs at least 6 characters")
    hashed = await hash_password_async(password)
    new = acc.NewAccount(
        id=str(uuid.uuid4()),
        team=team,
        name=email.split("@")[0][:128] or email,
        status="active",
        locale=settings.default_locale,
        permissions=ROLE_PERMISSIONS[role],
        email=email,
        password=hashed,
    )
    account = await _write(settings, lambda conn, _, now: acc.create_member(conn, new, _limits(settings), now))
    return account.id  # not logged here: stdout carries only the id (the CLI prints it)


async def add_idp(
    settings: BrigLite,
    *,
    team: str,
    issuer: str,
    idp_id: str | None = None,
    request_uri: str | None = None,
    certificate: str | None = None,
) -> str:
    """
    An IdP of `team` with this metadata issuer (a URI), served by spar's
    `GET /i/identity-providers/:tid`; returns its id (`idp_id` or a new one). 400 for an issuer
    that is no URI, 409 for a taken id or an issuer the team already has.
    """
    team = parse_uuid(team, "team")
    if idp_id is not None:
        idp_id = parse_uuid(idp_id, "idp id")
    idp = await _write(
        settings,
        lambda conn, _, now: insert_idp(
            conn, team=team, issuer=issuer, idp_id=idp_id, request_uri=request_uri, certificate=certificate, now=now
        ),
    )
    return idp.id


async def accept_invitation(
    settings: BrigLite, *, user: str, name: str | None = None, locale: str | None = None
) -> acc.Account:
    """
    The SCIM invitee `user` accepts its invitation, as its sign-up does in Wire (accounts.accept_invitation):
    active, email key claimed, galley member with the invited role, `name` and `locale` (what it
    registers) replacing SCIM's. 404 unknown, 409 `no-pending-invitation`, 409 `key-exists`.
    """
    uid = parse_uuid(user, "user")
    if name is not None:
        acc.check_name(name)
    parsed_locale = None if locale is None else parse_locale(locale)
    return await _write(
        settings,
        lambda conn, _, __: acc.accept_invitation(conn, uid, name=name, locale=parsed_locale, limits=_limits(settings)),
    )


async def post_accept(request: web.Request) -> web.Response:
    """
    `POST /i/_brig-lite/invitations/{uid}/accept` {"name"?, "locale"?}: brig-lite's control route
    (not a Wire route) for an invitee's acceptance; 200 with the accepted User.
    """
    uid = parse_uuid(request.match_info["uid"], "user id")
    body = await read_body(request) if request.can_read_body else {}
    name, locale = body.get("name"), body.get("locale")
    if name is not None:
        acc.check_name(name)
    parsed_locale = None if locale is None else parse_locale(locale)
    state = request.app[STATE]
    account = await state.write(
        lambda conn, _, __: acc.accept_invitation(conn, uid, name=name, locale=parsed_locale, limits=state.limits)
    )
    return web.json_response(user_json(account, domain=state.settings.domain))
