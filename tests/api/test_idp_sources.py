"""
Where a team's SAML IdPs and their issuers come from, on the brig backend (brig-lite).

With `backend.spar_url`: from spar's `GET /i/identity-providers/:tid` (here a small fake of it),
not from the gateway's registry. A token made through the unversioned or /v7 API is tied to the
team's one IdP, refused (400 more-than-one-idp) with several; from /v8 an `idp` must be one spar
lists; a SAML user's sso_id.tenant is the IdP's metadata issuer.

Without it: from the gateway's registry (the token API's rules on it are
tests/api/test_token_api.py's); the tenant is the issuer given with `idp add --issuer`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from conftest import IDP, SCIM_JSON, TEAM, user_body, without_spar
from gateway.backend.brig.backend import BrigBackend
from gateway.config import Config
from gateway.web.keys import BACKEND, IDPS, TOKENS
from token_api_calls import PASSWORD, add_admin, assert_wire_error, call, create, trusting_loopback

pytestmark = pytest.mark.backends("brig")

SECOND_IDP = "7b0c4a1e-5d3f-4e2a-9c8b-1a2b3c4d5e6f"
ISSUER = "https://sts.windows.net/0b6c4e5a-7d1f-4a8e-9c2b-3d4e5f6a7b8c/"
SECOND_ISSUER = "http://www.okta.com/exk1fcia6d6EMsf331d8"


class FakeSpar:
    """spar's internal API as far as the gateway reads it: the IdP list of a team, and /i/status."""

    def __init__(self) -> None:
        self.idps: dict[str, list[tuple[str, str]]] = {}

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/i/status", self.status)
        app.router.add_get("/i/identity-providers/{tid}", self.identity_providers)
        return app

    async def status(self, request: web.Request) -> web.Response:
        return web.Response()

    async def identity_providers(self, request: web.Request) -> web.Response:
        team = request.match_info["tid"]
        providers = [
            {"id": idp, "metadata": {"issuer": issuer, "requestURI": "https://idp.example.com/sso", "certAuthnResponse": []},
             "extraInfo": {"team": team, "apiVersion": "v2", "handle": "IdP", "oldIssuers": [], "replacedBy": None}}
            for idp, issuer in self.idps.get(team, [])
        ]  # fmt: skip
        return web.json_response({"providers": providers})


@pytest.fixture(name="spar")
async def _spar() -> AsyncIterator[tuple[FakeSpar, str]]:
    fake = FakeSpar()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    try:
        yield fake, str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


@pytest.fixture(name="fake_spar")
def _fake_spar(spar: tuple[FakeSpar, str]) -> FakeSpar:
    return spar[0]


@pytest.fixture(name="spar_config")
def _spar_config(config: Config, spar: tuple[FakeSpar, str]) -> Config:
    return trusting_loopback(config, backend=dataclasses.replace(config.backend, spar_url=spar[1]))


@pytest.fixture(name="api")
async def _api(make_client: Callable[..., Any], spar_config: Config) -> TestClient:
    return await make_client(spar_config)


@pytest.fixture(name="admin")
async def _admin(api: TestClient, spar_config: Config) -> str:
    return await add_admin(api, spar_config)


@pytest.mark.parametrize("version", ["", "/v7"])
async def test_below_v8_the_one_idp_spar_lists_is_tied(api: TestClient, admin: str, fake_spar: FakeSpar, version: str) -> None:
    """spar lists one IdP (the registry none): a V7 token is bound to spar's IdP id."""
    fake_spar.idps[TEAM] = [(IDP, ISSUER)]

    body = await create(api, admin, version=version)

    assert IDP == body["info"]["idp"]
    assert IDP == (await api.app[TOKENS].list(TEAM))[0].idp


async def test_below_v8_two_idps_in_spar_are_refused(api: TestClient, admin: str, fake_spar: FakeSpar) -> None:
    """spar lists two IdPs: 400 more-than-one-idp, nothing made."""
    fake_spar.idps[TEAM] = [(IDP, ISSUER), (SECOND_IDP, SECOND_ISSUER)]

    answer = await call(api, "POST", user=admin, body={"description": "d", "password": PASSWORD})

    await assert_wire_error(answer, 400, "more-than-one-idp")
    assert [] == await api.app[TOKENS].list(TEAM)


async def test_the_registry_is_not_read_with_spar_url(api: TestClient, admin: str, fake_spar: FakeSpar) -> None:
    """An IdP only in the gateway's registry does not count: spar lists none, so a V7 token has no IdP."""
    await api.app[IDPS].add(TEAM, IDP, issuer=ISSUER)

    body = await create(api, admin)

    assert "idp" not in body["info"]


async def test_from_v8_the_idp_must_be_one_spar_lists(api: TestClient, admin: str, fake_spar: FakeSpar) -> None:
    """V8: an `idp` spar lists for the team is taken; one it does not list (registered or not) is 404."""
    fake_spar.idps[TEAM] = [(IDP, ISSUER)]
    await api.app[IDPS].add(TEAM, SECOND_IDP, issuer=SECOND_ISSUER)

    tied = await create(api, admin, {"description": "d", "password": PASSWORD, "idp": IDP}, version="/v8")
    unknown = await call(api, "POST", user=admin, version="/v8", body={"description": "d", "password": PASSWORD, "idp": SECOND_IDP})

    assert IDP == tied["info"]["idp"]
    await assert_wire_error(unknown, 404, "not-found")


async def test_an_idp_added_in_spar_counts_at_once(api: TestClient, admin: str, fake_spar: FakeSpar) -> None:
    """The token API reads spar on each create: an IdP added after a first create is seen by the next."""
    fake_spar.idps[TEAM] = [(IDP, ISSUER)]
    await create(api, admin)
    fake_spar.idps[TEAM].append((SECOND_IDP, SECOND_ISSUER))

    answer = await call(api, "POST", user=admin, body={"description": "d", "password": PASSWORD})

    await assert_wire_error(answer, 400, "more-than-one-idp")


async def test_a_saml_user_gets_spars_issuer_as_tenant(api: TestClient, admin: str, fake_spar: FakeSpar) -> None:
    """A SCIM POST with a token tied to spar's IdP writes that IdP's metadata issuer into sso_id.tenant."""
    fake_spar.idps[TEAM] = [(IDP, ISSUER)]
    token = (await create(api, admin))["token"]

    answer = await post_user(api, token, "saml1")

    assert 201 == answer.status, await answer.text()
    tenant = await tenant_of(api, (await answer.json())["id"])
    assert ISSUER in tenant and IDP not in tenant, tenant


async def test_a_token_whose_idp_spar_no_longer_lists_gets_403(
    api: TestClient, admin: str, fake_spar: FakeSpar, make_client: Callable[..., Any], spar_config: Config
) -> None:
    """
    The IdP was removed in spar after the token was made: a gateway that has not cached the team's
    list (a restart; else after the TTL) answers a SAML user POST 403, saying to make a new token.
    """
    fake_spar.idps[TEAM] = [(IDP, ISSUER)]
    token = (await create(api, admin))["token"]
    fake_spar.idps[TEAM] = []
    restarted = await make_client(spar_config)

    answer = await post_user(restarted, token, "saml2")
    body = await answer.json()

    assert 403 == answer.status, body
    assert "create a new token in Team Settings" in body["detail"]


class TestRegistryWithoutSparUrl:
    async def test_a_saml_user_gets_the_registered_issuer_as_tenant(self, make_client: Callable[..., Any], config: Config) -> None:
        """No spar_url: the IdP's issuer from the registry is the tenant of the token's SAML users."""
        api = await make_client(trusting_loopback(without_spar(config)))
        admin = await add_admin(api, config)
        await api.app[IDPS].add(TEAM, IDP, issuer=ISSUER)
        token = (await create(api, admin))["token"]

        answer = await post_user(api, token, "saml3")

        assert 201 == answer.status, await answer.text()
        assert ISSUER in await tenant_of(api, (await answer.json())["id"])

    async def test_an_idp_registered_without_issuer_is_a_500_naming_the_fix(self, make_client: Callable[..., Any], config: Config) -> None:
        """An IdP registered before issuers were asked for: 500 whose detail is `idp set-issuer`; nothing created."""
        api = await make_client(trusting_loopback(without_spar(config)))
        admin = await add_admin(api, config)
        await api.app[IDPS].add(TEAM, IDP)
        token = (await create(api, admin))["token"]

        answer = await post_user(api, token, "saml4")
        body = await answer.json()
        listed = await api.get("/scim/v2/Users", headers={"Authorization": f"Bearer {token}"})

        assert (500, True) == (answer.status, f"scim-gateway idp set-issuer --team {TEAM} --id {IDP}" in body["detail"])
        assert 0 == (await listed.json())["totalResults"]


async def post_user(api: TestClient, token: str, user_name: str) -> Any:
    return await api.post(
        "/scim/v2/Users", json=user_body(user_name), headers={"Authorization": f"Bearer {token}", "Content-Type": SCIM_JSON}
    )


async def tenant_of(api: TestClient, user_id: str) -> str:
    """The user's sso_id.tenant as brig(-lite) holds it."""
    backend = api.app[BACKEND]
    assert isinstance(backend, BrigBackend)
    (wire_user,) = await backend.client.get_users([user_id])
    return str(wire_user["sso_id"]["tenant"])
