"""The PostgreSQL store's configuration: kind, DSN from the file or the environment, checks, redaction."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import ConfigError, load_config
from gateway.db.connect import Location, LocationError, redact_dsn

# A configuration of kind postgres is accepted only where psycopg is installed (the postgres extra).
needs_psycopg = pytest.mark.skipif(
    importlib.util.find_spec("psycopg") is None, reason="the postgres extra is not installed"
)


@needs_psycopg
def test_kind_and_dsn_from_the_environment() -> None:
    """SCIM_GATEWAY__STORE__KIND and __DSN select PostgreSQL; connections and migrate_at_start default."""
    config = load_config(
        None, {"SCIM_GATEWAY__STORE__KIND": "postgres", "SCIM_GATEWAY__STORE__DSN": "postgresql://scim@db/scim"}
    )

    assert ("postgres", "postgresql://scim@db/scim", 4, True) == (
        config.store.kind, config.store.dsn, config.store.connections, config.store.migrate_at_start
    )


def test_postgres_without_dsn_is_refused_naming_store_dsn() -> None:
    """kind postgres and no dsn: a ConfigError naming store.dsn and where the password comes from."""
    with pytest.raises(ConfigError) as caught:
        load_config(None, {"SCIM_GATEWAY__STORE__KIND": "postgres"})

    assert str(caught.value).startswith("store.dsn: required when store.kind is postgres")
    assert "PGPASSWORD" in str(caught.value)


def test_serve_and_check_config_exit_2_without_dsn(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """serve and check-config with kind postgres and no dsn exit 2 before doing anything."""
    path = tmp_path / "gw.yaml"
    path.write_text("store:\n  kind: postgres\n", encoding="utf-8")

    codes = [main([command, "--config", str(path)]) for command in ("check-config", "serve", "migrate")]

    assert [2, 2, 2] == codes
    assert 3 == capsys.readouterr().err.count("store.dsn: required when store.kind is postgres")


@needs_psycopg
def test_check_config_never_prints_the_password(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A password in the DSN is shown as *** by check-config."""
    path = tmp_path / "gw.yaml"
    path.write_text("store:\n  kind: postgres\n  dsn: postgresql://scim:s3cret@db:5432/scim\n", encoding="utf-8")

    code = main(["check-config", "--config", str(path)])

    out = capsys.readouterr().out
    assert (0, False) == (code, "s3cret" in out)
    assert '  store.dsn: "postgresql://scim:***@db:5432/scim"' in out


@pytest.mark.parametrize(
    ("dsn", "shown"),
    [
        ("postgresql://scim:pw@db/scim", "postgresql://scim:***@db/scim"),
        ("postgresql://scim@db/scim?password=pw&sslmode=require", "postgresql://scim@db/scim?password=***&sslmode=require"),
        ("host=db user=scim password=pw", "host=db user=scim password=***"),
        ("postgresql://db/scim", "postgresql://db/scim"),
    ],
)
def test_redact_dsn(dsn: str, shown: str) -> None:
    """Passwords are hidden in URL and key=value forms; a DSN without one is unchanged."""
    assert shown == redact_dsn(dsn)


def test_locations_parse_both_forms() -> None:
    """`sqlite:PATH` and postgres(ql):// URLs are locations; anything else is a LocationError."""
    assert (Location("sqlite", "/var/gw.db"), Location("postgres", "postgres://db/x")) == (
        Location.parse("sqlite:/var/gw.db"), Location.parse("postgres://db/x")
    )
    with pytest.raises(LocationError):
        Location.parse("mysql://db/x")
