"""The HTTP edge: base-URL quirks, error bodies, authentication, discovery, health, proxies."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from conftest import SCIM_JSON, TEAM, auth, user_body
from gateway.config import Config
from gateway.provisioning.users import UserService
from gateway.web.keys import TOKENS
from scim_calls import (
    ERROR_URN,
    LIST_URN,
    SCIM_CONTENT_TYPE,
    USERS,
    assert_scim_error,
    create_user,
    total,
)

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "wire.example.com"}


def origin(client: TestClient) -> str:
    return f"http://{client.server.host}:{client.server.port}"


# --- base-URL quirks -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, base",
    [
        ("/scim/v2/Users", "/scim/v2"),
        ("/scim/Users", "/scim"),
        ("/v7/scim/v2/Users", "/v7/scim/v2"),
        ("/v7/scim/Users", "/v7/scim"),
        ("/scim/v2/Users/", "/scim/v2"),
        ("/scim/v2//Users", "/scim/v2"),
        ("/scim//v2//Users//", "/scim/v2"),
        ("/scim/v2/users", "/scim/v2"),
        ("/scim/v2/USERS/", "/scim/v2"),
        ("/scim/v2/Users?aadOptscim062020", "/scim/v2"),
    ],
)
async def test_base_url_quirks_reach_users_and_location_follows_the_base(
    client: TestClient, token: str, path: str, base: str
) -> None:
    """/scim/v2, /scim, /vN/scim, doubled and trailing slashes, /users: meta.location uses the base used."""
    response = await client.post(path, json=user_body("bjensen"), headers=auth(token))
    created = await response.json()
    assert 201 == response.status, created
    assert f"{origin(client)}{base}/Users/{created['id']}" == created["meta"]["location"]
    by_id = path.split("?")[0].rstrip("/") + "/" + created["id"]
    fetched = await client.get(by_id + "/?aadOptscim062020", headers=auth(token))
    assert 200 == fetched.status
    assert created["meta"]["location"] == (await fetched.json())["meta"]["location"]
    listing = await client.get(path, headers=auth(token))
    assert [created["id"]] == [r["id"] for r in (await listing.json())["Resources"]]


@pytest.mark.parametrize(
    "path",
    [
        "/", "/Users", "/api/Users", "/scim/v3/Users", "/scim/v2/Things", "/scim/v2/Users/a/b", "/scim/v2",
        "/v7/Users",
    ],
)
async def test_unknown_paths_are_404_scim_errors(client: TestClient, token: str, path: str) -> None:
    """A path that is no SCIM resource is a 404 in the SCIM error format."""
    response = await client.get(path, headers=auth(token))
    await assert_scim_error(response, 404, None)


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("DELETE", "/scim/v2/Users", "GET, POST"),
        ("PUT", "/scim/v2/Users", "GET, POST"),
        ("PATCH", "/scim/v2/Users", "GET, POST"),
        ("POST", "/scim/v2/Users/3f0e8a4c-5d7b-4e1a-9c2f-6b8d0a1e2f3c", "DELETE, GET, PATCH, PUT"),
        ("POST", "/scim/v2/ServiceProviderConfig", "GET"),
        ("DELETE", "/scim/v2/Schemas", "GET"),
    ],
)
async def test_wrong_method_is_405_with_allow(
    client: TestClient, token: str, method: str, path: str, allowed: str
) -> None:
    """A method the resource does not support is 405 with an Allow header listing those it does."""
    response = await client.request(method, path, json={}, headers=auth(token))
    await assert_scim_error(response, 405, None, mentions=method)
    assert allowed == response.headers["Allow"]


async def test_head_is_answered_like_get(client: TestClient) -> None:
    """HEAD works wherever GET does, without a body."""
    response = await client.head("/scim/v2/ServiceProviderConfig")
    assert 200 == response.status


# --- request bodies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
async def test_other_media_types_are_415(client: TestClient, token: str, content_type: str) -> None:
    """A body that is not JSON (text/plain, forms, XML) is a 415 SCIM error; nothing is created."""
    headers = {**auth(token), "Content-Type": content_type}
    response = await client.post(USERS, data=json.dumps(user_body("bjensen")), headers=headers)
    await assert_scim_error(response, 415, None, mentions="application/scim+json")
    assert 0 == await total(client, token)


@pytest.mark.parametrize(
    "content_type", ["application/scim+json", "application/scim+json; charset=utf-8", "application/json",
                     "application/json;charset=UTF-8", "Application/SCIM+JSON"],
)  # fmt: skip
async def test_json_media_types_are_accepted(client: TestClient, token: str, content_type: str) -> None:
    """application/scim+json and application/json, with or without charset, any case, are accepted."""
    headers = {**auth(token), "Content-Type": content_type}
    response = await client.post(USERS, data=json.dumps(user_body("bjensen")), headers=headers)
    assert 201 == response.status


async def test_patch_with_text_plain_is_415(client: TestClient, token: str) -> None:
    """PATCH and PUT with a text/plain body are 415 too."""
    created = await create_user(client, token, user_body("bjensen"))
    headers = {**auth(token), "Content-Type": "text/plain"}
    for method in ("PATCH", "PUT"):
        response = await client.request(method, f"{USERS}/{created['id']}", data="{}", headers=headers)
        await assert_scim_error(response, 415, None)


@pytest.mark.parametrize("raw", [b'{"userName": "bjensen",', b"{'userName': 'bjensen'}", b"", b"\xff\xfe{}"])
async def test_malformed_json_is_400_invalid_syntax(client: TestClient, token: str, raw: bytes) -> None:
    """A body that is not valid JSON (or not UTF-8) is a 400 invalidSyntax."""
    response = await client.post(USERS, data=raw, headers=auth(token))
    await assert_scim_error(response, 400, "invalidSyntax", mentions="JSON")


@pytest.mark.parametrize("raw", [b"[" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000])
async def test_too_deeply_nested_json_is_400_invalid_syntax(client: TestClient, token: str, raw: bytes) -> None:
    """JSON nested deeper than the parser can follow is a 400 invalidSyntax, not a 500."""
    response = await client.post(USERS, data=raw, headers=auth(token))
    await assert_scim_error(response, 400, "invalidSyntax", mentions="JSON")


async def test_malformed_json_detail_names_line_and_column(client: TestClient, token: str) -> None:
    """The invalidSyntax detail says where the JSON broke."""
    response = await client.post(USERS, data=b'{\n  "userName": bjensen\n}', headers=auth(token))
    await assert_scim_error(response, 400, "invalidSyntax", mentions="line 2, column 15")


async def test_too_large_body_is_413(make_client: Callable[..., Any], config: Config) -> None:
    """A body over limits.max_body_bytes is a 413 SCIM error naming the limit; nothing is created."""
    limits = dataclasses.replace(config.limits, max_body_bytes=1024)
    client = await make_client(dataclasses.replace(config, limits=limits))
    secret, _ = await client.app[TOKENS].create(TEAM, description="test")
    body = user_body("bjensen", nickName="x" * 2000)
    response = await client.post(USERS, json=body, headers=auth(secret))
    await assert_scim_error(response, 413, None, mentions="1024")
    assert 0 == await total(client, secret)
    small = await client.post(USERS, json=user_body("bjensen"), headers=auth(secret))
    assert 201 == small.status


# --- authentication ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        None, "", "Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer ", "Bearer not-a-token", "Token abc",
        "Bearer a b",
    ],
)
async def test_missing_or_bad_token_is_401(client: TestClient, token: str, authorization: str | None) -> None:
    """No token, another scheme or an unknown token: 401 with WWW-Authenticate, the same body each time."""
    headers = {"Content-Type": SCIM_JSON}
    if authorization is not None:
        headers["Authorization"] = authorization
    response = await client.get(USERS, headers=headers)
    body = await assert_scim_error(response, 401, None)
    assert 'Bearer realm="scim"' == response.headers["WWW-Authenticate"]
    reference = await client.get(USERS, headers={"Authorization": "Bearer unknown"})
    assert await reference.json() == body


async def test_every_user_route_needs_a_token(client: TestClient, token: str) -> None:
    """POST, GET, PUT, PATCH and DELETE on /Users all answer 401 without a token, and do nothing."""
    created = await create_user(client, token, user_body("bjensen"))
    url = f"{USERS}/{created['id']}"
    calls = (("POST", USERS), ("GET", USERS), ("GET", url), ("PUT", url), ("PATCH", url), ("DELETE", url))
    for method, path in calls:
        response = await client.request(
            method, path, json=user_body("x"), headers={"Content-Type": SCIM_JSON}
        )
        await assert_scim_error(response, 401, None)
    assert 1 == await total(client, token)


async def test_bearer_scheme_is_case_insensitive(client: TestClient, token: str) -> None:
    """The scheme may be written bearer or BEARER."""
    for scheme in ("bearer", "BEARER"):
        response = await client.get(USERS, headers={"Authorization": f"{scheme} {token}"})
        assert 200 == response.status


async def test_revoked_token_stops_working_at_once(client: TestClient) -> None:
    """A revoked token is refused on the very next request; other tokens of the team keep working."""
    tokens = client.app[TOKENS]
    revoked, record = await tokens.create(TEAM, description="to revoke")
    kept, _ = await tokens.create(TEAM, description="kept")
    assert 200 == (await client.get(USERS, headers=auth(revoked))).status
    assert await tokens.revoke(TEAM, record.id)
    response = await client.get(USERS, headers=auth(revoked))
    body = await assert_scim_error(response, 401, None)
    assert await (await client.get(USERS, headers=auth("unknown"))).json() == body
    assert 200 == (await client.get(USERS, headers=auth(kept))).status


@pytest.mark.backends("embedded", "brig")
async def test_a_token_sees_only_its_team(client: TestClient, token: str, saml_token: str) -> None:
    """A user created with one team's token is not visible with another team's token."""
    created = await create_user(client, token, user_body("bjensen"))
    response = await client.get(f"{USERS}/{created['id']}", headers=auth(saml_token))
    await assert_scim_error(response, 404, None)


# --- discovery and health ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, schema",
    [
        ("/scim/v2/ServiceProviderConfig", "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"),
        ("/scim/v2/Schemas", LIST_URN),
        ("/scim/v2/ResourceTypes", LIST_URN),
        (
            "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:core:2.0:Schema",
        ),
        ("/scim/v2/ResourceTypes/User", "urn:ietf:params:scim:schemas:core:2.0:ResourceType"),
        ("/scim/serviceproviderconfig", "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"),
    ],
)
async def test_discovery_needs_no_token(client: TestClient, path: str, schema: str) -> None:
    """/ServiceProviderConfig, /Schemas and /ResourceTypes answer without a token, as SCIM JSON."""
    response = await client.get(path)
    assert 200 == response.status
    assert SCIM_CONTENT_TYPE == response.headers["Content-Type"]
    assert [schema] == (await response.json())["schemas"]


async def test_service_provider_config_describes_the_gateway(client: TestClient) -> None:
    """ServiceProviderConfig: PATCH, filter, sort, ETag yes; bulk, password changes no; bearer tokens."""
    body = await (await client.get("/scim/v2/ServiceProviderConfig")).json()
    assert (True, True, True, True, False, False) == (
        body["patch"]["supported"], body["filter"]["supported"], body["sort"]["supported"],
        body["etag"]["supported"], body["bulk"]["supported"], body["changePassword"]["supported"],
    )  # fmt: skip
    assert ["oauthbearertoken"] == [s["type"] for s in body["authenticationSchemes"]]
    assert f"{origin(client)}/scim/v2/ServiceProviderConfig" == body["meta"]["location"]


async def test_unknown_schema_is_404(client: TestClient) -> None:
    """/Schemas/<unknown URN> is a 404 SCIM error."""
    response = await client.get("/scim/v2/Schemas/urn:ietf:params:scim:api:messages:2.0:Error")
    await assert_scim_error(response, 404, None)


async def test_status_is_200_without_token(client: TestClient) -> None:
    """/i/status answers 200 when the store and the backend work; it needs no token."""
    response = await client.get("/i/status")
    assert 200 == response.status
    assert {"status": "ok", "store": "ok", "backend": "ok"} == await response.json()


# --- unexpected errors ---------------------------------------------------------------------------


async def test_unexpected_exception_is_500_with_request_id_and_no_traceback(
    client: TestClient, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected exception is a 500 SCIM error carrying the request id; no traceback or message leaks."""

    async def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("secret internals: /srv/db password=hunter2")

    monkeypatch.setattr(UserService, "get", explode)
    monkeypatch.setattr(UserService, "get_serialised", explode)
    response = await client.get(f"{USERS}/3f0e8a4c-5d7b-4e1a-9c2f-6b8d0a1e2f3c", headers=auth(token))
    body = await assert_scim_error(response, 500, None)
    text = await response.text()
    request_id = response.headers["X-Request-Id"]
    assert request_id in body["detail"]
    for leak in ("Traceback", "RuntimeError", "hunter2", "secret internals", "<html"):
        assert leak not in text


async def test_a_given_request_id_is_echoed(
    client: TestClient, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sane X-Request-Id from the proxy is kept and quoted in a 500 detail."""

    async def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(UserService, "search", explode)
    monkeypatch.setattr(UserService, "search_page", explode)
    response = await client.get(USERS, headers=auth(token, **{"X-Request-Id": "nginz-42-abc"}))
    assert "nginz-42-abc" == response.headers["X-Request-Id"]
    assert "nginz-42-abc" in (await response.json())["detail"]


async def test_an_unsafe_request_id_is_replaced(client: TestClient, token: str) -> None:
    """An X-Request-Id that is too long or has odd characters is replaced by a fresh one."""
    for given in ("x" * 65, "a b", "<script>"):
        response = await client.get(USERS, headers=auth(token, **{"X-Request-Id": given}))
        assert given != response.headers["X-Request-Id"]
        assert response.headers["X-Request-Id"].isalnum()


async def test_errors_use_the_scim_content_type(client: TestClient) -> None:
    """Every error answer is application/scim+json; charset=utf-8 with the Error schema."""
    for response in (await client.get("/nowhere"), await client.get(USERS), await client.delete(USERS)):
        assert SCIM_CONTENT_TYPE == response.headers["Content-Type"]
        assert [ERROR_URN] == (await response.json())["schemas"]


# --- proxies and the public base URL -------------------------------------------------------------


async def _location(client: TestClient, headers: dict[str, str], path: str = USERS) -> str:
    """The base of meta.location of a user created through `path` with `headers`."""
    secret, _ = await client.app[TOKENS].create(TEAM, description="test")
    response = await client.post(path, json=user_body("bjensen"), headers=auth(secret, **headers))
    created = await response.json()
    return created["meta"]["location"].removesuffix(f"/Users/{created['id']}")


async def test_forwarded_headers_are_ignored_by_default(
    make_client: Callable[..., Any], config: Config
) -> None:
    """Without trusted_proxies, X-Forwarded-Proto/Host are not believed."""
    client = await make_client(config)
    assert f"{origin(client)}/scim/v2" == await _location(client, FORWARDED)


async def test_forwarded_headers_from_a_trusted_proxy_are_honoured(
    make_client: Callable[..., Any], config: Config
) -> None:
    """From an address in trusted_proxies, X-Forwarded-Proto/Host make the location."""
    client = await make_client(dataclasses.replace(config, trusted_proxies=("127.0.0.0/8",)))
    assert "https://wire.example.com/v7/scim/v2" == await _location(client, FORWARDED, "/v7/scim/v2/Users")


async def test_forwarded_headers_from_an_untrusted_address_are_ignored(
    make_client: Callable[..., Any], config: Config
) -> None:
    """trusted_proxies that do not contain the peer do not make its X-Forwarded-* headers believed."""
    client = await make_client(dataclasses.replace(config, trusted_proxies=("10.0.0.0/8",)))
    assert f"{origin(client)}/scim/v2" == await _location(client, FORWARDED)


async def test_public_base_url_wins(make_client: Callable[..., Any], config: Config) -> None:
    """public_base_url is used whatever the request or a trusted proxy says."""
    cfg = dataclasses.replace(
        config, public_base_url="https://scim.example.org/", trusted_proxies=("127.0.0.0/8",)
    )
    client = await make_client(cfg)
    assert "https://scim.example.org/scim/v2" == await _location(client, FORWARDED)

