"""The scim-gateway command, run in-process in a fresh working directory."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import uuid
from pathlib import Path

import pytest

from gateway.app import open_state
from gateway.backend.wire_user import NewUser, UserFields
from gateway.cli import main
from gateway.config import load_config
from gateway.provisioning.tokens import hash_token

TEAM = "6f1c2b9e-2a4e-4d0e-9a51-2f1b9b2d7c11"
OTHER_TEAM = "d2a1c0de-1111-4222-8333-944455556666"
IDP = "2d6f7a8e-0a8b-4c4f-9a3e-5b2e1c0d9f11"


pytestmark = pytest.mark.usefixtures("fresh_directory")  # tests/conftest.py


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of one command."""
    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


def create(capsys: pytest.CaptureFixture[str], *extra: str, team: str = TEAM) -> dict:
    code, out, err = run(capsys, "token", "create", "--team", team, "--json", *extra)
    assert (0, "") == (code, err)
    return json.loads(out)


class TestTokenCreate:
    def test_prints_the_token_alone(self, capsys: pytest.CaptureFixture[str]) -> None:
        """token create prints one line: a 44-character base64 token of 32 bytes."""
        code, out, _ = run(capsys, "token", "create", "--team", TEAM)

        lines = out.splitlines()
        assert (0, 1, 44) == (code, len(lines), len(lines[0]))
        assert 32 == len(base64.b64decode(lines[0], validate=True))

    def test_json_prints_token_and_info(self, capsys: pytest.CaptureFixture[str]) -> None:
        """token create --json prints the token and its record (team, id, created_at, ...)."""
        created = create(capsys)

        info = created["info"]
        assert {"token", "info"} == set(created)
        assert {"team", "id", "created_at", "description", "name"} == set(info)
        assert (TEAM, "", info["id"]) == (info["team"], info["description"], info["name"])
        assert 44 == len(created["token"])
        assert str(uuid.UUID(info["id"])) == info["id"]

    def test_name_description_and_idp_are_recorded(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--name, --description and --idp end up in the token's record."""
        created = create(capsys, "--name", "entra", "--description", "Entra ID prod", "--idp", IDP)

        _, out, _ = run(capsys, "token", "list", "--team", TEAM, "--json")
        listed = json.loads(out)
        assert ("entra", "Entra ID prod", IDP) == (listed["name"], listed["description"], listed["idp"])
        assert created["info"] == listed

    def test_team_is_written_in_canonical_form(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A team given in upper case is recorded as the lower-case UUID."""
        created = create(capsys, team=TEAM.upper())

        assert TEAM == created["info"]["team"]

    @pytest.mark.parametrize("team", ["acme", "", "6f1c2b9e-2a4e-4d0e-9a51"])
    def test_team_must_be_a_uuid(self, capsys: pytest.CaptureFixture[str], team: str) -> None:
        """A --team that is not a UUID exits 2 with a message saying so."""
        code, out, err = run(capsys, "token", "create", "--team", team)

        assert (2, "") == (code, out)
        assert f"--team must be a UUID, got {team!r}" in err

    def test_limit_refuses_the_ninth_token(self, capsys: pytest.CaptureFixture[str]) -> None:
        """With 8 tokens (the default limit) the ninth create exits 1 saying what to do."""
        for _ in range(8):
            create(capsys)

        code, out, err = run(capsys, "token", "create", "--team", TEAM)

        assert (1, "") == (code, out)
        assert "tokens_per_team = 8" in err
        assert "revoke one first" in err

    def test_limit_is_per_team(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A team at its limit does not stop another team's token."""
        for _ in range(8):
            create(capsys)

        assert OTHER_TEAM == create(capsys, team=OTHER_TEAM)["info"]["team"]


class TestTokenListAndRevoke:
    def test_list_shows_the_id_but_never_the_secret(self, capsys: pytest.CaptureFixture[str]) -> None:
        """token list shows each token's id and name, never the secret or its hash."""
        created = create(capsys, "--name", "okta")

        for extra in ((), ("--json",)):
            code, out, _ = run(capsys, "token", "list", "--team", TEAM, *extra)
            assert (0, 1) == (code, len(out.splitlines()))
            assert created["info"]["id"] in out
            assert "okta" in out
            assert created["token"] not in out
            assert hash_token(created["token"]) not in out
            assert "sha512" not in out

    def test_list_shows_only_the_teams_tokens(self, capsys: pytest.CaptureFixture[str]) -> None:
        """token list --team shows that team's tokens only."""
        mine = create(capsys)["info"]["id"]
        create(capsys, team=OTHER_TEAM)

        _, out, _ = run(capsys, "token", "list", "--team", TEAM, "--json")

        assert [mine] == [json.loads(line)["id"] for line in out.splitlines()]

    def test_revoke_then_list_is_empty(self, capsys: pytest.CaptureFixture[str]) -> None:
        """After token revoke the team has no tokens."""
        token_id = create(capsys)["info"]["id"]

        code, out, _ = run(capsys, "token", "revoke", "--team", TEAM, "--id", token_id)
        assert (0, f"revoked {token_id}\n") == (code, out)

        code, out, err = run(capsys, "token", "list", "--team", TEAM)
        assert (0, "") == (code, out)
        assert f"team {TEAM} has no SCIM tokens" in err

    def test_revoke_of_an_unknown_token_fails(self, capsys: pytest.CaptureFixture[str]) -> None:
        """token revoke of a token the team does not have exits 1 and keeps other teams' tokens."""
        token_id = create(capsys, team=OTHER_TEAM)["info"]["id"]

        code, _, err = run(capsys, "token", "revoke", "--team", TEAM, "--id", token_id)

        assert 1 == code
        assert f"team {TEAM} has no token {token_id}" in err
        _, out, _ = run(capsys, "token", "list", "--team", OTHER_TEAM, "--json")
        assert token_id == json.loads(out)["id"]


class TestConfig:
    def test_check_config_ok(self, capsys: pytest.CaptureFixture[str]) -> None:
        """check-config of a good config exits 0 and prints every key."""
        Path("gw.yaml").write_text("listen:\n  port: 9000\n", encoding="utf-8")

        code, out, _ = run(capsys, "check-config", "--config", "gw.yaml")

        assert 0 == code
        assert "configuration OK" == out.splitlines()[0]
        assert "  listen.port: 9000" in out.splitlines()

    def test_check_config_bad(self, capsys: pytest.CaptureFixture[str]) -> None:
        """check-config of a bad config exits 2 and names the key."""
        Path("gw.yaml").write_text("listen:\n  port: 0\n", encoding="utf-8")

        code, out, err = run(capsys, "check-config", "--config", "gw.yaml")

        assert (2, "") == (code, out)
        assert "listen.port: 0 is out of range" in err

    def test_bad_config_file_stops_token_commands(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A token command with a bad --config exits 2, names the key and touches no database."""
        Path("gw.yaml").write_text("store:\n  pth: x.db\n", encoding="utf-8")

        code, _, err = run(capsys, "token", "create", "--team", TEAM, "--config", "gw.yaml")

        assert 2 == code
        assert "store.pth: unknown key" in err
        assert not Path("data").exists()

    def test_missing_config_file_is_an_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A --config that does not exist exits 2 naming the file."""
        code, _, err = run(capsys, "check-config", "--config", "missing.yaml")

        assert 2 == code
        assert "missing.yaml" in err

    def test_config_yaml_in_the_working_directory_is_used(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Without --config, ./config.yaml is read when present."""
        Path("config.yaml").write_text("listen:\n  prot: 1\n", encoding="utf-8")

        code, _, err = run(capsys, "token", "create", "--team", TEAM)

        assert 2 == code
        assert "listen.prot: unknown key" in err

    def test_defaults_keep_state_under_data(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Without any config file the state goes to ./data/gateway.db."""
        create(capsys)

        assert Path("data/gateway.db").is_file()

    def test_store_path_from_the_config_is_used(self, capsys: pytest.CaptureFixture[str]) -> None:
        """store.path from the config file decides where tokens are kept."""
        Path("gw.yaml").write_text("store:\n  path: state/tokens.db\n", encoding="utf-8")

        code, _, _ = run(capsys, "token", "create", "--team", TEAM, "--config", "gw.yaml")

        assert (0, True, False) == (code, Path("state/tokens.db").is_file(), Path("data").exists())

    def test_environment_overrides_apply(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """SCIM_GATEWAY__ variables override the config for every command."""
        monkeypatch.setenv("SCIM_GATEWAY__LIMITS__TOKENS_PER_TEAM", "1")
        create(capsys)

        code, _, err = run(capsys, "token", "create", "--team", TEAM)

        assert 1 == code
        assert "tokens_per_team = 1" in err


class TestAcceptInvitation:
    def test_unknown_user_fails(self, capsys: pytest.CaptureFixture[str]) -> None:
        """accept-invitation of a user that does not exist exits 1 with a message."""
        user = str(uuid.uuid4())

        code, out, err = run(capsys, "accept-invitation", "--team", TEAM, "--user", user)

        assert (1, "") == (code, out)
        assert f"User {user} not found" in err

    def test_user_id_must_be_a_uuid(self, capsys: pytest.CaptureFixture[str]) -> None:
        """accept-invitation with a --user that is not a UUID exits 2 naming the option."""
        code, _, err = run(capsys, "accept-invitation", "--team", TEAM, "--user", "bjensen")

        assert 2 == code
        assert "--user must be a UUID, got 'bjensen'" in err

    def test_invited_user_becomes_active(self, capsys: pytest.CaptureFixture[str]) -> None:
        """accept-invitation of a pending user makes it active and says so."""
        user_id = asyncio.run(_invite("bjensen"))

        code, out, _ = run(capsys, "accept-invitation", "--team", TEAM, "--user", user_id.upper())

        assert (0, f"user {user_id} is active\n") == (code, out)
        assert "active" == asyncio.run(_status(user_id))


async def _invite(handle: str) -> str:
    """Create a pending (invited) user in the default state database; return its id."""
    async with open_state(load_config(None, {})) as state:
        new = NewUser(
            id=str(uuid.uuid4()),
            fields=UserFields(handle=handle, display_name=handle, external_id=f"{handle}@example.com",
                              email=f"{handle}@example.com"),
        )  # fmt: skip
        return (await state.backend.create_user(TEAM, new)).id


async def _status(user_id: str) -> str:
    async with open_state(load_config(None, {})) as state:
        return (await state.backend.get_user(TEAM, user_id)).status


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        ([], "SCIM 2.0 gateway for self-hosted Wire"),
        (["serve"], "Run the SCIM API until SIGTERM or SIGINT."),
        (["check-config"], "Validate the configuration"),
        (["accept-invitation"], "accepted the invitation"),
        (["token"], "Create, list and revoke SCIM bearer tokens."),
        (["token", "create"], "Create a token for a team and print it"),
        (["token", "list"], "List a team's tokens (never the secrets)."),
        (["token", "revoke"], "Revoke a token at once."),
        (["brig-lite"], "Serve brig's and galley's internal routes (brig-lite)"),
        (["brig-lite", "add-member"], "Add an active team member with an email and password"),
    ],
)
def test_help_says_what_each_command_does(
    capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    """--help on every command and subcommand exits 0 and says what it does."""
    code, out, _ = run(capsys, *argv, "--help")

    assert 0 == code
    assert says in " ".join(out.split())


@pytest.mark.parametrize("argv", [[], ["token"]])
def test_missing_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    """Without a (sub)command the help is printed and the exit code is 2."""
    code, out, _ = run(capsys, *argv)

    assert 2 == code
    assert "usage: scim-gateway" in out


def test_brig_lite_add_member_prints_the_new_id(capsys: pytest.CaptureFixture[str]) -> None:
    """brig-lite add-member prints only the new user's id; the same email again exits 1."""
    args = ["brig-lite", "add-member", "--team", TEAM, "--role", "admin", "--email", "a@example.com",
            "--password", "s3cret!"]  # fmt: skip

    code, out, _ = run(capsys, *args)
    again, _, err = run(capsys, *args)

    assert (0, 1) == (code, again)
    assert str(uuid.UUID(out.strip())) == out.strip()
    assert "already in use" in err and "s3cret!" not in err


def test_check_config_names_a_missing_brig_url(capsys: pytest.CaptureFixture[str]) -> None:
    """check-config with backend.kind brig and no brig_url exits 2 naming backend.brig_url."""
    Path("gw.yaml").write_text("backend:\n  kind: brig\n", encoding="utf-8")

    code, out, err = run(capsys, "check-config", "--config", "gw.yaml")

    assert (2, "") == (code, out)
    assert "backend.brig_url: required when backend.kind is brig" in err


def test_check_config_prints_fault_rules(capsys: pytest.CaptureFixture[str]) -> None:
    """check-config prints brig_lite.faults as JSON objects."""
    Path("gw.yaml").write_text("brig_lite:\n  faults: [{route: '*', rate: 0.1}]\n", encoding="utf-8")

    code, out, _ = run(capsys, "check-config", "--config", "gw.yaml")

    assert 0 == code
    assert '  brig_lite.faults: [{"route": "*", "rate": 0.1, "status": 503,' in out
