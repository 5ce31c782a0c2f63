"""listen.internal_port and listen.trusted_proxies: defaults, environment overrides, refusals."""

from __future__ import annotations

import pytest

from gateway.config import ConfigError, load_config


def test_defaults_serve_everything_on_one_port_and_trust_loopback_for_logs() -> None:
    listen = load_config(None, {}).listen

    assert (None, ("127.0.0.1/32", "::1/128")) == (listen.internal_port, listen.trusted_proxies)


def test_both_keys_can_be_set_from_the_environment() -> None:
    """SCIM_GATEWAY__LISTEN__INTERNAL_PORT and ...__TRUSTED_PROXIES, values as YAML."""
    listen = load_config(
        None,
        {"SCIM_GATEWAY__LISTEN__INTERNAL_PORT": "8081", "SCIM_GATEWAY__LISTEN__TRUSTED_PROXIES": '["10.0.0.0/8"]'},
    ).listen

    assert (8081, ("10.0.0.0/8",)) == (listen.internal_port, listen.trusted_proxies)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SCIM_GATEWAY__LISTEN__INTERNAL_PORT": "8080"}, "listen.internal_port: 8080 is listen.port"),
        ({"SCIM_GATEWAY__LISTEN__INTERNAL_PORT": "0"}, "listen.internal_port: 0 is out of range"),
        ({"SCIM_GATEWAY__LISTEN__TRUSTED_PROXIES": '["nginz"]'}, "listen.trusted_proxies[0]: 'nginz' is not a CIDR"),
    ],
)
def test_refusals_name_the_key(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, env)

    assert str(caught.value).startswith(message), caught.value
