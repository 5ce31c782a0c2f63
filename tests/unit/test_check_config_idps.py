"""
`scim-gateway check-config` says where SAML issuers and a team's IdPs come from (spar with
backend.spar_url, else the gateway's IdP registry) and, for brig without spar_url, warns about
registered IdPs without an issuer; the config checks of backend.spar_url.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import ConfigError, Store, load_config
from gateway.provisioning.idps import IdpRegistry
from gateway.store.opening import open_store

TEAM = "6f1c2b9e-2a4e-4d0e-9a51-2f1b9b2d7c11"
IDP = "2d6f7a8e-0a8b-4c4f-9a3e-5b2e1c0d9f11"
OTHER_IDP = "7b0c4a1e-5d3f-4e2a-9c8b-1a2b3c4d5e6f"
BRIG = "backend: {kind: brig, brig_url: 'http://127.0.0.1:9'}\n"


pytestmark = pytest.mark.usefixtures("fresh_directory")  # tests/conftest.py


def check_config(capsys: pytest.CaptureFixture[str], yaml_text: str) -> tuple[int, str, str]:
    Path("gw.yaml").write_text(yaml_text, encoding="utf-8")
    capsys.readouterr()
    code = main(["check-config", "--config", "gw.yaml"])
    out, err = capsys.readouterr()
    return code, out, err


def register(*idps: tuple[str, str | None]) -> None:
    """IdPs in ./data/gateway.db, as `idp add` (or an older release, without issuer) left them."""

    async def work() -> None:
        store = await open_store(Store(path="data/gateway.db"))
        try:
            for idp_id, issuer in idps:
                await IdpRegistry(store).add(TEAM, idp_id, issuer=issuer)
        finally:
            await store.close()

    asyncio.run(work())


def test_brig_with_spar_url_says_spar(capsys: pytest.CaptureFixture[str]) -> None:
    """kind brig with spar_url: issuers from spar at that URL; the key is printed with the others."""
    code, out, err = check_config(capsys, "backend: {kind: brig, brig_url: 'http://b:8080', spar_url: 'http://spar:8080'}\n")

    assert (0, "") == (code, err)
    assert "  backend.spar_url: \"http://spar:8080\"" in out.splitlines()
    assert any(line.startswith("SAML issuers from spar at http://spar:8080") for line in out.splitlines())


def test_brig_without_spar_url_says_registry_and_warns_for_idps_without_issuer(capsys: pytest.CaptureFixture[str]) -> None:
    """kind brig, no spar_url: the registry; each registered IdP lacking an issuer is named with the fix."""
    register((IDP, None), (OTHER_IDP, "https://sts.windows.net/tenant/"))

    code, out, err = check_config(capsys, f"store: {{path: data/gateway.db}}\n{BRIG}")

    assert 0 == code
    assert "SAML issuers from the gateway's IdP registry (scim-gateway idp add --issuer)" in out.splitlines()
    assert [f"scim-gateway idp set-issuer --team {TEAM} --id {IDP} --issuer <URI>"] == [
        line[line.index("scim-gateway"):] for line in err.splitlines() if line.startswith("warning:")
    ]  # fmt: skip


def test_brig_without_spar_url_and_no_store_yet_creates_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    """No database yet: nothing registered, nothing to warn about, and check-config makes no file."""
    code, out, err = check_config(capsys, BRIG)

    assert (0, "", False) == (code, err, Path("data").exists())
    assert "SAML issuers from the gateway's IdP registry (scim-gateway idp add --issuer)" in out.splitlines()


def test_embedded_says_registry(capsys: pytest.CaptureFixture[str]) -> None:
    """The embedded backend: IdPs from the registry, no issuer needed; a spar_url given is said to be ignored."""
    code, out, err = check_config(capsys, "backend: {spar_url: 'http://spar:8080'}\n")

    assert 0 == code
    assert any(line.startswith("SAML IdPs from the gateway's IdP registry") for line in out.splitlines())
    assert "spar_url is ignored" in err


@pytest.mark.parametrize(
    ("env", "expected"),
    [({"SCIM_GATEWAY__BACKEND__SPAR_URL": "http://spar:8080"}, "http://spar:8080"), ({}, None)],
)
def test_spar_url_from_the_environment(env: dict[str, str], expected: str | None) -> None:
    """SCIM_GATEWAY__BACKEND__SPAR_URL sets backend.spar_url; its default is null."""
    assert expected == load_config(None, env).backend.spar_url


def test_spar_url_must_be_http() -> None:
    """A spar_url that is not http(s) is a configuration error naming the key."""
    with pytest.raises(ConfigError) as raised:
        load_config(None, {"SCIM_GATEWAY__BACKEND__SPAR_URL": "spar:8080"})

    assert str(raised.value).startswith("backend.spar_url: 'spar:8080' must start with http:// or https://")


def test_cassandra_credentials_are_never_printed(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """spar_state's user name and password (from the environment) show as *** in check-config's listing."""
    pytest.importorskip("cassandra")  # spar_state.kind cassandra needs the driver (the cassandra extra)
    monkeypatch.setenv("SCIM_GATEWAY__SPAR_STATE__USERNAME", "cassandra-user-x1")
    monkeypatch.setenv("SCIM_GATEWAY__SPAR_STATE__PASSWORD", "s3cret-pass-y2")
    code, out, err = check_config(
        capsys,
        "backend: {kind: brig, brig_url: 'http://b:8080', spar_url: 'http://spar:8080'}\n"
        "spar_state: {kind: cassandra, contact_points: [cassandra]}\n",
    )

    assert 0 == code, err
    assert '"***"' in out
    assert "cassandra-user-x1" not in out + err and "s3cret-pass-y2" not in out + err
