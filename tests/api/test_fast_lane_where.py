"""
Where the fast lane (gateway/web/fast_lane.py) is on: only where it can answer, so that nowhere
else does it cost a parse of each request head. It needs stored documents (the embedded
backend) and tokens verified without a read (the SQLite store's token generation); the
PostgreSQL store reads each token again, so the CI's PostgreSQL run of this file checks it off.
"""

from __future__ import annotations

import pytest
from aiohttp import web

from gateway.app import create_app
from gateway.config import Config
from gateway.web.fast_lane import FastLane
from gateway.web.keys import ACCESS_LOG
from gateway.web.middlewares import SERVES_ALL, SERVES_INTERNAL, SERVES_PUBLIC


@pytest.mark.backends("embedded", "brig")
async def test_the_fast_lane_is_on_only_where_it_can_answer(config: Config, backend_kind: str) -> None:
    app = create_app(config)
    app[ACCESS_LOG] = lambda request_id, fields: None  # as `serve` sets it
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        can_answer = backend_kind == "embedded" and config.store.kind == "sqlite"
        assert FastLane(app, serves=SERVES_ALL).enabled is can_answer
        assert FastLane(app, serves=SERVES_PUBLIC).enabled is can_answer
        assert FastLane(app, serves=SERVES_INTERNAL).enabled is False  # no /scim there
    finally:
        await runner.cleanup()
