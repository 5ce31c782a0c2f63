"""
The probes (docs/operations.md, "Probes"), none of which needs a token:

- `GET /i/live`: liveness, 200 `{"status": "ok"}` whenever the process can answer at all. It checks
  neither the store nor brig: a brig or database outage must not make Kubernetes restart every pod.
- `GET /i/ready`: readiness, 200 when the store and the backend (the user directory) answer, 503
  otherwise, with each component's state.
- `GET /i/status`: the same answer as `/i/ready` (its older name, kept for existing probes).
"""

from __future__ import annotations

import asyncio

import structlog
from aiohttp import web

from gateway.web.keys import BACKEND, STORE

log = structlog.get_logger()

CHECK_TIMEOUT_SECONDS = 5.0


async def live(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
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


status = ready  # GET /i/status: the readiness answer under its first name
