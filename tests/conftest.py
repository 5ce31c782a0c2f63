"""
Shared fixtures: a gateway app on a fresh SQLite file, driven through aiohttp's test client,
with a token for TEAM (no IdP: email/password flow) and one for SAML_TEAM (bound to an IdP).
Tests marked `pytest.mark.backends("embedded", "brig")` run on both backends; "brig" is the brig
backend against the real brig-lite app served on a loopback port (running_brig_lite).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, settings

from gateway.app import create_app
from gateway.config import Backend, Config, Store, load_config
from gateway.web.keys import TOKENS
from postgres_schema import fresh_schema

TEAM = "6f1c2b9e-2a4e-4d0e-9a51-2f1b9b2d7c11"
SAML_TEAM = "0b5e3c52-95a4-4f4e-8d7c-3f3a1f7d2e01"
OTHER_TEAM = "d2a1c0de-1111-4222-8333-944455556666"
IDP = "2d6f7a8e-0a8b-4c4f-9a3e-5b2e1c0d9f11"
SCIM_JSON = "application/scim+json"

# No timing in property tests: Hypothesis's per-example deadline (200 ms) and its "input
# generation is slow" health check are timed assertions, and both failed CI at random on a loaded
# 2-core machine (one draw took 3.4 s). Speed is the benchmark's business.
settings.register_profile("gateway", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("gateway")


@pytest.fixture(name="backend_kind")
def _backend_kind() -> str:
    """The backend the gateway runs on; tests marked `backends(...)` run once per kind."""
    return "embedded"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker("backends")
    if marker is not None and "backend_kind" in metafunc.fixturenames:
        metafunc.parametrize("backend_kind", marker.args)


@pytest.fixture(name="fresh_directory")
def _fresh_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test runs in an empty working directory, without SCIM_GATEWAY__ variables (the CLI's tests)."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("SCIM_GATEWAY__"):
            monkeypatch.delenv(name)


@pytest.fixture(name="store_settings")
def _store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """
    SQLite in tmp_path; with SCIM_GATEWAY_TEST_STORE=postgres a fresh PostgreSQL schema instead
    (except for tests marked `sqlite_store`, which look into the SQLite file themselves).
    """
    postgres = os.environ.get("SCIM_GATEWAY_TEST_STORE") == "postgres"
    if not postgres or request.node.get_closest_marker("sqlite_store") is not None:
        yield Store(path=str(tmp_path / "gateway.db"))
        return
    with fresh_schema() as dsn:
        yield Store(kind="postgres", dsn=dsn, connections=2, path=str(tmp_path / "gateway.db"))


@pytest.fixture(name="config")
async def _config(tmp_path: Path, backend_kind: str, store_settings: Store) -> AsyncIterator[Config]:
    """Defaults with the store in tmp_path; for "brig", a real brig-lite app on a loopback port."""
    base = load_config(None, {})
    config = dataclasses.replace(base, store=store_settings)
    if backend_kind == "embedded":
        yield config
        return
    async with running_brig_lite(tmp_path / "brig-lite.db") as url:
        await add_saml_idp(tmp_path / "brig-lite.db", SAML_TEAM, IDP)
        yield dataclasses.replace(config, backend=Backend(kind="brig", brig_url=url, spar_url=url))


@pytest.fixture(name="make_client")
def _make_client(aiohttp_client: Callable[..., Any], config: Config) -> Callable[..., Any]:
    async def make(cfg: Config | None = None) -> TestClient:
        return await aiohttp_client(create_app(cfg or config))

    return make


@pytest.fixture(name="client")
async def _client(make_client: Callable[..., Any]) -> TestClient:
    return await make_client()


async def new_token(client: TestClient, team: str = TEAM, *, idp: str | None = None) -> str:
    secret, _ = await client.app[TOKENS].create(team, description="test", idp=idp)
    return secret


@pytest.fixture(name="token")
async def _token(client: TestClient) -> str:
    """A token without IdP: users are invited (email/password flow)."""
    return await new_token(client)


@pytest.fixture(name="saml_token")
async def _saml_token(client: TestClient) -> str:
    """A token bound to an IdP: users are SAML users, active at once."""
    return await new_token(client, SAML_TEAM, idp=IDP)


def auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": SCIM_JSON, **extra}


def user_body(user_name: str = "bjensen", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "externalId": f"{user_name}@example.com",
        "displayName": f"{user_name.title()} Example",
        "emails": [{"value": f"{user_name}@example.com", "type": "work", "primary": True}],
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def without_spar(config: Config) -> Config:
    """`config` with the IdPs (and their issuers) from the gateway's registry, not from spar (brig-lite)."""
    return dataclasses.replace(config, backend=dataclasses.replace(config.backend, spar_url=None))


def issuer_of(idp: str) -> str:
    """The SAML metadata issuer (a URI) the tests give the IdP `idp` in spar (brig-lite)."""
    return f"https://idp.example.com/{idp}/"


class FixedIssuers:
    """An IssuerLookup for brig backends built by hand in tests: every IdP has `issuer_of(idp)`."""

    async def issuer_of(self, team: str, idp_id: str) -> str:
        return issuer_of(idp_id)

    async def idps_of(self, team: str) -> list[tuple[str, str | None]]:
        return []  # any id has an issuer; none is listed


async def add_saml_idp(path: Path, team: str, idp: str) -> None:
    """spar's IdP `idp` of `team` with its issuer, in the brig-lite whose database is `path`."""
    from gateway.brig_lite.app import add_idp
    from gateway.config import BrigLite

    await add_idp(BrigLite(path=str(path)), team=team, issuer=issuer_of(idp), idp_id=idp)


@asynccontextmanager
async def running_brig_lite(path: Path, **settings: Any) -> AsyncIterator[str]:
    """
    brig-lite (the real app) on a free loopback port, its database at `path`; yields its URL.

    In-process by default (fast); with SCIM_GATEWAY_TEST_BRIG_LITE=process, settings aside, a real
    `scim-gateway brig-lite` process, as operators run it (.ci/run uses this for the Users suites).
    """
    if os.environ.get("SCIM_GATEWAY_TEST_BRIG_LITE") == "process" and not settings:
        async with _brig_lite_process(path) as url:
            yield url
        return
    from aiohttp.test_utils import TestServer

    from gateway.brig_lite.app import create_brig_lite_app
    from gateway.config import BrigLite

    server = TestServer(create_brig_lite_app(BrigLite(path=str(path), **settings)), host="127.0.0.1")
    await server.start_server()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        await server.close()


@asynccontextmanager
async def _brig_lite_process(path: Path) -> AsyncIterator[str]:
    """A real `python -m gateway brig-lite` process on a free port; terminated afterwards."""
    import asyncio
    import socket
    import subprocess
    import sys

    import aiohttp

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = path.with_suffix(".yaml")
    config.write_text(f"brig_lite: {{host: 127.0.0.1, port: {port}, path: '{path}'}}\nlog: {{level: warning}}\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "brig-lite", "--config", str(config)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(200):  # at most ~10 s
                if process.poll() is not None:
                    raise RuntimeError(f"brig-lite exited with {process.returncode}")
                try:
                    async with session.get(f"{url}/i/users/locale") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError("brig-lite did not answer within 10 s")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
