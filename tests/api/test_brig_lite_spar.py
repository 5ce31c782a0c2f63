"""
spar's internal `GET /i/identity-providers/:tid` on brig-lite's listener
(libs/wire-api/src/Wire/API/Routes/Internal/Spar.hs, "i_get_identity_providers"): IdPList
{"providers": [IdP]}, each IdP in the shape of golden testObject_IdP_1.json.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from gateway.brig_lite.app import add_idp
from gateway.brig_lite.wire_json import WireError
from gateway.cli import main
from gateway.config import BrigLite
from test_brig_lite import TEAM, _lite, _make_lite, _settings, json_of  # noqa: F401  # fixtures

OTHER_TEAM = "d2a1c0de-1111-4222-8333-944455556666"


async def providers(lite: TestClient, team: str = TEAM) -> list[dict]:
    body = await json_of(await lite.get(f"/i/identity-providers/{team}"), 200)
    assert ["providers"] == list(body)
    return list(body["providers"])


async def test_a_seeded_idp_has_the_golden_shape(lite: TestClient, settings: BrigLite) -> None:
    """An IdP: id, metadata {issuer, requestURI, certAuthnResponse}, extraInfo {team, apiVersion, ...}."""
    idp_id = await add_idp(settings, team=TEAM, issuer="https://idp.example.com/saml")

    [idp] = await providers(lite)

    assert {"id", "metadata", "extraInfo"} == set(idp)
    assert {"issuer", "requestURI", "certAuthnResponse"} == set(idp["metadata"])
    assert {"team", "apiVersion", "oldIssuers", "replacedBy", "handle", "domain"} == set(idp["extraInfo"])
    assert (idp_id, "https://idp.example.com/saml", TEAM, [], None) == (
        idp["id"], idp["metadata"]["issuer"], idp["extraInfo"]["team"], idp["extraInfo"]["oldIssuers"],
        idp["extraInfo"]["replacedBy"],
    )  # fmt: skip
    [key_info] = idp["metadata"]["certAuthnResponse"]
    assert key_info.startswith("<ds:KeyInfo") and idp["extraInfo"]["apiVersion"] in ("WireIdPAPIV1", "WireIdPAPIV2")


async def test_each_team_sees_its_own_idps_in_order(lite: TestClient, settings: BrigLite) -> None:
    """A team's IdPs in the order added; another team's not; a team without IdPs gets an empty list."""
    chosen = str(uuid.uuid4())
    first = await add_idp(settings, team=TEAM, issuer="https://a.example.com/")
    second = await add_idp(settings, team=TEAM, issuer="urn:example:idp:b", idp_id=chosen)
    third = await add_idp(settings, team=OTHER_TEAM, issuer="https://a.example.com/")

    assert [first, chosen] == [idp["id"] for idp in await providers(lite)] and second == chosen
    assert [third] == [idp["id"] for idp in await providers(lite, OTHER_TEAM)]
    assert [] == await providers(lite, str(uuid.uuid4()))


@pytest.mark.parametrize("issuer", ["6f1c2b9e-2a4e-4d0e-9a51-2f1b9b2d7c11", "idp.example.com", "https://a b/"])
async def test_an_issuer_must_be_a_uri(settings: BrigLite, issuer: str) -> None:
    with pytest.raises(WireError) as refused:
        await add_idp(settings, team=TEAM, issuer=issuer)

    assert (400, "bad-request") == (refused.value.status, refused.value.label)


async def test_a_taken_id_or_issuer_is_refused(settings: BrigLite) -> None:
    idp_id = await add_idp(settings, team=TEAM, issuer="https://a.example.com/")

    for kwargs in ({"issuer": "https://b.example.com/", "idp_id": idp_id}, {"issuer": "https://a.example.com/"}):
        with pytest.raises(WireError) as refused:
            await add_idp(settings, team=TEAM, **kwargs)
        assert 409 == refused.value.status


async def test_the_cli_adds_an_idp_and_prints_its_id(
    lite: TestClient, settings: BrigLite, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`scim-gateway brig-lite add-idp --team T --issuer URI [--id UUID]` prints the id; a bad issuer exits 1."""
    for name in list(os.environ):
        if name.startswith("SCIM_GATEWAY"):
            monkeypatch.delenv(name)
    config = tmp_path / "gw.yaml"
    config.write_text(f"brig_lite:\n  path: {settings.path}\n", encoding="utf-8")
    chosen = str(uuid.uuid4())
    base = ["brig-lite", "add-idp", "--config", str(config), "--team", TEAM]

    code = await asyncio.to_thread(main, [*base, "--issuer", "https://cli.example.com/", "--id", chosen])
    printed = capsys.readouterr().out.strip()
    refused = await asyncio.to_thread(main, [*base, "--issuer", TEAM])

    assert (0, chosen, 1) == (code, printed, refused)
    assert [("https://cli.example.com/", chosen)] == [(i["metadata"]["issuer"], i["id"]) for i in await providers(lite)]
