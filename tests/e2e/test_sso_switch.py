"""
The SSO-invite switch end to end: a real `scim-gateway serve` (two worker processes, so two
webhook deliverers share one outbox), `scim-gateway token create/revoke` processes and token API
calls, all at once on one team; a webhook receiver on loopback in this test. The switch must
never be left wrong: the final state is the final token count's, and the receiver sees every
recorded flip once, alternating, ending in that state.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from e2e.conftest import CLI_SECONDS, TEAM, Gateway, StartGateway

pytestmark = pytest.mark.e2e

PASSWORD = "admin-pw-1"
DELIVERY_SECONDS = 30.0


@pytest.fixture(name="received")
async def _received() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """(URL of a webhook on loopback, the bodies it accepted in arrival order)."""
    bodies: list[dict[str, Any]] = []

    async def accept(request: web.Request) -> web.Response:
        bodies.append(await request.json())
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hook", accept)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield f"http://127.0.0.1:{server.port}/hook", bodies
    finally:
        await server.close()


async def cli(gateway: Gateway, *args: str) -> str:
    """`scim-gateway ARGS` against the gateway's config, as a child process; its stdout (exit 0 asserted)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", *args, "--config", str(gateway.config_path), env=gateway.env,
        cwd=gateway.workdir, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), CLI_SECONDS)
    assert 0 == proc.returncode, err.decode()
    return out.decode()


def outbox(gateway: Gateway) -> list[tuple[bool, bool]]:
    """(sso_invites_enabled, delivered) of every recorded flip of TEAM, in order (read-only)."""
    path = Path(gateway.config["store"]["path"]) if gateway.config else Path()
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT sso_invites_enabled, delivered_at IS NOT NULL FROM sso_switch_outbox WHERE team = ? ORDER BY seq",
            (TEAM,),
        ).fetchall()
    return [(bool(enabled), bool(delivered)) for enabled, delivered in rows]


async def test_cli_processes_and_api_calls_at_once_never_leave_the_switch_wrong(
    start_gateway: StartGateway, received: tuple[str, list[dict[str, Any]]]
) -> None:
    url, bodies = received
    gateway = start_gateway(config={
        "listen": {"workers": 2}, "trusted_proxies": ["127.0.0.1/32"], "limits": {"tokens_per_team": 100},
        "sso_switch": {"webhook_url": url, "retry_seconds": 0.05, "max_retry_seconds": 0.5, "poll_seconds": 0.1},
    })  # fmt: skip
    admin = (await cli(gateway, "team", "add-member", "--team", TEAM, "--role", "admin",
                       "--email", "admin@example.com", "--password", PASSWORD)).strip()  # fmt: skip
    dice = random.Random(5)

    async with aiohttp.ClientSession(base_url=gateway.base_url, headers={"Z-User": admin}) as session:

        async def api_worker() -> None:
            for _ in range(6):
                async with session.post("/scim/auth-tokens", json={"description": "api", "password": PASSWORD}) as made:
                    assert 200 == made.status, await made.text()
                    token_id = (await made.json())["info"]["id"]
                await asyncio.sleep(dice.random() / 10)
                async with session.delete(f"/scim/auth-tokens?id={token_id}") as deleted:
                    assert 204 == deleted.status

        async def cli_worker(keep_last: bool) -> None:
            for cycle in range(3):
                made = json.loads(await cli(gateway, "token", "create", "--team", TEAM, "--description", "cli", "--json"))
                if not (keep_last and cycle == 2):
                    await cli(gateway, "token", "revoke", "--team", TEAM, "--id", made["info"]["id"])

        await asyncio.gather(*(api_worker() for _ in range(3)), cli_worker(False), cli_worker(True))
        async with session.get(f"/i/teams/{TEAM}/scim-status") as answer:
            final = await answer.json()

    deadline = time.monotonic() + DELIVERY_SECONDS
    while not all(delivered for _, delivered in outbox(gateway)) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    recorded = [enabled for enabled, _ in outbox(gateway)]
    delivered = [body["sso_invites_enabled"] for body in bodies if body["team"] == TEAM]
    events = [body["event_id"] for body in bodies]

    assert {"scim_tokens": 1, "sso_invites_enabled": False} == final
    assert recorded == delivered and len(recorded) >= 2
    assert events == sorted(set(events))  # each flip once, in order
    assert recorded[0] is False and all(a != b for a, b in zip(recorded, recorded[1:]))
    assert recorded[-1] is final["sso_invites_enabled"]
