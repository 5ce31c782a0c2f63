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
ISSUER = "https://sts.windows.net/0b6c4e5a-7d1f-4a8e-9c2b-3d4e5f6a7b8c/"


pytestmark = pytest.mark.usefixtures("fresh_directory")  # tests/conftest.py


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
    assert 0 == run(capsys, "idp", "add", "--team", TEAM, "--id", IDP, "--issuer", ISSUER, "--description", "Entra")[0]
    assert 1 == run(capsys, "idp", "add", "--team", TEAM, "--id", IDP, "--issuer", ISSUER)[0]
    _, listed, _ = run(capsys, "idp", "list", "--team", TEAM, "--json")
    _, token_id, _ = run(capsys, "token", "create", "--team", TEAM, "--idp", IDP, "--json")
    in_use = run(capsys, "idp", "remove", "--team", TEAM, "--id", IDP)
    run(capsys, "token", "revoke", "--team", TEAM, "--id", json.loads(token_id)["info"]["id"])

    assert [(IDP, "Entra")] == [(r["id"], r["description"]) for r in map(json.loads, listed.splitlines())]
    assert (1, "revoke them first") == (in_use[0], in_use[2].strip()[-17:])
    assert (0, 1) == (run(capsys, "idp", "remove", "--team", TEAM, "--id", IDP)[0], run(capsys, "idp", "remove", "--team", TEAM, "--id", IDP)[0])


class TestIdpIssuers:
    def test_add_keeps_the_issuer_and_list_shows_it(self, capsys: pytest.CaptureFixture[str]) -> None:
        """`idp add --issuer` stores the URI; `idp list` shows it, as text and as JSON."""
        added = run(capsys, "idp", "add", "--team", TEAM, "--id", IDP, "--issuer", ISSUER)
        _, text, _ = run(capsys, "idp", "list", "--team", TEAM)
        _, lines, _ = run(capsys, "idp", "list", "--team", TEAM, "--json")

        assert 0 == added[0]
        assert text.startswith(f"{IDP}  {ISSUER}  created ")
        assert [(IDP, ISSUER)] == [(r["id"], r["issuer"]) for r in map(json.loads, lines.splitlines())]

    def test_add_requires_the_issuer(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A new registration without --issuer is a usage error (exit 2) that names the option."""
        code, _, err = run(capsys, "idp", "add", "--team", TEAM, "--id", IDP)

        assert (2, True) == (code, "--issuer" in err)
        assert [] == self.listed(capsys)

    @pytest.mark.parametrize(
        ("issuer", "says"),
        [
            (IDP, "is an id, not an issuer"),
            ("sts.windows.net/tenant", "is not an issuer URI"),
            ("https://idp.example.com/has space", "is not an issuer URI"),
            ("", "is not an issuer URI"),
        ],
    )
    def test_add_refuses_what_is_not_an_issuer_uri(self, capsys: pytest.CaptureFixture[str], issuer: str, says: str) -> None:
        """A bare UUID (the IdP's id) or text without a scheme is refused (exit 2), with an example URI."""
        code, _, err = run(capsys, "idp", "add", "--team", TEAM, "--id", IDP, "--issuer", issuer)

        assert (2, True, True) == (code, says in err, "https://sts.windows.net/<tenant-id>/" in err)
        assert [] == self.listed(capsys)

    def test_set_issuer_changes_a_registered_idp(self, capsys: pytest.CaptureFixture[str]) -> None:
        """`idp set-issuer` replaces the issuer of a registered IdP; a second `add` points to it."""
        run(capsys, "idp", "add", "--team", TEAM, "--id", IDP, "--issuer", ISSUER)
        again = run(capsys, "idp", "add", "--team", TEAM, "--id", IDP, "--issuer", "http://www.okta.com/exk1")
        changed = run(capsys, "idp", "set-issuer", "--team", TEAM, "--id", IDP, "--issuer", "http://www.okta.com/exk1")

        assert (1, True) == (again[0], "idp set-issuer" in again[2])
        assert 0 == changed[0]
        assert [(IDP, "http://www.okta.com/exk1")] == self.listed(capsys)

    def test_set_issuer_of_an_unknown_idp_fails(self, capsys: pytest.CaptureFixture[str]) -> None:
        """set-issuer for an IdP the team has not registered: exit 1, nothing registered."""
        code, _, err = run(capsys, "idp", "set-issuer", "--team", TEAM, "--id", IDP, "--issuer", ISSUER)

        assert (1, True) == (code, "has no IdP" in err)
        assert [] == self.listed(capsys)

    @pytest.mark.parametrize("command", ["add", "set-issuer"])
    def test_with_spar_url_spar_is_the_source(self, capsys: pytest.CaptureFixture[str], command: str) -> None:
        """With backend.spar_url, `idp add` and `idp set-issuer` refuse (exit 2) and say spar is the source."""
        Path("config.yaml").write_text(
            "backend: {kind: brig, brig_url: 'http://127.0.0.1:9', spar_url: 'http://127.0.0.1:9'}\n"
        )

        code, _, err = run(capsys, "idp", command, "--team", TEAM, "--id", IDP, "--issuer", ISSUER)

        assert (2, True, True) == (code, "come from spar" in err, "Team Settings" in err)
        assert not Path("data").exists()  # refused before the store was opened

    @staticmethod
    def listed(capsys: pytest.CaptureFixture[str]) -> list[tuple[str, str | None]]:
        _, lines, _ = run(capsys, "idp", "list", "--team", TEAM, "--json")
        return [(r["id"], r["issuer"]) for r in map(json.loads, lines.splitlines())]


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
