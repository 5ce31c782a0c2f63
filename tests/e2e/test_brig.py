"""
The brig backend end to end: a real `scim-gateway brig-lite` process, seeded with
`brig-lite add-member`, and a real `scim-gateway serve` with `backend: {kind: brig}` in front of
it; then the crash-safety run of issue 4 (1,000 users, 10 % of brig calls failing at random).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from e2e.conftest import CLI_SECONDS, TEAM, Gateway, StartGateway, auth, clean_env, free_port, user_body
from idp_sync import check_both_sides, provision, sync_user

pytestmark = pytest.mark.e2e

USERS = "/scim/v2/Users"
TEN_PERCENT = [  # as in tests/api/test_brig_crash_safety.py: before the work, after it, dropped
    {"route": "*", "rate": 0.05, "status": 503},
    {"route": "*", "rate": 0.03 / 0.95, "status": 500, "after": True},
    {"route": "*", "rate": 0.02 / (0.95 * 0.97), "status": 0, "after": True},
]


def start_brig_lite(start_gateway: StartGateway, tmp_path: Path, **env: str) -> tuple[Gateway, Path]:
    """`scim-gateway brig-lite --config FILE` on a free port (or SCIM_GATEWAY__BRIG_LITE__PORT)."""
    port = int(env.get("SCIM_GATEWAY__BRIG_LITE__PORT", 0)) or free_port()
    path = tmp_path / "brig-lite.db"
    lite = start_gateway(
        argv=[sys.executable, "-m", "gateway", "brig-lite"], port=port, env=env,
        config={"brig_lite": {"port": free_port() if env else port, "path": str(path)}},
    )  # fmt: skip
    return lite, path


def start_brig_gateway(start_gateway: StartGateway, lite: Gateway) -> Gateway:
    return start_gateway(config={"backend": {"kind": "brig", "brig_url": lite.base_url}})


def test_brig_lite_and_the_gateway_work_together(start_gateway: StartGateway, tmp_path: Path) -> None:
    """
    SCIM_GATEWAY__BRIG_LITE__PORT moves brig-lite; add-member prints an id that galley knows as
    admin; a gateway on the brig backend creates, reads, changes and deletes a user in brig-lite.
    """
    lite, _ = start_brig_lite(start_gateway, tmp_path, SCIM_GATEWAY__BRIG_LITE__PORT=str(free_port()))
    added = subprocess.run(
        [sys.executable, "-m", "gateway", "brig-lite", "add-member", "--config", str(lite.config_path),
         "--team", TEAM, "--role", "admin", "--email", "admin@example.com", "--password", "s3cret-pw"],
        env=lite.env, cwd=lite.workdir, capture_output=True, text=True, timeout=CLI_SECONDS, check=False,
    )  # fmt: skip
    assert 0 == added.returncode, added.stderr
    admin = added.stdout.strip()
    assert "s3cret-pw" not in added.stderr + lite.stdout() + lite.stderr()
    member = lite.request("GET", f"/i/teams/{TEAM}/members/{admin}").json()
    assert {"self": 5951, "copy": 5951} == member["permissions"]

    gateway = start_brig_gateway(start_gateway, lite)
    secret, _ = gateway.create_token()
    created = gateway.request("POST", USERS, body=user_body(), headers=auth(secret))
    assert 201 == created.status, created.body
    uid = created.json()["id"]
    patched = gateway.request(
        "PATCH", f"{USERS}/{uid}", headers=auth(secret),
        body={"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
              "Operations": [{"op": "replace", "path": "displayName", "value": "Babs"}]},
    )  # fmt: skip
    [account] = lite.request("GET", f"/i/users?ids={uid}&includePendingInvitations=true").json()
    deleted = gateway.request("DELETE", f"{USERS}/{uid}", headers=auth(secret))

    assert (200, "Babs") == (patched.status, patched.json()["displayName"])
    assert ("Babs", "bjensen", "pending-invitation") == (account["name"], account["handle"], account["status"])
    assert 204 == deleted.status
    assert {"status": "deleted"} == lite.request("GET", f"/i/users/{uid}/status").json()
    assert 404 == gateway.request("GET", f"{USERS}/{admin}", headers=auth(secret)).status


async def _sync(gateway: Gateway, secret: str, bodies: list[dict[str, Any]]) -> Any:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:

        async def post(body: dict[str, Any]) -> tuple[int, Any]:
            try:
                async with session.post(gateway.scim_url + "/Users", json=body, headers=auth(secret)) as answer:
                    return answer.status, await answer.json(content_type=None)
            except aiohttp.ClientError as exc:
                raise OSError(str(exc)) from None

        async def find(external_id: str) -> int:
            query = quote(f'externalId eq "{external_id}"')
            async with session.get(f"{gateway.scim_url}/Users?filter={query}", headers=auth(secret)) as answer:
                return (await answer.json()).get("totalResults", -1) if answer.status == 200 else -1

        return await provision(bodies, post, find, workers=16)


def test_a_sync_of_1000_users_through_10_percent_failures_ends_consistent(
    start_gateway: StartGateway, tmp_path: Path
) -> None:
    """
    Issue 4, point 4: with brig-lite failing 10 % of calls at random, an IdP that retries ends
    with exactly 1,000 users in brig-lite, each indexed once by the gateway, none orphaned.
    """
    lite, lite_db = start_brig_lite(start_gateway, tmp_path)
    gateway = start_brig_gateway(start_gateway, lite)
    secret, _ = gateway.create_token()
    bodies = [sync_user(i, prefix="user") for i in range(1000)]
    assert 200 == lite.request("PUT", "/i/_faults", body={"rules": TEN_PERCENT, "seed": 11}).status

    report = asyncio.run(_sync(gateway, secret, bodies))

    fired = lite.request("GET", "/i/_faults").json()["fired"]
    assert 200 == lite.request("PUT", "/i/_faults", body={"rules": []}).status
    assert 1000 == report.created + report.found_after_409
    assert sum(fired) > 300, f"too few faults to prove anything: {fired}"
    check_both_sides(lite_db, gateway.workdir / "data" / "gateway.db", {b["userName"] for b in bodies})
    listing = gateway.request("GET", f"{USERS}?count=0", headers=auth(secret)).json()
    assert 1000 == listing["totalResults"]


def test_check_config_requires_brig_url_for_the_brig_backend(tmp_path: Path) -> None:
    """check-config with backend.kind brig and no brig_url exits 2 naming backend.brig_url."""
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "check-config"], env=clean_env({"SCIM_GATEWAY__BACKEND__KIND": "brig"}),
        cwd=tmp_path, capture_output=True, text=True, timeout=CLI_SECONDS, check=False,
    )  # fmt: skip

    assert 2 == done.returncode
    assert "backend.brig_url: required when backend.kind is brig" in done.stderr
