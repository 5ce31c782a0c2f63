"""Wire's token API, the pure part (gateway/provisioning/token_api.py): bodies and shapes by version."""

from __future__ import annotations

import dataclasses

import pytest

from gateway.provisioning.token_api import CreateScimToken, parse_create, parse_rename, token_info
from gateway.provisioning.wire_errors import WireError
from gateway.store.base import TokenRecord

IDP = "2d6f7a8e-0a8b-4c4f-9a3e-5b2e1c0d9f11"
RECORD = TokenRecord(
    id="5d7c9e1a-2b4f-4a6c-8e0d-1f3a5b7c9d2e", team="6f1c2b9e-2a4e-4d0e-9a51-2f1b9b2d7c11", hash="sha512:x",
    created_at="2026-04-11T10:00:00.000Z", description="Entra", name="entra", idp=None,
)  # fmt: skip


def test_the_golden_v8_body_reads_whole() -> None:
    """Wire's golden CreateScimToken example, at V8: every field kept (the IdP as a canonical UUID)."""
    body = {"description": "description2", "idp": IDP.upper(), "password": "secret", "verification_code": None, "name": "n"}

    assert CreateScimToken(description="description2", password="secret", idp=IDP, name="n") == parse_create(body, version=8)


def test_below_v8_name_and_idp_are_not_read() -> None:
    """V7's schema has neither: they are ignored, not refused (as aeson ignores unknown keys)."""
    parsed = parse_create({"description": "d", "name": "n", "idp": "not even a uuid"}, version=0)

    assert CreateScimToken(description="d") == parsed


@pytest.mark.parametrize(
    "body",
    [None, "text", {"description": None}, {"description": "d", "password": "12345"}, {"description": "d", "password": "x" * 1025},
     {"description": "d", "verification_code": "12 34 56"}, {"description": "d", "verification_code": 123456}],
)  # fmt: skip
def test_bodies_wire_refuses_are_bad_requests(body: object) -> None:
    with pytest.raises(WireError) as raised:
        parse_create(body, version=0)

    assert (400, "bad-request") == (raised.value.status, raised.value.label)


def test_a_v8_idp_must_be_a_uuid_and_a_rename_needs_a_name() -> None:
    with pytest.raises(WireError):
        parse_create({"description": "d", "idp": "okta"}, version=8)
    with pytest.raises(WireError):
        parse_rename({"name": 5})
    assert "Okta" == parse_rename({"name": "Okta"})


def test_the_password_never_shows_in_the_requests_repr() -> None:
    assert "secret-pw" not in repr(parse_create({"description": "d", "password": "secret-pw"}, version=8))


def test_info_shapes_by_version() -> None:
    """ScimTokenInfo: no `idp` when unset; `name` from V8 only."""
    tied = dataclasses.replace(RECORD, idp=IDP)

    assert ["team", "id", "created_at", "description"] == list(token_info(RECORD, version=7))
    assert ["team", "id", "created_at", "idp", "description", "name"] == list(token_info(tied, version=8))
