"""
Crash safety across the network, in process (the end-to-end test runs 1,000 users against real
processes): brig-lite fails about 10 % of all calls at random (errors before the work, errors
after it, dropped connections), an IdP provisions users and retries what failed, and afterwards
brig-lite and the gateway agree exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from conftest import auth
from gateway.config import Config
from idp_sync import check_both_sides, provision, sync_user

pytestmark = [pytest.mark.backends("brig"), pytest.mark.sqlite_store]  # reads the gateway's SQLite file

USERS = "/scim/v2/Users"
# About 10 % of calls fail: 5 % before the work, 3 % after it (the answer is lost), 2 % dropped.
TEN_PERCENT = [
    {"route": "*", "rate": 0.05, "status": 503},
    {"route": "*", "rate": 0.03 / 0.95, "status": 500, "after": True},
    {"route": "*", "rate": 0.02 / (0.95 * 0.97), "status": 0, "after": True},
]


async def set_faults(config: Config, rules: list[dict[str, Any]], seed: int | None = None) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.put(f"{config.backend.brig_url}/i/_faults", json={"rules": rules, "seed": seed}) as answer:
            assert 200 == answer.status


@pytest.mark.parametrize("use_saml", [False, True], ids=["invitations", "saml"])
async def test_a_sync_through_random_failures_ends_consistent(
    client: TestClient, token: str, saml_token: str, config: Config, tmp_path: Path, use_saml: bool
) -> None:
    """150 users through 10 % failures: exactly 150 in brig-lite, each indexed once, no orphans."""
    secret = saml_token if use_saml else token
    bodies = [sync_user(i, prefix="u") for i in range(150)]

    async def post(body: dict[str, Any]) -> tuple[int, Any]:
        response = await client.post(USERS, json=body, headers=auth(secret))
        return response.status, await response.json()

    async def find(external_id: str) -> int:
        query = quote(f'externalId eq "{external_id}"')
        response = await client.get(f"{USERS}?filter={query}", headers=auth(secret))
        return (await response.json()).get("totalResults", -1) if response.status == 200 else -1

    await set_faults(config, TEN_PERCENT, seed=4)
    report = await provision(bodies, post, find)
    await set_faults(config, [])

    assert 150 == report.created + report.found_after_409
    assert report.attempts > 170, f"too few failures to prove anything: {report.statuses}"
    check_both_sides(tmp_path / "brig-lite.db", Path(config.store.path or ""), {b["userName"] for b in bodies})
    listing = await client.get(f"{USERS}?count=0", headers=auth(secret))
    assert 150 == (await listing.json())["totalResults"]
