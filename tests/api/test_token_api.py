"""
Wire's token API (/scim/auth-tokens, docs/wire.md §2) on both backends: the shapes by version,
who may call it (Z-User from a trusted proxy, owners and admins), re-authentication, the cap,
and Wire's error bodies.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import structlog
from aiohttp.test_utils import TestClient

from conftest import IDP, OTHER_TEAM, TEAM, auth, without_spar
from gateway.config import Config, Limits
from gateway.web.keys import IDPS, TOKENS
from token_api_calls import PASSWORD, add_admin, assert_wire_error, call, create, run_cli, trusting_loopback, write_config

pytestmark = pytest.mark.backends("embedded", "brig")

SECOND_IDP = "7b0c4a1e-5d3f-4e2a-9c8b-1a2b3c4d5e6f"


@pytest.fixture(name="api")
async def _api(make_client: Callable[..., Any], config: Config) -> TestClient:
    """
    The gateway with the test client's address trusted, as nginz's would be; a team's IdPs from
    the gateway's registry (tests/api/test_idp_sources.py has them from spar).
    """
    return await make_client(trusting_loopback(without_spar(config)))


@pytest.fixture(name="admin")
async def _admin(api: TestClient, config: Config) -> str:
    return await add_admin(api, config)


class TestCreate:
    async def test_the_scripts_exact_body_gives_the_v7_shape(self, api: TestClient, admin: str) -> None:
        """wire_scim_token.py's body, unversioned: 200, {"token", "info"} without name or idp; the token works."""
        answer = await call(api, "POST", user=admin, body={"description": "token generated at now", "password": PASSWORD})
        body = await answer.json()

        assert (200, {"token", "info"}) == (answer.status, set(body))
        assert {"team", "id", "created_at", "description"} == set(body["info"])
        assert (TEAM, "token generated at now", 44) == (body["info"]["team"], body["info"]["description"], len(body["token"]))
        users = await api.get("/scim/v2/Users", headers=auth(body["token"]))
        assert 200 == users.status

    @pytest.mark.parametrize("version", ["", "/v7"])
    async def test_below_v8_the_teams_one_idp_is_tied_implicitly(self, api: TestClient, admin: str, version: str) -> None:
        """With exactly one registered IdP, a V7 token points to it (and `name`/`idp` in the body are ignored)."""
        await api.app[IDPS].add(TEAM, IDP)

        body = await create(api, admin, {"description": "d", "password": PASSWORD, "name": "n", "idp": SECOND_IDP}, version=version)

        assert (IDP, False) == (body["info"]["idp"], "name" in body["info"])
        assert IDP == (await api.app[TOKENS].list(TEAM))[0].idp

    async def test_below_v8_several_idps_are_refused(self, api: TestClient, admin: str) -> None:
        """Two IdPs: 400 more-than-one-idp, nothing made."""
        for idp in (IDP, SECOND_IDP):
            await api.app[IDPS].add(TEAM, idp)

        answer = await call(api, "POST", user=admin, body={"description": "d", "password": PASSWORD})

        await assert_wire_error(answer, 400, "more-than-one-idp")
        assert [] == await api.app[TOKENS].list(TEAM)

    @pytest.mark.parametrize("version", ["/v8", "/v12"])
    async def test_from_v8_name_and_explicit_idp(self, api: TestClient, admin: str, version: str) -> None:
        """V8: `name` given or the id; an IdP only when asked for, even when the team has one."""
        await api.app[IDPS].add(TEAM, IDP)

        plain = await create(api, admin, {"description": "d", "password": PASSWORD}, version=version)
        tied = await create(api, admin, {"description": "d", "password": PASSWORD, "name": "Entra", "idp": IDP}, version=version)

        assert {"team", "id", "created_at", "description", "name"} == set(plain["info"])
        assert plain["info"]["id"] == plain["info"]["name"]
        assert ("Entra", IDP) == (tied["info"]["name"], tied["info"]["idp"])

    async def test_from_v8_an_unknown_idp_is_not_found(self, api: TestClient, admin: str) -> None:
        """An `idp` the team has not registered: 404."""
        answer = await call(api, "POST", user=admin, version="/v8", body={"description": "d", "password": PASSWORD, "idp": IDP})

        await assert_wire_error(answer, 404, "not-found")

    async def test_the_cap_gives_token_limit_reached(self, make_client: Callable[..., Any], config: Config) -> None:
        """limits.tokens_per_team tokens held: 403 token-limit-reached."""
        api = await make_client(trusting_loopback(config, limits=Limits(tokens_per_team=2)))
        admin = await add_admin(api, config)
        for _ in range(2):
            await create(api, admin)

        answer = await call(api, "POST", user=admin, body={"description": "d", "password": PASSWORD})

        await assert_wire_error(answer, 403, "token-limit-reached")

    @pytest.mark.parametrize(
        ("body", "why"),
        [([], "not an object"), ({"password": PASSWORD}, "no description"), ({"description": 5, "password": PASSWORD}, "description not text"),
         ({"description": "d", "password": "short"}, "password under 6"), ({"description": "d", "password": PASSWORD, "verification_code": "1"}, "bad code")],
    )  # fmt: skip
    async def test_malformed_bodies_are_400(self, api: TestClient, admin: str, body: Any, why: str) -> None:
        """Bodies Wire's parser refuses: 400 bad-request."""
        await assert_wire_error(await call(api, "POST", user=admin, body=body), 400, "bad-request")

    async def test_a_body_that_is_not_json_is_400_and_other_types_415(self, api: TestClient, admin: str) -> None:
        """Not JSON: 400; not application/json: 415; both with Wire's body."""
        broken = await api.post("/scim/auth-tokens", data=b"{", headers={"Z-User": admin, "Content-Type": "application/json"})
        form = await api.post("/scim/auth-tokens", data=b"a=b", headers={"Z-User": admin, "Content-Type": "text/plain"})

        await assert_wire_error(broken, 400, "bad-request")
        await assert_wire_error(form, 415, "unsupported-media-type")


class TestWhoMayCall:
    async def test_from_an_untrusted_address_z_user_is_not_believed(self, make_client: Callable[..., Any], config: Config) -> None:
        """Without the caller in trusted_proxies every call is 403 untrusted-proxy, Z-User or not."""
        api = await make_client(config)  # trusted_proxies: [] (the default)
        admin = await add_admin(api, config)

        for method in ("POST", "GET", "DELETE"):
            answer = await call(api, method, user=admin, body={"description": "d", "password": PASSWORD})
            await assert_wire_error(answer, 403, "untrusted-proxy")
        assert [] == await api.app[TOKENS].list(TEAM)

    async def test_without_z_user_is_wires_client_error(self, api: TestClient) -> None:
        """A trusted request without Z-User: 400 client-error, as spar; a non-UUID Z-User: 400."""
        await assert_wire_error(await call(api, "GET", user=None), 400, "client-error")
        await assert_wire_error(await call(api, "GET", user="not-a-uuid"), 400, "bad-request")

    async def test_an_unknown_user_is_no_team_member(self, api: TestClient) -> None:
        """A user the directory does not know (or in no team): 403 no-team-member."""
        answer = await call(api, "GET", user="11111111-2222-4333-8444-555555555555")

        await assert_wire_error(answer, 403, "no-team-member")

    @pytest.mark.parametrize("role", ["member", "partner"])
    async def test_members_and_partners_lack_the_permission(self, api: TestClient, config: Config, role: str) -> None:
        """Only owners and admins hold CreateReadDeleteScimToken: others get 403 insufficient-permissions."""
        user = await add_admin(api, config, role=role)

        for method, path in (("POST", ""), ("GET", ""), ("DELETE", f"?id={IDP}")):
            answer = await call(api, method, f"/scim/auth-tokens{path}", user=user, body={"description": "d", "password": PASSWORD})
            await assert_wire_error(answer, 403, "insufficient-permissions")

    async def test_an_owner_may_and_works_on_its_own_team_only(self, api: TestClient, config: Config) -> None:
        """An owner makes tokens for its team; another team's tokens are neither listed nor revoked."""
        owner = await add_admin(api, config, role="owner")
        foreign_secret, foreign = await api.app[TOKENS].create(OTHER_TEAM, description="other")

        made = await create(api, owner)
        listed = await (await call(api, "GET", user=owner)).json()
        deleted = await call(api, "DELETE", f"/scim/auth-tokens?id={foreign.id}", user=owner)

        assert [made["info"]["id"]] == [t["id"] for t in listed["tokens"]]
        assert 204 == deleted.status
        assert [foreign] == await api.app[TOKENS].list(OTHER_TEAM)

    @pytest.mark.parametrize("body", [{"description": "d", "password": "wrong-password"}, {"description": "d"}])
    async def test_a_wrong_or_missing_password_is_access_denied(self, api: TestClient, admin: str, body: dict[str, Any]) -> None:
        """Re-authentication fails: 403 access-denied, nothing made."""
        await assert_wire_error(await call(api, "POST", user=admin, body=body), 403, "access-denied")
        assert [] == await api.app[TOKENS].list(TEAM)


class TestListDeleteRename:
    async def test_list_has_the_shape_of_the_version(self, api: TestClient, admin: str) -> None:
        """GET: V7 infos without name, V8 with it; oldest first; never a secret."""
        first, second = await create(api, admin), await create(api, admin)

        v7 = await (await call(api, "GET", user=admin)).json()
        v8 = await (await call(api, "GET", user=admin, version="/v8")).json()

        assert [first["info"], second["info"]] == v7["tokens"]
        assert [{**first["info"], "name": first["info"]["id"]}, {**second["info"], "name": second["info"]["id"]}] == v8["tokens"]
        assert first["token"] not in str(v7) + str(v8)

    async def test_delete_revokes_at_once_and_unknown_ids_are_204(self, api: TestClient, admin: str) -> None:
        """DELETE ?id=: 204 and the token stops working; an unknown id is 204 too; no id is 400."""
        made = await create(api, admin)

        deleted = await call(api, "DELETE", f"/scim/auth-tokens?id={made['info']['id']}", user=admin)
        again = await call(api, "DELETE", f"/scim/auth-tokens?id={made['info']['id']}", user=admin)
        missing = await call(api, "DELETE", user=admin)

        assert (204, 204) == (deleted.status, again.status)
        assert 401 == (await api.get("/scim/v2/Users", headers=auth(made["token"]))).status
        await assert_wire_error(missing, 400, "bad-request")

    async def test_put_renames_from_v8_only(self, api: TestClient, admin: str) -> None:
        """PUT /v8/.../:id {"name"}: 200 []; unversioned and /v7: 404 as Wire's route guard; unknown id: 404."""
        made = await create(api, admin, version="/v8")
        path = f"/scim/auth-tokens/{made['info']['id']}"

        renamed = await call(api, "PUT", path, user=admin, version="/v8", body={"name": "Okta prod"})
        below = [await call(api, "PUT", path, user=admin, version=v, body={"name": "x"}) for v in ("", "/v7")]
        unknown = await call(api, "PUT", f"/scim/auth-tokens/{IDP}", user=admin, version="/v8", body={"name": "x"})

        assert (200, []) == (renamed.status, await renamed.json())
        assert "Okta prod" == (await api.app[TOKENS].list(TEAM))[0].name
        for answer in below:
            await assert_wire_error(answer, 404, "not-found")
        await assert_wire_error(unknown, 404, "not-found")

    async def test_other_methods_are_405_and_v2_paths_stay_scim(self, api: TestClient, admin: str) -> None:
        """PATCH on the collection: Wire's 405; /scim/v2/auth-tokens is no route of the token API (SCIM 404)."""
        patched = await call(api, "PATCH", user=admin, body={})
        scim = await call(api, "GET", "/scim/v2/auth-tokens", user=admin)

        await assert_wire_error(patched, 405, "method-not-allowed")
        assert (404, "application/scim+json") == (scim.status, scim.content_type)


class TestSharedWithTheCli:
    async def test_tokens_of_either_side_are_listed_used_and_revoked_by_the_other(
        self, api: TestClient, admin: str, config: Config, tmp_path: Path
    ) -> None:
        """`scim-gateway token ...` (a real CLI process) and the API share one token service and its state."""
        config_file = write_config(config, tmp_path / "cli.yaml")
        code, out, err = await run_cli(config_file, "token", "create", "--team", TEAM, "--description", "by CLI", "--json")
        assert 0 == code, err
        cli_made = json.loads(out)
        api_made = await create(api, admin)

        listed = {t["id"] for t in (await (await call(api, "GET", user=admin)).json())["tokens"]}
        code, out, err = await run_cli(config_file, "token", "list", "--team", TEAM, "--json")
        assert {cli_made["info"]["id"], api_made["info"]["id"]} == listed == {json.loads(line)["id"] for line in out.splitlines()}
        for secret in (cli_made["token"], api_made["token"]):
            assert 200 == (await api.get("/scim/v2/Users", headers=auth(secret))).status

        assert 204 == (await call(api, "DELETE", f"/scim/auth-tokens?id={cli_made['info']['id']}", user=admin)).status
        code, _, err = await run_cli(config_file, "token", "revoke", "--team", TEAM, "--id", api_made["info"]["id"])
        assert 0 == code, err
        for secret in (cli_made["token"], api_made["token"]):
            assert 401 == (await api.get("/scim/v2/Users", headers=auth(secret))).status
        assert [] == await api.app[TOKENS].list(TEAM)


async def test_passwords_and_tokens_never_reach_the_log(api: TestClient, admin: str) -> None:
    """Creating, listing, failing and deleting through the API logs neither the password nor the token."""
    with structlog.testing.capture_logs() as events:
        made = await create(api, admin)
        await call(api, "POST", user=admin, body={"description": "d", "password": "wrong-password"})
        await call(api, "GET", user=admin)
        await call(api, "DELETE", f"/scim/auth-tokens?id={made['info']['id']}", user=admin)

    logged = repr(events)
    assert [] == [s for s in (PASSWORD, "wrong-password", made["token"]) if s in logged]
    assert any(e.get("event") == "scim_token_created" for e in events)


@pytest.mark.backends("brig")
@pytest.mark.parametrize(
    ("brig_status", "brig_label", "status", "label"),
    [(403, "code-authentication-required", 403, "code-authentication-required"),
     (403, "code-authentication-failed", 403, "code-authentication-failed"),
     (403, "suspended", 403, "access-denied"),
     (503, "unavailable", 503, "service-unavailable")],
)  # fmt: skip
async def test_brigs_reauthentication_answers_map_as_spar_maps_them(
    api: TestClient, admin: str, config: Config, brig_status: int, brig_label: str, status: int, label: str
) -> None:
    """brig's 403 labels of GET /i/users/:uid/reauthenticate become spar's; brig failing is Wire-shaped too."""
    import aiohttp

    rule = {"route": "GET /i/users/*/reauthenticate", "status": brig_status, "label": brig_label}
    async with aiohttp.ClientSession() as session:
        async with session.put(f"{config.backend.brig_url}/i/_faults", json={"rules": [rule]}) as answer:
            assert 200 == answer.status

    created = await call(api, "POST", user=admin, body={"description": "d", "password": PASSWORD, "verification_code": "123456"})

    await assert_wire_error(created, status, label)
    assert [] == await api.app[TOKENS].list(TEAM)
