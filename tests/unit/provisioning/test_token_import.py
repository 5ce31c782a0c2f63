"""Importing spar's token rows keeps IdP connections working after a move from spar."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from gateway.cli import main
from gateway.provisioning.token_import import TokenImportError, parse_spar_rows

TEAM = "6f1c2b9e-2a4e-4d0e-9a51-2f1b9b2d7c11"
TOKEN_ID = "1d3b8a3e-5c6f-4a7b-8c9d-0e1f2a3b4c5d"
IDP = "2d6f7a8e-0a8b-4c4f-9a3e-5b2e1c0d9f11"
KNOWN_TOKEN = base64.b64encode(bytes(range(32))).decode()


def spar_hash(token: str) -> str:
    """Computed here independently: sha512, base64, 'sha512:' prefix (spar's hashScimToken)."""
    return "sha512:" + base64.b64encode(hashlib.sha512(token.encode()).digest()).decode()


CSV = (
    "team,id,created_at,descr,idp,name,token_\n"
    f"{TEAM},{TOKEN_ID},2024-10-22 18:04:50.123000+0000,token generated at x,{IDP},entra,{spar_hash(KNOWN_TOKEN)}\n"
)


def test_csv_rows_from_cqlsh_become_records() -> None:
    """A cqlsh CSV export row keeps id, team, idp, description, name, hash and its time in UTC."""
    (record,) = parse_spar_rows(CSV)

    assert (TOKEN_ID, TEAM, IDP, "token generated at x", "entra", spar_hash(KNOWN_TOKEN), "2024-10-22T18:04:50.123Z") == (
        record.id, record.team, record.idp, record.description, record.name, record.hash, record.created_at
    )


def test_json_rows_and_legacy_plaintext_tokens_are_hashed() -> None:
    """A JSON export works too; a legacy plaintext token_ is stored only as its hash."""
    rows = [{"team": TEAM, "id": TOKEN_ID, "created_at": "2024-10-22T18:04:50Z", "token_": KNOWN_TOKEN}]

    (record,) = parse_spar_rows(json.dumps(rows))

    assert (spar_hash(KNOWN_TOKEN), TOKEN_ID) == (record.hash, record.name)


@pytest.mark.parametrize(
    ("text", "column"),
    [("team,id,created_at,token_\nnot-a-uuid,%s,2024-01-01,sha512:x\n" % TOKEN_ID, "team"), ('[{"team": "%s", "token_": "sha512:x"}]' % TEAM, "id")],
)
def test_a_bad_row_names_the_row_and_column(text: str, column: str) -> None:
    """Bad input is refused with the row number and the column."""
    with pytest.raises(TokenImportError) as caught:
        parse_spar_rows(text)

    assert "row 1" in str(caught.value) and column in str(caught.value)


async def test_an_imported_token_authenticates(client: TestClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """After `token import`, the IdP's existing token is accepted as before."""
    from gateway.web.keys import CONFIG

    config_file = tmp_path / "import.yaml"
    config_file.write_text(f"store: {{path: {client.app[CONFIG].store.path}}}\n")
    rows = tmp_path / "tokens.csv"
    rows.write_text(CSV)

    argv = ["token", "import", "--config", str(config_file), "--file", str(rows)]
    code = await asyncio.to_thread(main, argv)  # the CLI runs its own event loop
    again = await asyncio.to_thread(main, argv)
    response = await client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {KNOWN_TOKEN}"})

    assert (0, 0, 200) == (code, again, response.status)
    assert "imported 1 token(s)" in capsys.readouterr().out
