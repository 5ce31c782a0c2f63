"""Building blocks shared by the /Groups API tests: bodies, calls that must succeed, member ids."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from conftest import auth, user_body
from gateway.web.keys import BACKEND
from scim_calls import create_user, patch_body

GROUPS = "/scim/v2/Groups"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
# Entra adds this to `schemas` on POST /Groups (docs/clients.md §1.8, ENTRA-G1).
MS_GROUP_URN = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"


@pytest.fixture(name="needs_group_backend")
def needs_group_backend(client: TestClient) -> None:
    """Skip where the app's backend has no groups (both backends have them; kept for test_group_costs)."""
    if not hasattr(client.app[BACKEND], "edit_group"):
        pytest.skip("this backend does not implement groups yet")


def group_body(
    display_name: str = "Engineering", members: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"schemas": [GROUP_URN], "displayName": display_name, **extra}
    if members is not None:
        body["members"] = [{"value": member} for member in members]
    return body


async def create_group(client: TestClient, token: str, body: dict[str, Any] | None = None, **kw: Any) -> dict:
    """POST a group (default: group_body(**kw)) and return the 201 body."""
    body = body if body is not None else group_body(**kw)
    response = await client.post(GROUPS, json=body, headers=auth(token))
    payload = await response.json()
    assert 201 == response.status, payload
    return payload


async def get_group(client: TestClient, token: str, group_id: str, query: str = "") -> dict:
    response = await client.get(f"{GROUPS}/{group_id}{'?' + query if query else ''}", headers=auth(token))
    payload = await response.json()
    assert 200 == response.status, payload
    return payload


async def list_groups(client: TestClient, token: str, query: str = "") -> dict:
    """GET /Groups?<query> (already encoded) that must answer 200; returns the ListResponse."""
    response = await client.get(f"{GROUPS}?{query}", headers=auth(token))
    payload = await response.json()
    assert 200 == response.status, payload
    return payload


async def patch_group(
    client: TestClient, token: str, group_id: str, *ops: dict[str, Any], **headers: str
) -> ClientResponse:
    return await client.patch(f"{GROUPS}/{group_id}", json=patch_body(*ops), headers=auth(token, **headers))


async def patched_group(client: TestClient, token: str, group_id: str, *ops: dict[str, Any]) -> None:
    """A PATCH that must answer 204 No Content."""
    response = await patch_group(client, token, group_id, *ops)
    assert 204 == response.status, await response.text()


async def members_of(client: TestClient, token: str, group_id: str) -> list[str]:
    """The member ids GET /Groups/:id shows, in its order."""
    return [member["value"] for member in (await get_group(client, token, group_id)).get("members", [])]


async def new_users(client: TestClient, token: str, count: int, prefix: str = "member") -> list[str]:
    """Create `count` users of the token's team; their ids, sorted (the order groups list members)."""
    ids = [(await create_user(client, token, user_body(f"{prefix}{n}")))["id"] for n in range(count)]
    return sorted(ids)


def members(*user_ids: str) -> list[dict[str, Any]]:
    """A `members` value as Entra sends it: `$ref` null, no type."""
    return [{"$ref": None, "value": user_id} for user_id in user_ids]
