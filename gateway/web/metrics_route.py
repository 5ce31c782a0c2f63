"""
`GET /i/metrics`: the Prometheus text exposition (gateway/metrics.py), with the SSO-invite switch's
outbox read at scrape time in one query. A store that does not answer leaves those two gauges out
of the scrape rather than failing it: the other metrics matter most exactly then.
"""

from __future__ import annotations

import asyncio

import structlog
from aiohttp import web

from gateway import metrics
from gateway.provisioning.sso_switch import outbox_backlog
from gateway.web.keys import STORE

log = structlog.get_logger()

PATH = "/i/metrics"
OUTBOX_TIMEOUT_SECONDS = 2.0


async def scrape(request: web.Request) -> web.Response:
    extra = []
    try:
        backlog = await asyncio.wait_for(outbox_backlog(request.app[STORE]), OUTBOX_TIMEOUT_SECONDS)
    except Exception as exc:  # noqa: BLE001 - any failure: scrape the rest
        log.warning("metrics_outbox_unreadable", error=type(exc).__name__)
    else:
        extra = metrics.outbox_gauges(backlog.entries, backlog.oldest_age_seconds)
    body = metrics.render(extra)
    return web.Response(body=body, headers={"Content-Type": metrics.CONTENT_TYPE})
