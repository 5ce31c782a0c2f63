"""The `spar_state` configuration section (gateway/config.py, SparState) and how its credentials are read."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from gateway.config import ConfigError, SparState, load_config

BRIG = "backend:\n  kind: brig\n  brig_url: http://brig:8080\n  spar_url: http://spar:8080\n"
CASSANDRA = "spar_state:\n  kind: cassandra\n  contact_points: [cassandra]\n"
needs_driver = pytest.mark.skipif(importlib.util.find_spec("cassandra") is None, reason="cassandra-driver")


@pytest.fixture(name="write")
def _write(tmp_path: Path) -> Any:
    def write(text: str) -> Path:
        path = tmp_path / "config.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


def test_the_default_is_none_with_spars_settings() -> None:
    """Off by default; spar's keyspace, port and consistency when turned on."""
    spar = load_config(None, {}).spar_state

    assert ("none", "spar", 9042, "LOCAL_QUORUM") == (spar.kind, spar.keyspace, spar.port, spar.consistency)


@needs_driver
def test_cassandra_beside_brig_and_spar_loads(write: Any) -> None:
    """kind cassandra with the brig backend and spar's URL is accepted."""
    spar = load_config(write(BRIG + CASSANDRA), {}).spar_state

    assert ("cassandra", ("cassandra",)) == (spar.kind, spar.contact_points)


@pytest.mark.parametrize("key", ["password", "username"])
def test_a_credential_in_the_file_is_refused(write: Any, key: str) -> None:
    """A user name or password written in the YAML file stops the gateway, naming the key and the alternatives."""
    with pytest.raises(ConfigError) as caught:
        load_config(write(BRIG + CASSANDRA + f"  {key}: hunter2\n"), {})

    message = str(caught.value)
    assert f"spar_state.{key}: never read from the config file" in message
    assert f"SCIM_GATEWAY__SPAR_STATE__{key.upper()}" in message and f"{key}_file" in message
    assert "hunter2" not in message


@needs_driver
def test_credentials_from_the_environment_are_kept_out_of_the_repr(write: Any) -> None:
    """The environment may carry them; the config's text (logs, tracebacks) never shows the password."""
    env = {"SCIM_GATEWAY__SPAR_STATE__USERNAME": "spar", "SCIM_GATEWAY__SPAR_STATE__PASSWORD": "hunter2"}

    config = load_config(write(BRIG + CASSANDRA), env)

    assert ("spar", "hunter2") == (config.spar_state.username, config.spar_state.password)
    assert "hunter2" not in repr(config)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (CASSANDRA, "spar_state.kind: cassandra needs backend.kind: brig and backend.spar_url"),
        ("backend:\n  kind: brig\n  brig_url: http://brig:8080\n" + CASSANDRA,
         "spar_state.kind: cassandra needs backend.kind: brig and backend.spar_url"),
        (BRIG + "spar_state:\n  kind: cassandra\n", "spar_state.contact_points: required"),
        (BRIG + CASSANDRA + "  keyspace: 'spar; DROP'\n", "spar_state.keyspace: 'spar; DROP' is not a keyspace name"),
        (BRIG + CASSANDRA + "  consistency: TWO\n", "spar_state.consistency: 'TWO' is not allowed"),
        (BRIG + CASSANDRA + "  username_file: /run/u\n", "a user name and a password go together"),
    ],
)  # fmt: skip
def test_unusable_settings_name_the_key(write: Any, text: str, expected: str) -> None:
    """check-config refuses what cannot work, naming the keys."""
    with pytest.raises(ConfigError) as caught:
        load_config(write(text), {})

    assert expected in str(caught.value)


def test_credentials_are_read_from_their_files(tmp_path: Path) -> None:
    """username_file and password_file are read when the state opens (a trailing newline dropped)."""
    from gateway.backend.spar_state.cassandra import read_credentials

    (tmp_path / "u").write_text("spar\n")
    (tmp_path / "p").write_text("s3cret\n")
    settings = SparState(kind="cassandra", username_file=str(tmp_path / "u"), password_file=str(tmp_path / "p"))

    assert ("spar", "s3cret") == read_credentials(settings)
    assert read_credentials(SparState()) is None


def test_an_unreadable_credentials_file_names_the_key(tmp_path: Path) -> None:
    """A missing file is a configuration error naming the key, not a traceback."""
    from gateway.backend.spar_state.cassandra import read_credentials

    settings = SparState(kind="cassandra", username="spar", password_file=str(tmp_path / "missing"))

    with pytest.raises(ConfigError, match=r"spar_state\.password_file: cannot read"):
        read_credentials(settings)
