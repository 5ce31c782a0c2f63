"""`GET /i/status`: 200 when the store and the backend answer, 503 otherwise; no token."""

from __future__ import annotations

import asyncio

import structlog
from aiohttp import web

from gateway.web.keys import BACKEND, STORE

log = structlog.get_logger()

CHECK_TIMEOUT_SECONDS = 5.0


async def status(request: web.Request) -> web.Response:
    results = {}
    for name, component in (("store", request.app[STORE]), ("backend", request.app[BACKEND])):
        try:
            await asyncio.wait_for(component.check(), CHECK_TIMEOUT_SECONDS)  # type: ignore[attr-defined]  # Store and Backend both have check()
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready", whatever its kind
            log.warning("health_check_failed", component=name, error=type(exc).__name__)
            results[name] = "unavailable"
    ok = all(v == "ok" for v in results.values())
    return web.json_response({"status": "ok" if ok else "unavailable", **results}, status=200 if ok else 503)
