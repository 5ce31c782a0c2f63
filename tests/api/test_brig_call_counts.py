"""
How many brig and galley calls each SCIM operation makes on the brig backend, counted by
brig-lite (a zero-delay fault rule on every route counts what it sees). docs/backend-calls.md
lists the same numbers next to spar's; none may exceed spar's.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from conftest import auth, user_body
from gateway.config import Config
from scim_calls import USERS, create_user, op, patch_body

pytestmark = pytest.mark.backends("brig")

# operation: (gateway's calls, spar's calls), as in docs/backend-calls.md
CALLS = {
    "create SAML user": (4, 8),
    "create invited user": (3, 9),
    "create invited user with rich info": (4, 9),
    "get": (3, 3),
    "list page of 100": (1, 100 * 4),  # spar cannot list: one filtered GET (4 calls) per user
    "put, one field changed": (7, 7),
    "patch, one field changed": (7, 10),
    "delete": (1, 2),
}


class Counter:
    """brig-lite's count of the calls it received since the last reset."""

    def __init__(self, config: Config) -> None:
        self._url = f"{config.backend.brig_url}/i/_faults"

    async def reset(self) -> None:
        async with aiohttp.ClientSession() as session:
            async with session.put(self._url, json={"rules": [{"route": "*", "status": 200}]}) as answer:
                assert 200 == answer.status

    async def count(self) -> int:
        async with aiohttp.ClientSession() as session:
            async with session.get(self._url) as answer:
                return sum((await answer.json())["fired"])


@pytest.fixture(name="calls")
async def _calls(config: Config) -> Counter:
    return Counter(config)


def test_no_operation_makes_more_calls_than_spar() -> None:
    """The table itself: the gateway never needs more calls than spar for the same operation."""
    assert [] == [name for name, (ours, spar) in CALLS.items() if ours > spar]


async def counted(calls: Counter, request: Any) -> int:
    await calls.reset()
    response = await request
    assert response.status < 300, await response.text()
    return await calls.count()


async def test_creates(client: TestClient, token: str, saml_token: str, calls: Counter) -> None:
    """
    A SAML user with an email: 4 calls; an invited user: 3, one more with rich info. The first
    create of a process also reads brig's default locale, and the first SAML create of a team its
    IdPs from spar (both kept a while): `first` counts them once.
    """
    rich = {"urn:ietf:params:scim:schemas:extension:wire:1.0:User": {"Department": "Sales"}}
    first = await counted(calls, client.post(USERS, json=user_body("first"), headers=auth(saml_token)))
    assert CALLS["create SAML user"][0] + 2 == first

    saml = await counted(calls, client.post(USERS, json=user_body("alice"), headers=auth(saml_token)))
    invited = await counted(calls, client.post(USERS, json=user_body("bob"), headers=auth(token)))
    with_rich = await counted(calls, client.post(USERS, json=user_body("carol", **rich), headers=auth(token)))

    assert (CALLS["create SAML user"][0], CALLS["create invited user"][0],
            CALLS["create invited user with rich info"][0]) == (saml, invited, with_rich)  # fmt: skip


async def test_reads_writes_and_deletes(client: TestClient, saml_token: str, calls: Counter) -> None:
    """get, a list page of 100, a PUT and a PATCH changing one field, a delete."""
    users = [await create_user(client, saml_token, user_body(f"user{i:03d}")) for i in range(100)]
    uid = users[0]["id"]
    headers = auth(saml_token)

    get = await counted(calls, client.get(f"{USERS}/{uid}", headers=headers))
    page = await counted(calls, client.get(f"{USERS}?count=100", headers=headers))
    put = await counted(calls, client.put(f"{USERS}/{uid}", json=user_body("user000", displayName="X"), headers=headers))
    patch = await counted(
        calls, client.patch(f"{USERS}/{uid}", json=patch_body(op("replace", "displayName", "Y")), headers=headers)
    )
    delete = await counted(calls, client.delete(f"{USERS}/{uid}", headers=headers))

    assert [CALLS[k][0] for k in ("get", "list page of 100", "put, one field changed",
                                  "patch, one field changed", "delete")] == [get, page, put, patch, delete]  # fmt: skip
