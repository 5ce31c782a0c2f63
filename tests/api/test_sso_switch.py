"""
The SSO-invite switch: off from a team's first token, on again when its last token goes; read at
GET /i/teams/{tid}/scim-status, recorded in the outbox in the same transaction as the change, and
delivered to the webhook in order, retried until it answers 2xx, also after a restart.
(Concurrent changes from CLI processes and the API at once: tests/e2e/test_sso_switch.py.)
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from conftest import OTHER_TEAM, TEAM
from gateway.app import create_app
from gateway.config import Config, SsoSwitch
from gateway.web.keys import STORE, TOKENS
from token_api_calls import add_admin, call, create, trusting_loopback

DELIVERY_SECONDS = 15.0


class Receiver:
    """A webhook on loopback: records each body it accepts; fails the first `failures` posts."""

    def __init__(self) -> None:
        self.accepted: list[dict[str, Any]] = []
        self.refused = 0
        self.failures = 0
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        if self.failures > 0:
            self.failures -= 1
            self.refused += 1
            return web.Response(status=503)
        self.accepted.append(await request.json())
        return web.Response(status=204)

    def states(self, team: str = TEAM) -> list[bool]:
        return [body["sso_invites_enabled"] for body in self.accepted if body["team"] == team]

    async def wait_for(self, count: int, team: str = TEAM) -> list[bool]:
        deadline = time.monotonic() + DELIVERY_SECONDS
        while len(self.states(team)) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return self.states(team)


@pytest.fixture(name="receiver")
async def _receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/flips", receiver.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    receiver.url = f"http://127.0.0.1:{server.port}/flips"
    try:
        yield receiver
    finally:
        await server.close()


def with_webhook(config: Config, receiver: Receiver) -> Config:
    hook = SsoSwitch(webhook_url=receiver.url, retry_seconds=0.02, max_retry_seconds=0.1, poll_seconds=0.05)
    return trusting_loopback(config, sso_switch=hook)


async def status(client: TestClient, team: str = TEAM) -> tuple[int, dict[str, Any]]:
    answer = await client.get(f"/i/teams/{team}/scim-status")
    return answer.status, await answer.json()


@pytest.mark.backends("embedded", "brig")
async def test_first_token_turns_invites_off_and_last_deletion_on(
    make_client: Callable[..., Any], config: Config, receiver: Receiver
) -> None:
    """Through the API: 0 -> 1 -> 2 -> 1 -> 0 tokens flips the switch twice, read and delivered alike."""
    client = await make_client(with_webhook(config, receiver))
    admin = await add_admin(client, config)
    seen = [await status(client)]
    first = await create(client, admin)
    seen.append(await status(client))
    second = await create(client, admin)
    for made in (first, second):
        await call(client, "DELETE", f"/scim/auth-tokens?id={made['info']['id']}", user=admin)
        seen.append(await status(client))

    assert [(200, {"scim_tokens": n, "sso_invites_enabled": n == 0}) for n in (0, 1, 1, 0)] == seen
    assert [False, True] == await receiver.wait_for(2)
    assert [False, True] == [f.sso_invites_enabled for f in await client.app[STORE].list_switch_flips(TEAM)]
    assert {"team", "sso_invites_enabled", "changed_at", "event_id"} == set(receiver.accepted[0])


async def test_the_cli_service_flips_too_and_teams_are_apart(client: TestClient) -> None:
    """Tokens made and revoked by the token service (the CLI's) flip the switch of their team only."""
    _, record = await client.app[TOKENS].create(TEAM, description="cli")

    assert (200, {"scim_tokens": 1, "sso_invites_enabled": False}) == await status(client)
    assert (200, {"scim_tokens": 0, "sso_invites_enabled": True}) == await status(client, OTHER_TEAM)
    await client.app[TOKENS].revoke(TEAM, record.id)
    assert (200, {"scim_tokens": 0, "sso_invites_enabled": True}) == await status(client)
    assert [] == await client.app[STORE].list_switch_flips(OTHER_TEAM)


async def test_scim_status_of_a_non_uuid_is_400(client: TestClient) -> None:
    answer = await client.get("/i/teams/not-a-team/scim-status")

    assert (400, "bad-request") == (answer.status, (await answer.json())["label"])


async def test_a_failing_webhook_is_retried_until_it_takes_the_flip(
    make_client: Callable[..., Any], config: Config, receiver: Receiver
) -> None:
    """The webhook answers 503 four times: the flip is posted again (with backoff) until delivered, in order."""
    receiver.failures = 4
    client = await make_client(with_webhook(config, receiver))
    _, record = await client.app[TOKENS].create(TEAM, description="a")
    await client.app[TOKENS].revoke(TEAM, record.id)

    assert [False, True] == await receiver.wait_for(2)
    flips = await client.app[STORE].list_switch_flips(TEAM)
    assert (4, [5, 1]) == (receiver.refused, [f.attempts for f in flips])
    assert all(f.delivered_at for f in flips)


async def test_flips_made_while_no_deliverer_ran_are_delivered_at_start(
    make_client: Callable[..., Any], aiohttp_client: Callable[..., Any], config: Config, receiver: Receiver
) -> None:
    """Flips recorded before the gateway (with its webhook) starts are in the outbox, and go out then."""
    quiet = await make_client(config)  # no webhook: flips are only recorded
    _, record = await quiet.app[TOKENS].create(TEAM, description="a")
    await quiet.app[TOKENS].revoke(TEAM, record.id)
    await quiet.app[TOKENS].create(TEAM, description="b")
    await quiet.close()

    await aiohttp_client(create_app(with_webhook(config, receiver)))

    assert [False, True, False] == await receiver.wait_for(3)


@pytest.mark.parametrize("keep_one", [False, True])
async def test_concurrent_creates_and_deletes_leave_the_switch_right(
    make_client: Callable[..., Any], config: Config, receiver: Receiver, keep_one: bool
) -> None:
    """
    Six workers create and delete tokens at once through the API (the count keeps crossing 0):
    the recorded and the delivered flips are the same, they alternate, and the last one is the
    state the final token count gives.
    """
    client = await make_client(with_webhook(config, receiver))
    admin = await add_admin(client, config)
    dice = random.Random(7)

    async def worker(number: int) -> None:
        for cycle in range(5):
            made = await create(client, admin)
            await asyncio.sleep(dice.random() / 20)
            if not (keep_one and number == 0 and cycle == 4):
                await call(client, "DELETE", f"/scim/auth-tokens?id={made['info']['id']}", user=admin)
            await asyncio.sleep(dice.random() / 20)

    await asyncio.gather(*(worker(n) for n in range(6)))

    _, final = await status(client)
    flips = [f.sso_invites_enabled for f in await client.app[STORE].list_switch_flips(TEAM)]
    delivered = await receiver.wait_for(len(flips))
    assert (final["scim_tokens"], final["sso_invites_enabled"]) == ((1, False) if keep_one else (0, True))
    assert flips == delivered and len(flips) >= 2
    assert flips[0] is False and all(a != b for a, b in zip(flips, flips[1:]))
    assert final["sso_invites_enabled"] is flips[-1]
