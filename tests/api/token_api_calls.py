"""
Calls of Wire's token API (/scim/auth-tokens) for the API tests, and team admins on either
backend: in the embedded team directory, or in the brig-lite the brig backend talks to.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from conftest import TEAM
from gateway.backend.embedded.team_directory import EmbeddedTeamDirectory
from gateway.config import Config
from gateway.web.keys import STORE

PASSWORD = "admin-pw-1"
LOOPBACK = ("127.0.0.1/32", "::1/128")
_emails = itertools.count(1)


def trusting_loopback(config: Config, **changes: Any) -> Config:
    """`config` with the test client's address in trusted_proxies (as nginz's would be)."""
    return dataclasses.replace(config, trusted_proxies=LOOPBACK, **changes)


async def add_admin(
    client: TestClient, config: Config, *, role: str = "admin", team: str = TEAM, password: str = PASSWORD
) -> str:
    """A team member with a password, where the configured backend keeps them; its user id."""
    email = f"admin{next(_emails)}@example.com"
    if config.backend.kind == "embedded":
        member = await EmbeddedTeamDirectory(client.app[STORE].db).add_member(  # type: ignore[attr-defined]
            team=team, role=role, email=email, password=password
        )
        return member.id
    from gateway.brig_lite.app import add_member
    from gateway.config import BrigLite

    return await add_member(BrigLite(path=brig_lite_path(config)), team=team, role=role, email=email, password=password)


def brig_lite_path(config: Config) -> str:
    """The brig-lite database of the `config` fixture (tests/conftest.py puts it beside the store)."""
    assert config.backend.brig_url is not None and urlparse(config.backend.brig_url).hostname == "127.0.0.1"
    return str(Path(config.store.path or "").parent / "brig-lite.db")


async def call(
    client: TestClient, method: str, path: str = "/scim/auth-tokens", *, user: str | None,
    body: Any = None, version: str = "", headers: dict[str, str] | None = None,
) -> ClientResponse:  # fmt: skip
    """One token API call as nginz makes it: Z-User set (unless None), JSON body."""
    sent = {"Content-Type": "application/json", **({"Z-User": user} if user else {}), **(headers or {})}
    return await client.request(method, f"{version}{path}", json=body, headers=sent)


async def create(client: TestClient, user: str, body: dict[str, Any] | None = None, *, version: str = "") -> dict[str, Any]:
    """A token made through the API; asserts 200 and gives the whole answer."""
    answer = await call(client, "POST", user=user, version=version,
                        body=body if body is not None else {"description": "test", "password": PASSWORD})  # fmt: skip
    assert 200 == answer.status, await answer.text()
    return await answer.json()


async def assert_wire_error(response: ClientResponse, status: int, label: str) -> dict[str, Any]:
    """Wire's error: the status, JSON with {"code", "label", "message"} and that label."""
    body = await response.json()
    assert (status, "application/json") == (response.status, response.content_type), body
    assert (set(body), body["code"], body["label"]) == ({"code", "label", "message"}, status, label)
    return body


def write_config(config: Config, path: Path) -> Path:
    """The parts of `config` a CLI process needs to share the test gateway's state, as a YAML file."""
    store = {k: v for k, v in dataclasses.asdict(config.store).items() if v is not None}
    backend = {k: v for k, v in dataclasses.asdict(config.backend).items() if v is not None}
    path.write_text(yaml.safe_dump({"store": store, "backend": backend, "limits": dataclasses.asdict(config.limits)}))
    return path


async def run_cli(config_file: Path, *args: str) -> tuple[int, str, str]:
    """`scim-gateway ARGS --config FILE` in a child process (off the event loop); (exit code, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCIM_GATEWAY__")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", *args, "--config", str(config_file), env=env, cwd=config_file.parent,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()
