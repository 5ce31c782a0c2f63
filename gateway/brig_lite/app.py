"""
`create_brig_lite_app(settings)`: brig's and galley's internal routes on one aiohttp app, its
database opened in a cleanup context; `serve_brig_lite` runs it; `add_member` seeds a team member
with a password (for the token API's admin check and re-authentication).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import structlog
from aiohttp import web

from gateway.brig_lite import accounts as acc
from gateway.brig_lite.brig_routes import add_brig_routes
from gateway.brig_lite.faults import CONTROL_PATH, FAULTS, FaultInjector, get_faults, inject_faults, put_faults
from gateway.brig_lite.galley_routes import add_galley_routes
from gateway.brig_lite.group_routes import add_group_routes
from gateway.brig_lite.schema import migrate_brig_lite
from gateway.brig_lite.state import STATE, BrigLiteState, hash_password_async
from gateway.brig_lite.wire_json import ROLE_PERMISSIONS, WireError
from gateway.config import BrigLite, Config
from gateway.db.sqlite import SqliteDatabase
from gateway.logconfig import configure_logging

log = structlog.get_logger()

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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


async def add_member(settings: BrigLite, *, team: str, role: str, email: str, password: str) -> str:
    """
    An active team member with an email and a password (managed by Wire, not SCIM); returns its
    id. Refuses an email another live account holds.
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
    limits = acc.Limits(
        max_team_size=settings.max_team_size, unique_emails=True, rich_info_chars=settings.rich_info_chars
    )
    db = await SqliteDatabase.open(settings.path, migrate=migrate_brig_lite)
    try:
        state = BrigLiteState(db, settings)

        def create(conn: sqlite3.Connection, now_ts: float, now: str) -> acc.Account:
            if acc.email_in_use(conn, email):
                raise WireError(409, "email-exists", f"{email} is already in use")
            return acc.create_account(conn, new, limits, now)

        account = await state.write(create)
    finally:
        await db.close()
    return account.id  # not logged here: stdout carries only the id (the CLI prints it)
