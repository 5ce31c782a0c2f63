"""
The probes and the internal listener (docs/operations.md, "Probes"): `/i/live` answers 200 while
the process serves, whatever the store or brig do; `/i/ready` (and its older name `/i/status`)
checks the store and the backend; with `listen.internal_port` set, `/i/...` is answered only on
the internal listener and the public one serves only the SCIM API.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from conftest import TEAM, auth
from gateway.app import create_app
from gateway.config import Config
from gateway.web.connections import ConnectionLimits, GatewaySite
from gateway.web.keys import BACKEND, STORE, TOKENS
from gateway.web.middlewares import SERVES_INTERNAL, SERVES_PUBLIC
from scim_calls import ERROR_URN


async def broken() -> None:
    raise OSError("down")


@pytest.mark.parametrize("component", ["store", "backend"])
async def test_live_is_200_when_the_store_or_the_backend_is_down(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, component: str
) -> None:
    """Liveness never asks the store or the backend: an outage there must not restart the pod."""
    monkeypatch.setattr(client.app[STORE] if component == "store" else client.app[BACKEND], "check", broken)

    live = await client.get("/i/live")
    ready = await client.get("/i/ready")

    assert (200, {"status": "ok"}) == (live.status, await live.json())
    assert 503 == ready.status


@pytest.mark.parametrize("component", ["store", "backend"])
async def test_ready_and_status_give_the_same_answer(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, component: str
) -> None:
    """/i/status is /i/ready under its first name: same status, same body, working or not."""
    ok = [await client.get(path) for path in ("/i/ready", "/i/status")]
    assert [200, 200] == [r.status for r in ok]
    assert {"status": "ok", "store": "ok", "backend": "ok"} == await ok[0].json() == await ok[1].json()

    monkeypatch.setattr(client.app[STORE] if component == "store" else client.app[BACKEND], "check", broken)
    down = [await client.get(path) for path in ("/i/ready", "/i/status")]

    assert [503, 503] == [r.status for r in down]
    body = await down[0].json()
    assert body == await down[1].json() and "unavailable" == body[component]


@asynccontextmanager
async def two_listeners(config: Config) -> AsyncIterator[tuple[str, str, web.Application]]:
    """The app served as `serve` does with an internal port: (public URL, internal URL, app)."""
    app = create_app(dataclasses.replace(config, listen=dataclasses.replace(config.listen, internal_port=1)))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    urls = []
    try:
        for serves in (SERVES_PUBLIC, SERVES_INTERNAL):
            site = GatewaySite(runner, ConnectionLimits.of(config.listen), serves=serves, host="127.0.0.1", port=0)
            await site.start()
            urls.append(f"http://127.0.0.1:{runner.addresses[-1][1]}")
        yield urls[0], urls[1], app
    finally:
        await runner.cleanup()


async def test_an_internal_port_takes_the_i_routes_off_the_public_one(config: Config) -> None:
    """Public: SCIM answers, /i/... is a SCIM 404. Internal: /i/... answers, SCIM is a 404."""
    async with two_listeners(config) as (public, internal, app), aiohttp.ClientSession() as http:
        token = await new_token_on(app)
        async with http.get(f"{public}/scim/v2/Users", headers=auth(token)) as scim:
            assert 200 == scim.status
        for path in ("/i/live", "/i/ready", "/i/status", "/i/metrics", f"/i/teams/{TEAM}/scim-status"):
            async with http.get(public + path) as hidden:
                body = await hidden.json()
                assert (404, [ERROR_URN]) == (hidden.status, body["schemas"]), path
            async with http.get(internal + path) as shown:
                assert 200 == shown.status, path
        async with http.get(f"{internal}/scim/v2/Users", headers=auth(token)) as scim_inside:
            assert 404 == scim_inside.status
            assert [ERROR_URN] == (await scim_inside.json())["schemas"]


async def new_token_on(app: web.Application) -> str:
    secret, _ = await app[TOKENS].create(TEAM, description="test", idp=None)
    return secret


async def test_without_an_internal_port_one_listener_serves_everything(config: Config) -> None:
    """The default: /i/... and SCIM on the main port, as before."""
    app = create_app(config)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = GatewaySite(runner, ConnectionLimits.of(config.listen), host="127.0.0.1", port=0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        token = await new_token_on(app)
        async with aiohttp.ClientSession() as http:
            for path, headers in (("/i/live", {}), ("/i/metrics", {}), ("/scim/v2/Users", auth(token))):
                async with http.get(url + path, headers=headers) as answer:
                    assert 200 == answer.status, path
    finally:
        await runner.cleanup()
