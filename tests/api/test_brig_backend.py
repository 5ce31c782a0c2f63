"""
The SCIM API on the brig backend, where brig-lite misbehaves or is changed behind the gateway's
back: failures become clear SCIM errors, reads are retried once and writes never, users that
vanish from brig free their names, and team members not made by SCIM are left alone.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from conftest import IDP, SAML_TEAM, TEAM, auth, new_token, running_brig_lite, user_body
from gateway.brig_lite.app import add_member
from gateway.config import Backend, BrigLite, Config
from gateway.provisioning.tokens import hash_token, new_token_secret
from gateway.store.base import TokenRecord
from gateway.web.keys import STORE
from scim_calls import USERS, assert_scim_error, create_user, get_user, search

pytestmark = pytest.mark.backends("brig")


async def brig_lite(config: Config, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One call to the brig-lite the gateway talks to (to set faults or change users behind it)."""
    async with aiohttp.ClientSession() as session:
        async with session.request(method, f"{config.backend.brig_url}{path}", json=body) as answer:
            return answer.status, await answer.json(content_type=None) if answer.status != 204 else None


async def faults(config: Config, *rules: dict[str, Any]) -> None:
    status, _ = await brig_lite(config, "PUT", "/i/_faults", {"rules": list(rules)})
    assert 200 == status


async def fired(config: Config) -> list[int]:
    return (await brig_lite(config, "GET", "/i/_faults"))[1]["fired"]


def retry_after(response: aiohttp.ClientResponse) -> int:
    return int(response.headers["Retry-After"])


class TestFailuresBecomeScimErrors:
    @pytest.mark.parametrize(("brig_status", "scim_status"), [(500, 502), (502, 502), (503, 503)])
    async def test_a_5xx_is_502_or_503_with_retry_after(
        self, client: TestClient, token: str, config: Config, brig_status: int, scim_status: int
    ) -> None:
        """brig answering 5xx to the invitation is a 502 (503 for its 503) with Retry-After."""
        await faults(config, {"route": "POST /i/teams/*/invitations", "status": brig_status})

        response = await client.post(USERS, json=user_body(), headers=auth(token))

        await assert_scim_error(response, scim_status, mentions="invitations")
        assert 5 == retry_after(response)

    async def test_connection_refused_is_503_with_retry_after(
        self, make_client: Callable[..., Any], config: Config
    ) -> None:
        """Nothing listening at brig_url: 503 naming brig, with Retry-After."""
        closed = dataclasses.replace(config.backend, brig_url="http://127.0.0.1:9", retry_after_seconds=7)
        client = await make_client(dataclasses.replace(config, backend=closed))
        secret = new_token_secret()
        record = TokenRecord(id=str(uuid.uuid4()), team=TEAM, hash=hash_token(secret), created_at="2026-01-01T00:00:00.000Z",
                             description="t", name="t")  # fmt: skip
        await client.app[STORE].add_token(record, max_per_team=8)

        response = await client.post(USERS, json=user_body(), headers=auth(secret))

        await assert_scim_error(response, 503, mentions="cannot connect to brig")
        assert 7 == retry_after(response)

    async def test_a_slow_call_is_504(self, make_client: Callable[..., Any], config: Config) -> None:
        """A brig call past backend.call_timeout_seconds is a 504."""
        quick = dataclasses.replace(config.backend, call_timeout_seconds=0.2)
        client = await make_client(dataclasses.replace(config, backend=quick))
        token = await new_token(client)
        await faults(config, {"route": "HEAD /i/handles/*", "status": 200, "delay_ms": 600})

        response = await client.post(USERS, json=user_body(), headers=auth(token))

        await assert_scim_error(response, 504, mentions="did not answer within 0.2 s")
        assert "Retry-After" in response.headers

    async def test_handle_exists_is_409_uniqueness(self, client: TestClient, saml_token: str, config: Config) -> None:
        """brig's 409 handle-exists (a race HEAD did not see) is 409 uniqueness naming userName."""
        await faults(config, {"route": "POST /i/users/spar", "status": 409, "label": "handle-exists"})

        response = await client.post(USERS, json=user_body(), headers=auth(saml_token))

        await assert_scim_error(response, 409, "uniqueness", mentions="userName")
        assert 0 == (await search(client, saml_token, "count=0"))["totalResults"]

    @pytest.mark.parametrize("label", ["managed-by-scim", "too-many-team-members"])
    async def test_a_403_keeps_wires_label(self, client: TestClient, saml_token: str, config: Config, label: str) -> None:
        """brig's 403 is a 403 whose detail carries Wire's label."""
        await faults(config, {"route": "POST /i/users/spar", "status": 403, "label": label})

        response = await client.post(USERS, json=user_body(), headers=auth(saml_token))

        await assert_scim_error(response, 403, mentions=label)

    async def test_a_real_full_team_is_403_too_many_team_invitations(
        self, make_client: Callable[..., Any], config: Config, tmp_path: Path
    ) -> None:
        """brig-lite with room for one member refuses a second invitation, as brig does: 403 too-many-team-invitations."""
        async with running_brig_lite(tmp_path / "small.db", max_team_size=1) as url:
            client = await make_client(dataclasses.replace(config, backend=Backend(kind="brig", brig_url=url)))
            token = await new_token(client)
            await create_user(client, token, user_name="alice")

            response = await client.post(USERS, json=user_body("bob"), headers=auth(token))

            await assert_scim_error(response, 403, mentions="too-many-team-invitations")

    async def test_rich_info_too_large_for_brig_is_413(
        self, make_client: Callable[..., Any], config: Config, tmp_path: Path
    ) -> None:
        """brig's own rich-info limit (413 too-large-rich-info) is a 413 for the client."""
        async with running_brig_lite(tmp_path / "small.db", rich_info_chars=10) as url:
            client = await make_client(dataclasses.replace(config, backend=Backend(kind="brig", brig_url=url)))
            token = await new_token(client)
            body = user_body(**{"urn:ietf:params:scim:schemas:extension:wire:1.0:User": {"Department": "Sales and more"}})

            response = await client.post(USERS, json=body, headers=auth(token))

            await assert_scim_error(response, 413, "invalidValue", mentions="too-large-rich-info")
            assert 0 == (await search(client, token, "count=0"))["totalResults"]


class TestRetries:
    async def test_a_read_is_retried_once_after_a_dropped_connection(
        self, client: TestClient, saml_token: str, config: Config
    ) -> None:
        """GET /Users/{id}: the first brig read loses its connection, the retry answers."""
        created = await create_user(client, saml_token)
        await faults(config, {"route": "GET /i/users", "status": 0, "times": 1})

        fetched = await get_user(client, saml_token, created["id"])

        assert (created["id"], [1]) == (fetched["id"], await fired(config))

    async def test_a_create_is_not_retried(self, client: TestClient, saml_token: str, config: Config) -> None:
        """A dropped POST /i/users/spar is a 502 and is sent once; nothing is left behind."""
        await faults(config, {"route": "POST /i/users/spar", "status": 0, "times": 2})

        response = await client.post(USERS, json=user_body(), headers=auth(saml_token))

        await assert_scim_error(response, 502, mentions="lost its connection")
        assert [1] == await fired(config)
        assert 0 == (await search(client, saml_token, "count=0"))["totalResults"]
        assert 404 == (await brig_lite(config, "HEAD", "/i/handles/bjensen"))[0]

    async def test_an_update_is_not_retried(self, client: TestClient, saml_token: str, config: Config) -> None:
        """A dropped PUT name is a 502 and is sent once (not re-sent by aiohttp either); the name stays."""
        created = await create_user(client, saml_token)
        await faults(config, {"route": "PUT /i/users/*/name", "status": 0, "times": 5})

        response = await client.put(
            f"{USERS}/{created['id']}", json=user_body(displayName="Renamed"), headers=auth(saml_token)
        )

        await assert_scim_error(response, 502, mentions="lost its connection")
        assert [1] == await fired(config)
        assert "Bjensen Example" == (await get_user(client, saml_token, created["id"]))["displayName"]

    async def test_a_delete_is_not_retried(self, client: TestClient, saml_token: str, config: Config) -> None:
        """A dropped DELETE is a 502 and is sent once; the user is still there for the retry."""
        created = await create_user(client, saml_token)
        await faults(config, {"route": "DELETE /i/users/*", "status": 0, "times": 5})

        response = await client.delete(f"{USERS}/{created['id']}", headers=auth(saml_token))

        await assert_scim_error(response, 502, mentions="lost its connection")
        assert [1] == await fired(config)
        assert created["id"] == (await get_user(client, saml_token, created["id"]))["id"]


class TestVanishedUsers:
    async def test_a_user_deleted_in_wire_disappears_and_frees_its_names(
        self, client: TestClient, saml_token: str, config: Config
    ) -> None:
        """Deleted in brig behind the gateway: 404, not listed, and the same POST works again."""
        created = await create_user(client, saml_token)
        assert 202 == (await brig_lite(config, "DELETE", f"/i/users/{created['id']}"))[0]

        gone = await client.get(f"{USERS}/{created['id']}", headers=auth(saml_token))
        listing = await search(client, saml_token, 'filter=userName eq "bjensen"')
        again = await create_user(client, saml_token)

        await assert_scim_error(gone, 404)
        assert 0 == listing["totalResults"]
        assert (created["externalId"], "bjensen") == (again["externalId"], again["userName"])
        assert created["id"] != again["id"]

    async def test_an_expired_invitation_disappears_and_can_be_made_again(
        self, make_client: Callable[..., Any], config: Config, tmp_path: Path
    ) -> None:
        """A pending invitation that expires in brig vanishes from lists; the POST can be repeated."""
        async with running_brig_lite(tmp_path / "expiring.db", invitation_timeout_seconds=0.3) as url:
            client = await make_client(dataclasses.replace(config, backend=Backend(kind="brig", brig_url=url)))
            token = await new_token(client)
            created = await create_user(client, token)
            await asyncio.sleep(0.4)

            listing = await search(client, token, "count=10")
            again = await create_user(client, token)

            assert 0 == listing["totalResults"]
            assert ("bjensen", False) == (again["userName"], again["active"])
            assert created["id"] != again["id"]


class TestChangesBehindTheGateway:
    async def test_brig_is_the_truth_for_one_user(self, client: TestClient, token: str, config: Config) -> None:
        """
        A name and an external id changed in brig show on the next GET with a new version; the
        old externalId is free again and a filter finds the user by the new one.
        """
        created = await create_user(client, token)
        uid = created["id"]
        await brig_lite(config, "PUT", f"/i/users/{uid}/name", {"name": "Changed In Wire"})
        await brig_lite(config, "PUT", f"/i/users/{uid}/sso-id", {"scim_external_id": "moved@example.com"})

        fetched = await get_user(client, token, uid)
        found = await search(client, token, 'filter=externalId eq "moved@example.com"')
        other = await create_user(client, token, user_body("other", externalId=created["externalId"]))

        assert ("Changed In Wire", "moved@example.com") == (fetched["displayName"], fetched["externalId"])
        assert fetched["meta"]["version"] != created["meta"]["version"]
        assert fetched["meta"]["lastModified"] > created["meta"]["lastModified"]
        assert [uid] == [u["id"] for u in found["Resources"]]
        assert created["externalId"] == other["externalId"]


class TestMembersNotMadeBySCIM:
    async def test_they_are_left_alone(self, client: TestClient, saml_token: str, config: Config) -> None:
        """
        A team admin seeded in Wire is not taken over: GET is 404, lists skip it, DELETE answers
        204 but the account stays, and its handle is still taken for SCIM users.
        """
        settings = BrigLite(path=str(Path(config.store.path or "").parent / "brig-lite.db"))
        admin = await add_member(settings, team=SAML_TEAM, role="admin", email="admin@example.com", password="s3cret!")
        await brig_lite(config, "PUT", f"/i/users/{admin}/handle", {"handle": "teamadmin"})

        fetched = await client.get(f"{USERS}/{admin}", headers=auth(saml_token))
        listing = await search(client, saml_token, "count=10")
        deleted = await client.delete(f"{USERS}/{admin}", headers=auth(saml_token))
        clash = await client.post(USERS, json=user_body("teamadmin"), headers=auth(saml_token))

        await assert_scim_error(fetched, 404)
        assert (0, 204) == (listing["totalResults"], deleted.status)
        status, found = await brig_lite(config, "GET", f"/i/users?ids={admin}")
        assert (200, ["active"]) == (status, [u["status"] for u in found])
        await assert_scim_error(clash, 409, "uniqueness", mentions="userName")


async def test_saml_users_carry_the_idp_and_name_id(client: TestClient, saml_token: str, config: Config) -> None:
    """A SAML user's sso_id in brig holds the IdP as issuer and the externalId as NameID."""
    created = await create_user(client, saml_token, user_body(externalId="Bjensen@Example.com"))

    _, [account] = await brig_lite(config, "GET", f"/i/users?ids={created['id']}")

    assert IDP in account["sso_id"]["tenant"]
    assert "nameid-format:emailAddress" in account["sso_id"]["subject"]
    assert ">Bjensen@Example.com</NameID>" in account["sso_id"]["subject"]
    assert ("scim", "active", "bjensen") == (account["managed_by"], account["status"], account["handle"])


async def test_status_is_503_while_brig_is_unreachable(make_client: Callable[..., Any], config: Config) -> None:
    """GET /i/status reports the backend unavailable when brig cannot be reached."""
    closed = dataclasses.replace(config.backend, brig_url="http://127.0.0.1:9")
    client = await make_client(dataclasses.replace(config, backend=closed))

    response = await client.get("/i/status")

    assert (503, "unavailable") == (response.status, (await response.json())["backend"])

