"""
Throttling of failed authentication per client address (issue 16, item 13): past
`limits.auth_failures_per_minute` failures an address gets 429 with Retry-After, as a SCIM error
on the SCIM API and as Wire's error on the token API; successes never count, and a valid SCIM
token is still served from a throttled address.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from conftest import auth
from gateway.config import Config
from scim_calls import ERROR_URN
from token_api_calls import PASSWORD, add_admin, assert_wire_error, call, trusting_loopback

LIMIT = 3


def throttling(config: Config, limit: int = LIMIT) -> Config:
    return trusting_loopback(config, limits=dataclasses.replace(config.limits, auth_failures_per_minute=limit))


@pytest.fixture(name="throttled_client")
async def _throttled_client(make_client: Callable[..., Any], config: Config) -> TestClient:
    return await make_client(throttling(config))


async def wrong_token(client: TestClient, **headers: str) -> Any:
    return await client.get("/scim/v2/Users", headers={**auth(secrets.token_urlsafe(32)), **headers})


async def test_scim_failures_past_the_limit_get_429_with_retry_after(throttled_client: TestClient) -> None:
    """LIMIT wrong tokens get 401; the next attempts 429 with Retry-After and a SCIM error body."""
    for _ in range(LIMIT):
        assert 401 == (await wrong_token(throttled_client)).status
    throttled = await wrong_token(throttled_client)
    body = await throttled.json()
    assert 429 == throttled.status, body
    assert [ERROR_URN] == body["schemas"] and "429" == body["status"]
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    assert throttled.content_type == "application/scim+json"


async def test_a_valid_token_is_still_served_from_a_throttled_address(throttled_client: TestClient) -> None:
    from conftest import new_token

    token = await new_token(throttled_client)
    for _ in range(LIMIT + 2):
        await wrong_token(throttled_client)
    assert 429 == (await wrong_token(throttled_client)).status
    assert 200 == (await throttled_client.get("/scim/v2/Users", headers=auth(token))).status


async def test_successes_never_count(throttled_client: TestClient) -> None:
    from conftest import new_token

    token = await new_token(throttled_client)
    for _ in range(LIMIT * 5):
        assert 200 == (await throttled_client.get("/scim/v2/Users", headers=auth(token))).status
    assert 401 == (await wrong_token(throttled_client)).status


async def test_addresses_are_counted_apart_through_trusted_proxies(throttled_client: TestClient) -> None:
    """Behind a trusted proxy the client address is X-Forwarded-For's: one IdP's failures do not throttle another."""
    for _ in range(LIMIT + 1):
        await wrong_token(throttled_client, **{"X-Forwarded-For": "203.0.113.7"})
    assert 429 == (await wrong_token(throttled_client, **{"X-Forwarded-For": "203.0.113.7"})).status
    assert 401 == (await wrong_token(throttled_client, **{"X-Forwarded-For": "198.51.100.9"})).status
    # a forged leftmost entry does not move the address: the proxy appends the real one
    spoofed = await wrong_token(throttled_client, **{"X-Forwarded-For": "192.0.2.1, 203.0.113.7"})
    assert 429 == spoofed.status


async def test_zero_turns_throttling_off(make_client: Callable[..., Any], config: Config) -> None:
    client = await make_client(throttling(config, limit=0))
    for _ in range(20):
        assert 401 == (await wrong_token(client)).status


async def test_token_api_wrong_passwords_past_the_limit_get_wires_429(
    throttled_client: TestClient, config: Config
) -> None:
    """Wrong passwords: 403 access-denied up to the limit, then 429 (Wire's body), even with the right password."""
    admin = await add_admin(throttled_client, config)
    wrong = {"description": "d", "password": "wrong-password"}
    for _ in range(LIMIT):
        await assert_wire_error(await call(throttled_client, "POST", user=admin, body=wrong), 403, "access-denied")
    throttled = await call(throttled_client, "POST", user=admin, body=wrong)
    await assert_wire_error(throttled, 429, "too-many-requests")
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    right = await call(throttled_client, "POST", user=admin, body={"description": "d", "password": PASSWORD})
    await assert_wire_error(right, 429, "too-many-requests")
    # listing (no password) is not an authentication attempt
    assert 200 == (await call(throttled_client, "GET", user=admin)).status
