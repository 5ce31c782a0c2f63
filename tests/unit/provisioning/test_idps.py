"""
gateway/provisioning/idps.py: what an issuer URI is, and the registry as the IssuerLookup and
TeamIdps of a gateway without backend.spar_url (over a real SQLite store).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.config import Store as StoreSettings
from gateway.provisioning.idps import IdpRegistry, RegistryIssuers, parse_issuer
from gateway.scim.errors import ScimError
from gateway.store.opening import open_store
from gateway.store.sql import SqlStore

TEAM = "6f1c2b9e-2a4e-4d0e-9a51-2f1b9b2d7c11"
OTHER_TEAM = "9a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
IDP = "2d6f7a8e-0a8b-4c4f-9a3e-5b2e1c0d9f11"
SECOND_IDP = "7b0c4a1e-5d3f-4e2a-9c8b-1a2b3c4d5e6f"
ENTRA_ISSUER = "https://sts.windows.net/0b6c4e5a-7d1f-4a8e-9c2b-3d4e5f6a7b8c/"


@pytest.mark.parametrize(
    "issuer",
    [ENTRA_ISSUER, "http://www.okta.com/exk1fcia6d6EMsf331d8", "urn:amazon:webservices", " https://idp.example.com/ "],
)
def test_issuer_uris_are_taken_trimmed(issuer: str) -> None:
    """Entity IDs as IdPs write them (https, http, urn) are issuers; surrounding spaces go."""
    assert issuer.strip() == parse_issuer(issuer)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (IDP, "is an id, not an issuer"),
        (IDP.upper(), "is an id, not an issuer"),
        ("sts.windows.net/tenant/", "is not an issuer URI"),
        ("https://idp.example.com/a b", "is not an issuer URI"),
        ("1http://idp.example.com/", "is not an issuer URI"),
        ("https:", "is not an issuer URI"),
        ("https://" + "a" * 1100, "is not an issuer URI"),
    ],
)
def test_what_is_not_an_issuer_uri_is_refused_with_an_example(value: str, says: str) -> None:
    """A UUID (the IdP's id), no scheme, spaces, nothing after the colon or too long: ValueError with Entra's form."""
    with pytest.raises(ValueError) as raised:
        parse_issuer(value)

    assert says in str(raised.value)
    assert "https://sts.windows.net/<tenant-id>/" in str(raised.value)


@pytest.fixture(name="store")
async def _store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    store = await open_store(StoreSettings(path=str(tmp_path / "gateway.db")))
    try:
        yield store
    finally:
        await store.close()


class TestRegistryIssuers:
    async def test_gives_the_registered_issuer(self, store: SqlStore) -> None:
        """The issuer given at registration is the IdP's, in its team."""
        await IdpRegistry(store).add(TEAM, IDP, issuer=ENTRA_ISSUER)

        assert ENTRA_ISSUER == await RegistryIssuers(store).issuer_of(TEAM, IDP)

    async def test_an_unregistered_idp_is_a_500_that_says_to_run_idp_add(self, store: SqlStore) -> None:
        """Not in the registry (or in another team's): 500, the detail is the command that fixes it."""
        await IdpRegistry(store).add(OTHER_TEAM, IDP, issuer=ENTRA_ISSUER)

        with pytest.raises(ScimError) as raised:
            await RegistryIssuers(store).issuer_of(TEAM, IDP)

        assert 500 == raised.value.status
        assert f"scim-gateway idp add --team {TEAM} --id {IDP} --issuer <URI>" in raised.value.detail

    async def test_an_idp_without_issuer_is_a_500_that_says_to_set_it(self, store: SqlStore) -> None:
        """Registered before issuers were asked for: 500 naming `idp set-issuer`; after it, the issuer."""
        await IdpRegistry(store).add(TEAM, IDP)
        with pytest.raises(ScimError) as raised:
            await RegistryIssuers(store).issuer_of(TEAM, IDP)
        await IdpRegistry(store).set_issuer(TEAM, IDP, ENTRA_ISSUER)

        assert 500 == raised.value.status
        assert f"scim-gateway idp set-issuer --team {TEAM} --id {IDP} --issuer <URI>" in raised.value.detail
        assert ENTRA_ISSUER == await RegistryIssuers(store).issuer_of(TEAM, IDP)

    async def test_idps_of_lists_the_teams_ids_and_issuers_oldest_first(self, store: SqlStore) -> None:
        """idps_of: (id, issuer or None) of the team's IdPs only, in registration order."""
        registry = IdpRegistry(store)
        await registry.add(TEAM, IDP, issuer=ENTRA_ISSUER)
        await registry.add(TEAM, SECOND_IDP)
        await registry.add(OTHER_TEAM, "1e2d3c4b-5a69-4788-97a6-b5c4d3e2f1a0", issuer="urn:other")

        assert [(IDP, ENTRA_ISSUER), (SECOND_IDP, None)] == await RegistryIssuers(store).idps_of(TEAM)

    async def test_the_registry_refuses_an_id_as_issuer(self, store: SqlStore) -> None:
        """IdpRegistry.add and set_issuer check the URI too (not only the CLI), and store nothing wrong."""
        registry = IdpRegistry(store)
        with pytest.raises(ValueError):
            await registry.add(TEAM, IDP, issuer=SECOND_IDP)
        await registry.add(TEAM, IDP, issuer=ENTRA_ISSUER)
        with pytest.raises(ValueError):
            await registry.set_issuer(TEAM, IDP, "not a uri")

        assert [(IDP, ENTRA_ISSUER)] == [(r.id, r.issuer) for r in await registry.list(TEAM)]
