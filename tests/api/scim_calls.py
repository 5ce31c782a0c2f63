"""
Small building blocks shared by the API tests: SCIM calls that must succeed, PATCH bodies, and
the one check of an RFC 7644 error response.
"""

from __future__ import annotations

from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from conftest import auth, user_body

USERS = "/scim/v2/Users"
ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
MAP_URN = "urn:ietf:params:scim:schemas:extension:wire:1.0:User"
PROFILE_URN = "urn:wire:scim:schemas:profile:1.0"
CORE_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
SCIM_CONTENT_TYPE = "application/scim+json; charset=utf-8"


async def create_user(client: TestClient, token: str, body: dict[str, Any] | None = None, **kw: Any) -> dict:
    """POST a user (default: user_body(**kw)) and return the 201 body."""
    response = await client.post(
        USERS, json=body if body is not None else user_body(**kw), headers=auth(token)
    )
    payload = await response.json()
    assert 201 == response.status, payload
    return payload


async def get_user(client: TestClient, token: str, user_id: str) -> dict:
    response = await client.get(f"{USERS}/{user_id}", headers=auth(token))
    payload = await response.json()
    assert 200 == response.status, payload
    return payload


async def patch_user(client: TestClient, token: str, user_id: str, *ops: dict[str, Any]) -> ClientResponse:
    return await client.patch(f"{USERS}/{user_id}", json=patch_body(*ops), headers=auth(token))


async def patched(client: TestClient, token: str, user_id: str, *ops: dict[str, Any]) -> dict:
    """PATCH that must answer 200 with the full resource; returns it."""
    response = await patch_user(client, token, user_id, *ops)
    payload = await response.json()
    assert 200 == response.status, payload
    return payload


async def search(client: TestClient, token: str, query: str) -> dict:
    """GET /Users?<query> (query already encoded) that must answer 200; returns the ListResponse."""
    response = await client.get(f"{USERS}?{query}", headers=auth(token))
    payload = await response.json()
    assert 200 == response.status, payload
    return payload


async def total(client: TestClient, token: str) -> int:
    return (await search(client, token, "count=0"))["totalResults"]


def patch_body(*ops: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_URN], "Operations": list(ops)}


def op(name: str, path: str | None = None, value: Any = ...) -> dict[str, Any]:
    """One PATCH operation; `value` left out when not given."""
    operation: dict[str, Any] = {"op": name}
    if path is not None:
        operation["path"] = path
    if value is not ...:
        operation["value"] = value
    return operation


async def assert_scim_error(
    response: ClientResponse, status: int, scim_type: str | None = None, mentions: str | None = None
) -> dict:
    """The response is an RFC 7644 error with this status (as a string in the body) and scimType."""
    assert status == response.status, await response.text()
    assert SCIM_CONTENT_TYPE == response.headers["Content-Type"]
    payload = await response.json()
    assert [ERROR_URN] == payload["schemas"]
    assert str(status) == payload["status"]
    assert scim_type == payload.get("scimType")
    assert isinstance(payload["detail"], str) and payload["detail"]
    if mentions is not None:
        assert mentions.lower() in payload["detail"].lower(), payload["detail"]
    return payload
