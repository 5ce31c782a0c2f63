"""load_config: YAML, then SCIM_GATEWAY__A__B overrides, then validation with errors naming the key."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.config import (
    Config,
    ConfigError,
    Limits,
    Listen,
    Log,
    Store,
    defaults_as_yaml_items,
    load_config,
)

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config.yaml"


@pytest.fixture(name="write")
def _write(tmp_path: Path) -> Any:
    def write(text: str) -> Path:
        path = tmp_path / "config.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


def load_error(write: Any, text: str | None, env: dict[str, str] | None = None) -> str:
    path = None if text is None else write(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env or {})
    return str(caught.value)


class TestDefaults:
    def test_no_file_and_no_environment_gives_the_defaults(self) -> None:
        """Without a file or variables the config is the dataclass defaults."""
        assert Config() == load_config(None, {})

    def test_default_values(self) -> None:
        """The defaults are what the documentation promises."""
        config = load_config(None, {})

        assert ("127.0.0.1", 8080, "sqlite", "./data/gateway.db", 8, ("name",)) == (
            config.listen.host, config.listen.port, config.store.kind, config.store.path,
            config.limits.tokens_per_team, config.scim.kept_attributes,
        )  # fmt: skip

    @pytest.mark.parametrize("text", ["", "# only a comment\n", "listen:\n", "listen: null\n"])
    def test_empty_file_or_section_gives_the_defaults(self, write: Any, text: str) -> None:
        """An empty file, or an empty section, leaves the defaults in place."""
        assert Config() == load_config(write(text), {})

    def test_config_is_frozen(self) -> None:
        """The loaded config cannot be changed afterwards."""
        config = load_config(None, {})

        with pytest.raises(dataclasses.FrozenInstanceError):
            config.listen = Listen(port=1)  # type: ignore[misc]


class TestFile:
    def test_values_from_the_file(self, write: Any) -> None:
        """Keys in the file replace the defaults; keys left out keep them."""
        path = write(
            "listen:\n  port: 9443\n  host: 0.0.0.0\n"
            "log:\n  level: debug\n"
            "trusted_proxies: [10.0.0.0/8, '::1/128']\n"
            "shutdown_grace_seconds: 3\n"
            "public_base_url: https://wire.example.com\n"
            "scim:\n  kept_attributes: [name, title]\n"
        )

        expected = Config(
            listen=Listen(host="0.0.0.0", port=9443),
            log=Log(level="debug"),
            trusted_proxies=("10.0.0.0/8", "::1/128"),
            shutdown_grace_seconds=3.0,
            public_base_url="https://wire.example.com",
            scim=dataclasses.replace(Config().scim, kept_attributes=("name", "title")),
        )
        assert expected == load_config(path, {})

    def test_unreadable_file_is_named(self, tmp_path: Path) -> None:
        """A config file that cannot be read is an error naming the file."""
        missing = tmp_path / "nope.yaml"

        with pytest.raises(ConfigError, match="nope.yaml"):
            load_config(missing, {})


class TestEnvironment:
    def test_env_overrides_a_nested_key(self, write: Any) -> None:
        """SCIM_GATEWAY__LISTEN__PORT=9000 overrides listen.port from the file."""
        path = write("listen:\n  port: 8443\n  host: 0.0.0.0\n")

        config = load_config(path, {"SCIM_GATEWAY__LISTEN__PORT": "9000"})

        assert Listen(host="0.0.0.0", port=9000) == config.listen

    def test_env_value_is_read_as_yaml(self) -> None:
        """A list in a variable is read as YAML: SCIM_GATEWAY__TRUSTED_PROXIES='["10.0.0.0/8"]'."""
        config = load_config(None, {"SCIM_GATEWAY__TRUSTED_PROXIES": '["10.0.0.0/8"]'})

        assert ("10.0.0.0/8",) == config.trusted_proxies

    def test_env_sets_a_key_of_a_section_missing_from_the_file(self, write: Any) -> None:
        """A variable can set a key whose section the file leaves out or leaves empty."""
        config = load_config(write("log:\n"), {"SCIM_GATEWAY__LOG__LEVEL": "error"})

        assert Log(level="error") == config.log

    def test_unrelated_variables_are_ignored(self) -> None:
        """Variables without the SCIM_GATEWAY__ prefix do not matter."""
        env = {"PATH": "/bin", "SCIM_GATEWAY_LISTEN__PORT": "1", "scim_gateway__listen__port": "1"}

        assert Config() == load_config(None, env)

    def test_unknown_env_section_is_named(self, write: Any) -> None:
        """A variable naming an unknown section is an error listing the allowed sections."""
        message = load_error(write, None, {"SCIM_GATEWAY__LISTNE__PORT": "9000"})

        assert message.startswith("listne: unknown key")
        assert "listen" in message

    def test_unknown_env_key_is_named(self, write: Any) -> None:
        """A variable naming an unknown key of a section lists the section's keys."""
        message = load_error(write, None, {"SCIM_GATEWAY__LISTEN__PROT": "9000"})

        assert "listen.prot: unknown key; allowed here: fast_lane, header_timeout_seconds, host, internal_port, keepalive_timeout_seconds, max_connections, port, trusted_proxies, workers" == message

    def test_env_value_of_the_wrong_type_is_named(self, write: Any) -> None:
        """A variable with a value of the wrong type names the dotted key."""
        message = load_error(write, None, {"SCIM_GATEWAY__LISTEN__PORT": "high"})

        assert message.startswith("listen.port: must be a whole number")

    def test_env_value_that_is_not_yaml_names_the_variable(self, write: Any) -> None:
        """A variable whose value is not YAML is an error naming the variable."""
        message = load_error(write, None, {"SCIM_GATEWAY__TRUSTED_PROXIES": "[10.0.0.0/8"})

        assert message.startswith("SCIM_GATEWAY__TRUSTED_PROXIES:")

    def test_env_key_below_a_value_is_refused(self, write: Any) -> None:
        """A variable that treats a plain value as a section is an error naming the key."""
        unset = load_error(write, None, {"SCIM_GATEWAY__LISTEN__PORT__X": "1"})
        from_file = load_error(write, "listen:\n  port: 8080\n", {"SCIM_GATEWAY__LISTEN__PORT__X": "1"})

        assert "listen.port: must be a whole number, got a mapping" == unset
        assert "listen.port: is not a section, so listen.port.x cannot be set" == from_file


class TestErrors:
    def test_yaml_syntax_error_names_the_line(self, write: Any) -> None:
        """A YAML syntax error names the file and the line."""
        message = load_error(write, "listen:\n  port: 8080\n host: x\n")

        assert "config.yaml: YAML syntax error at line 3" in message

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("listen:\n  port: 8080\n  host: x\n  port: 9090\n",
             "line 4, column 3: duplicate key 'port' (first given on line 2)"),
            ("listen:\n  port: 8080\nlog:\n  level: info\nlisten:\n  host: x\n",
             "line 5, column 1: duplicate key 'listen' (first given on line 1)"),
        ],
    )  # fmt: skip
    def test_a_key_given_twice_is_an_error_naming_both_lines(self, write: Any, text: str, expected: str) -> None:
        """YAML would keep the last of two equal keys silently; the gateway refuses the file."""
        message = load_error(write, text)

        assert message.endswith(f"config.yaml: YAML syntax error at {expected}"), message

    def test_a_key_that_overrides_a_merged_one_is_not_a_duplicate(self, write: Any) -> None:
        """YAML merge keys still work: `port` here overrides the one merged in from the anchor."""
        path = write("listen:\n  <<: {host: 0.0.0.0, port: 80}\n  port: 8081\n")

        listen = load_config(path, {}).listen

        assert ("0.0.0.0", 8081) == (listen.host, listen.port)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("prot: 1\n", "prot: unknown key; allowed here: backend, brig_lite, limits, listen, log, "
                          "public_base_url, scim, shutdown_grace_seconds, spar_state, sso_switch, store, trusted_proxies"),
            ("listen:\n  prot: 1\n", "listen.prot: unknown key; allowed here: fast_lane, header_timeout_seconds, host, "
                                    "internal_port, keepalive_timeout_seconds, max_connections, port, "
                                    "trusted_proxies, workers"),
            ("limits:\n  tokens: 3\n", "limits.tokens: unknown key; allowed here: auth_failures_per_minute, "
                                       "default_page_size, max_body_bytes, max_page_size, rich_info_chars, "
                                       "tokens_per_team"),
        ],
    )  # fmt: skip
    def test_unknown_key_lists_the_allowed_keys(self, write: Any, text: str, expected: str) -> None:
        """An unknown key, at the top or in a section, is named with the keys allowed there."""
        assert expected == load_error(write, text)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("listen:\n  port: '8080'\n", "listen.port: must be a whole number, got a string ('8080')"),
            ("listen:\n  port: true\n", "listen.port: must be a whole number, got a boolean (True)"),
            ("listen:\n  port: 80.5\n", "listen.port: must be a whole number, got a number (80.5)"),
            ("shutdown_grace_seconds: soon\n", "shutdown_grace_seconds: must be a number, got a string ('soon')"),
            ("listen: 8080\n", "listen: must be a mapping, got a whole number (8080)"),
            ("trusted_proxies: 10.0.0.0/8\n", "trusted_proxies: must be a list, got a string ('10.0.0.0/8')"),
            ("scim:\n  kept_attributes: [name, 3]\n", "scim.kept_attributes[1]: must be a string, got a whole number (3)"),
            ("- listen\n", "config.yaml: the top level must be a mapping of sections, not a list"),
        ],
    )  # fmt: skip
    def test_wrong_type_is_named(self, write: Any, text: str, expected: str) -> None:
        """A value of the wrong type names the key, the type wanted and the value given."""
        assert load_error(write, text).endswith(expected)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("listen:\n  port: 0\n", "listen.port: 0 is out of range; allowed: from 1 to 65535"),
            ("listen:\n  port: 65536\n", "listen.port: 65536 is out of range; allowed: from 1 to 65535"),
            ("limits:\n  max_body_bytes: 10\n", "limits.max_body_bytes: 10 is out of range; allowed: from 1024 up"),
        ],
    )  # fmt: skip
    def test_out_of_range_is_named(self, write: Any, text: str, expected: str) -> None:
        """A number outside its range names the key and the range allowed."""
        assert expected == load_error(write, text)

    def test_bounds_are_inclusive(self, write: Any) -> None:
        """The ends of a range are allowed."""
        assert 65535 == load_config(write("listen:\n  port: 65535\n"), {}).listen.port

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("log:\n  level: verbose\n", "log.level: 'verbose' is not allowed; choose one of debug, info, warning, error"),
            ("store:\n  kind: mysql\n", "store.kind: 'mysql' is not allowed; choose one of sqlite, postgres"),
            ("log:\n  format: JSON\n", "log.format: 'JSON' is not allowed; choose one of auto, json, console"),
        ],
    )  # fmt: skip
    def test_value_outside_a_choice_lists_the_choices(self, write: Any, text: str, expected: str) -> None:
        """A value that is not one of the choices names the key and lists the choices."""
        assert expected == load_error(write, text)

    @pytest.mark.parametrize("text", ["store:\n  path: null\n", "store:\n  path: ''\n"])
    def test_sqlite_needs_a_path(self, write: Any, text: str) -> None:
        """store.path is required when store.kind is sqlite."""
        assert load_error(write, text).startswith("store.path: required when store.kind is sqlite")

    @pytest.mark.parametrize("cidr", ["10.0.0.0/33", "localhost", "10.0.0"])
    def test_bad_cidr_is_named(self, write: Any, cidr: str) -> None:
        """A trusted proxy that is not a CIDR is named by its position, with an example."""
        message = load_error(write, f"trusted_proxies: [127.0.0.1/32, '{cidr}']\n")

        assert f"trusted_proxies[1]: '{cidr}' is not a CIDR such as 10.0.0.0/8 or ::1/128" == message

    def test_cidr_with_host_bits_is_accepted(self, write: Any) -> None:
        """A CIDR with host bits set (10.1.2.3/8) is read as its network, not refused."""
        config = load_config(write("trusted_proxies: [10.1.2.3/8, '::1']\n"), {})

        assert ("10.1.2.3/8", "::1") == config.trusted_proxies

    def test_public_base_url_needs_a_scheme(self, write: Any) -> None:
        """public_base_url without http:// or https:// is refused, naming the key."""
        assert load_error(write, "public_base_url: wire.example.com\n").startswith("public_base_url:")

    def test_page_sizes_must_agree(self, write: Any) -> None:
        """default_page_size above max_page_size is refused, naming both keys."""
        message = load_error(write, "limits:\n  default_page_size: 500\n  max_page_size: 100\n")

        assert "limits.default_page_size: must not exceed limits.max_page_size" == message

    def test_unkeepable_attribute_lists_the_keepable_ones(self, write: Any) -> None:
        """scim.kept_attributes accepts only core attributes Wire has no place for."""
        message = load_error(write, "scim:\n  kept_attributes: [password]\n")

        assert message.startswith("scim.kept_attributes[0]: 'password' is not keepable; allowed: ")
        assert "nickName" in message


def _repo_config_comments() -> dict[str, str]:
    """Each leaf key of config.yaml (dotted) and the comment at the end of its line."""
    comments: dict[str, str] = {}
    section = ""
    for line in REPO_CONFIG.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"(\s*)([a-z_]+):\s*(.*?)\s*(?:#\s*(.*))?", line)
        if match is None:
            continue
        indent, key, value, comment = match.groups()
        if not indent and not value:
            section = key + "."
            continue
        comments[(section if indent else "") + key] = comment or ""
        if not indent:
            section = ""
    return comments


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


class TestRepositoryConfigFile:
    def test_lists_every_key_with_its_default(self) -> None:
        """config.yaml lists every key of the config, each with exactly its default."""
        expected = {key: default for key, default, _help in defaults_as_yaml_items()}

        assert expected == _flatten(yaml.safe_load(REPO_CONFIG.read_text(encoding="utf-8")))

    def test_loads_as_the_defaults(self) -> None:
        """Loading config.yaml gives the same Config as no file at all."""
        assert load_config(None, {}) == load_config(REPO_CONFIG, {})

    def test_every_key_has_its_help_as_comment(self) -> None:
        """Every key's line in config.yaml ends with a comment: the key's help text."""
        expected = {key: help for key, _default, help in defaults_as_yaml_items()}

        assert expected == _repo_config_comments()


def test_store_and_limits_sections_build_from_keys(write: Any) -> None:
    """Sections are built from their own keys: store and limits."""
    path = write("store:\n  path: /var/lib/scim/gw.db\nlimits:\n  tokens_per_team: 2\n")

    config = load_config(path, {})

    assert (Store(path="/var/lib/scim/gw.db"), Limits(tokens_per_team=2)) == (config.store, config.limits)


class TestBrigBackend:
    def test_brig_needs_brig_url(self, write: Any) -> None:
        """backend.kind brig without brig_url is refused, naming the key."""
        message = load_error(write, "backend:\n  kind: brig\n")

        assert message.startswith("backend.brig_url: required when backend.kind is brig")

    def test_brig_from_the_environment(self) -> None:
        """SCIM_GATEWAY__BACKEND__KIND and __BRIG_URL select the brig backend."""
        config = load_config(
            None,
            {"SCIM_GATEWAY__BACKEND__KIND": "brig", "SCIM_GATEWAY__BACKEND__BRIG_URL": "http://brig:8080"},
        )

        assert ("brig", "http://brig:8080", None) == (
            config.backend.kind, config.backend.brig_url, config.backend.galley_url
        )

    def test_brig_url_needs_a_scheme(self, write: Any) -> None:
        """brig_url and galley_url must be http(s) URLs."""
        message = load_error(write, "backend:\n  kind: brig\n  brig_url: http://b\n  galley_url: galley:8080\n")

        assert message.startswith("backend.galley_url: 'galley:8080' must start with http://")

    def test_brig_lite_port_from_the_environment(self) -> None:
        """SCIM_GATEWAY__BRIG_LITE__PORT sets brig-lite's port; the default is 127.0.0.1:8081."""
        assert (("127.0.0.1", 8081), 9191) == (
            (load_config(None, {}).brig_lite.host, load_config(None, {}).brig_lite.port),
            load_config(None, {"SCIM_GATEWAY__BRIG_LITE__PORT": "9191"}).brig_lite.port,
        )

    def test_fault_rules_are_built_and_checked(self, write: Any) -> None:
        """brig_lite.faults is a list of rules; a bad rate names its index."""
        config = load_config(write("brig_lite:\n  faults: [{route: 'POST *', rate: 0.1}]\n"), {})

        assert ("POST *", 0.1, 503, False) == (
            config.brig_lite.faults[0].route, config.brig_lite.faults[0].rate,
            config.brig_lite.faults[0].status, config.brig_lite.faults[0].after,
        )  # fmt: skip
        assert load_error(write, "brig_lite:\n  faults: [{rate: 2}]\n").startswith(
            "brig_lite.faults[0].rate: 2.0 is out of range"
        )
