"""
The brig backend where brig fails half-way through a write (issue 16): an externalId change whose
`sso-id` or `handle` PUT fails leaves the externalId index as brig holds it, and a retry of the
same PUT converges; a group create whose answer is lost leaves exactly one group once the IdP has
retried.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from conftest import SAML_TEAM, TEAM, auth, user_body
from gateway.config import Config
from group_calls import GROUPS, group_body, list_groups
from scim_calls import USERS, create_user, get_user

pytestmark = pytest.mark.backends("brig")

E1, E2 = "bjensen@example.com", "barbara@example.com"


async def brig_lite(config: Config, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session:
        async with session.request(method, f"{config.backend.brig_url}{path}", json=body) as answer:
            return answer.status, await answer.json(content_type=None)


async def faults(config: Config, *rules: dict[str, Any]) -> None:
    assert 200 == (await brig_lite(config, "PUT", "/i/_faults", {"rules": list(rules)}))[0]


async def post_user(client: TestClient, token: str, user_name: str, external_id: str) -> int:
    body = user_body(user_name, externalId=external_id, emails=None)
    return (await client.post(USERS, json=body, headers=auth(token))).status


class TestExternalIdChangeUnderBrigFailure:
    @pytest.mark.parametrize(
        ("route", "after", "held", "user_name"),
        [
            ("PUT /i/users/*/sso-id", False, E1, "bjensen"),  # failed before the work: brig still holds E1
            ("PUT /i/users/*/sso-id", True, E2, "bjensen"),  # the work was done, the answer lost: E2
            ("PUT /i/users/*/handle", False, E1, "barbara"),  # the handle failed first: no sso-id sent
        ],
        ids=["sso-id-5xx", "sso-id-answer-lost", "handle-5xx"],
    )
    async def test_the_index_follows_brig_and_a_retried_put_converges(
        self, client: TestClient, token: str, config: Config, route: str, after: bool, held: str, user_name: str
    ) -> None:
        """After the failed PUT E1 -> E2 the index holds what brig holds; a retry of the PUT answers 200."""
        user = await create_user(client, token, user_body(externalId=E1, emails=None))
        renamed = user_body(user_name, externalId=E2, emails=None)
        await faults(config, {"route": route, "status": 500, "after": after, "times": 1})

        failed = await client.put(f"{USERS}/{user['id']}", json=renamed, headers=auth(token))
        assert failed.status >= 500, await failed.json()
        await faults(config)

        assert held == (await get_user(client, token, user["id"]))["externalId"]
        free = E2 if held == E1 else E1
        assert 409 == await post_user(client, token, "intruder", held)  # no second user with one externalId

        retried = await client.put(f"{USERS}/{user['id']}", json=renamed, headers=auth(token))
        assert (200, E2) == (retried.status, (await retried.json())["externalId"])
        assert 409 == await post_user(client, token, "second", E2)
        assert 201 == await post_user(client, token, "third", E1), f"{free} was not freed"


class TestGroupCreateWhoseAnswerIsLost:
    @pytest.mark.parametrize(
        "rules",
        [
            [{"route": "POST /i/user-groups/full", "status": 500, "after": True, "times": 1}],
            [{"route": "POST /i/user-groups/full", "status": 0, "after": True, "times": 1}],
            [  # the look-up after the lost answer fails too: the IdP's retry settles it
                {"route": "POST /i/user-groups/full", "status": 500, "after": True, "times": 1},
                {"route": f"GET /i/user-groups/{TEAM}", "status": 503, "times": 1},
            ],
        ],
        ids=["5xx-after-the-work", "dropped-after-the-work", "look-up-fails-too"],
    )
    @pytest.mark.parametrize("external_id", [None, "eng-1"], ids=["no-externalId", "externalId"])
    async def test_a_retried_create_leaves_exactly_one_group(
        self, client: TestClient, saml_token: str, config: Config, rules: list[dict[str, Any]], external_id: str | None
    ) -> None:
        """The IdP retries until it gets 201: brig-lite and SCIM then hold one group, with its members (active SAML users)."""
        token = saml_token
        members = [(await create_user(client, token, user_body(f"m{n}", emails=None)))["id"] for n in range(2)]
        body = group_body("Engineering", members, **({"externalId": external_id} if external_id else {}))
        await faults(config, *rules)

        statuses = []
        for _ in range(3):  # the IdP retries what failed
            response = await client.post(GROUPS, json=body, headers=auth(token))
            statuses.append(response.status)
            if response.status in (201, 409):
                break
        await faults(config)

        assert 201 == statuses[-1], statuses
        _, in_brig = await brig_lite(config, "GET", f"/i/user-groups/{SAML_TEAM}?managedBy=scim&startIndex=0")
        assert 1 == in_brig["total"], (statuses, in_brig)
        assert sorted(members) == sorted(in_brig["page"][0]["members"])
        listed = await list_groups(client, token)
        assert (1, in_brig["page"][0]["id"]) == (listed["totalResults"], listed["Resources"][0]["id"])
