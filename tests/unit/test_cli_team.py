"""`scim-gateway idp ...` and `scim-gateway team ...` (gateway/cli_team.py), run in-process in a fresh directory."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from gateway.cli import main

TEAM = "6f1c2b9e-2a4e-4d0e-9a51-2f1b9b2d7c11"
IDP = "2d6f7a8e-0a8b-4c4f-9a3e-5b2e1c0d9f11"


@pytest.fixture(autouse=True)
def _in_fresh_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("SCIM_GATEWAY__"):
            monkeypatch.delenv(name)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


def test_idp_add_list_remove(capsys: pytest.CaptureFixture[str]) -> None:
    """An IdP is registered once, listed, refused removal while a token uses it, then removed."""
    assert 0 == run(capsys, "idp", "add", "--team", TEAM, "--id", IDP, "--description", "Entra")[0]
    assert 1 == run(capsys, "idp", "add", "--team", TEAM, "--id", IDP)[0]
    _, listed, _ = run(capsys, "idp", "list", "--team", TEAM, "--json")
    _, token_id, _ = run(capsys, "token", "create", "--team", TEAM, "--idp", IDP, "--json")
    in_use = run(capsys, "idp", "remove", "--team", TEAM, "--id", IDP)
    run(capsys, "token", "revoke", "--team", TEAM, "--id", json.loads(token_id)["info"]["id"])

    assert [(IDP, "Entra")] == [(r["id"], r["description"]) for r in map(json.loads, listed.splitlines())]
    assert (1, "revoke them first") == (in_use[0], in_use[2].strip()[-17:])
    assert (0, 1) == (run(capsys, "idp", "remove", "--team", TEAM, "--id", IDP)[0], run(capsys, "idp", "remove", "--team", TEAM, "--id", IDP)[0])


def test_team_members_and_scim_status(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """add-member prints an id (password from stdin with '-'), never the password; scim-status follows tokens."""
    monkeypatch.setattr("sys.stdin", io.StringIO("from-stdin-pw\n"))
    code, user_id, err = run(capsys, "team", "add-member", "--team", TEAM, "--role", "admin", "--email", "a@example.com", "--password", "-")
    duplicate = run(capsys, "team", "add-member", "--team", TEAM, "--role", "admin", "--email", "A@example.com", "--password", "another-pw")
    _, listed, _ = run(capsys, "team", "list-members", "--team", TEAM, "--json")
    before = json.loads(run(capsys, "team", "scim-status", "--team", TEAM)[1])
    run(capsys, "token", "create", "--team", TEAM)
    after = json.loads(run(capsys, "team", "scim-status", "--team", TEAM)[1])

    assert (0, "") == (code, err)
    assert 1 == duplicate[0]
    assert [(user_id.strip(), "admin", "a@example.com")] == [(m["id"], m["role"], m["email"]) for m in map(json.loads, listed.splitlines())]
    assert "from-stdin-pw" not in listed + user_id
    assert ({"scim_tokens": 0, "sso_invites_enabled": True}, {"scim_tokens": 1, "sso_invites_enabled": False}) == (before, after)
    assert 0 == run(capsys, "team", "remove-member", "--team", TEAM, "--user", user_id.strip())[0]


def test_team_members_are_brigs_with_the_brig_backend(capsys: pytest.CaptureFixture[str]) -> None:
    """With backend kind brig, add-member says where members live instead (exit 2)."""
    Path("config.yaml").write_text("backend: {kind: brig, brig_url: 'http://127.0.0.1:9'}\n")

    code, _, err = run(capsys, "team", "add-member", "--team", TEAM, "--role", "admin", "--email", "a@example.com", "--password", "secret-pw")

    assert (2, True) == (code, "brig-lite add-member" in err)
