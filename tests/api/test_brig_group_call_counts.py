"""
How many brig calls each SCIM Group operation makes on the brig backend, counted by brig-lite, as
test_brig_call_counts.py does for users; docs/backend-calls.md ("Groups") lists the same numbers.
Wire's internal API replaces a member list only whole, so one member added is a `GET /i/users?ids=`
of that member and one `PUT /i/user-groups` carrying the list; one removed is that PUT alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from conftest import auth
from gateway.config import Config
from gateway.web.keys import BACKEND
from group_calls import GROUPS, create_group, group_body, members, new_users, patched_group
from scim_calls import USERS, op, patch_body
from test_brig_call_counts import Counter, counted

pytestmark = pytest.mark.backends("brig")

# operation: the gateway's brig calls, as in docs/backend-calls.md
CALLS = {
    "create with one member": 2,  # GET /i/users?ids=, POST /i/user-groups/full
    "get with members": 1,  # GET /i/user-groups/:tid/:gid/false
    "get without members": 0,
    "list page": 0,
    "add one member": 2,  # GET /i/users?ids= (the new member), PUT /i/user-groups (the whole list)
    "add a member again": 0,
    "remove one member": 1,  # PUT /i/user-groups (the whole list)
    "rename": 1,  # PUT /i/user-groups
    "set externalId": 0,  # Wire user groups have no externalId: the gateway keeps it
    "delete": 1,  # DELETE /i/user-groups/:tid/:gid/managed/scim
    "get a user in groups": 3,  # as any user read: the groups come from the gateway's mirror
}


@pytest.fixture(name="calls")
async def _calls(config: Config) -> Counter:
    return Counter(config)


async def test_group_operations(client: TestClient, token: str, calls: Counter) -> None:
    """Every group operation makes the number of brig calls CALLS lists, whatever the group's size."""
    ids = await new_users(client, token, 4)
    group = await create_group(client, token, group_body("A", ids[:2]))
    url, headers = f"{GROUPS}/{group['id']}", auth(token)

    def patch(*ops: dict[str, Any]) -> Any:
        return client.patch(url, json=patch_body(*ops), headers=headers)

    measured = {
        "create with one member": await counted(calls, client.post(GROUPS, json=group_body("B", ids[:1]), headers=headers)),
        "get with members": await counted(calls, client.get(url, headers=headers)),
        "get without members": await counted(calls, client.get(f"{url}?excludedAttributes=members", headers=headers)),
        "list page": await counted(calls, client.get(f"{GROUPS}?count=10", headers=headers)),
        "add one member": await counted(calls, patch(op("add", "members", members(ids[2])))),
        "add a member again": await counted(calls, patch(op("add", "members", members(ids[2])))),
        "remove one member": await counted(calls, patch(op("remove", f'members[value eq "{ids[0]}"]'))),
        "rename": await counted(calls, patch(op("replace", "displayName", "C"))),
        "set externalId": await counted(calls, patch(op("replace", "externalId", "ext"))),
        "get a user in groups": await counted(calls, client.get(f"{USERS}/{ids[1]}", headers=headers)),
        "delete": await counted(calls, client.delete(url, headers=headers)),
    }

    assert CALLS == measured


async def test_one_member_added_puts_the_whole_list_once(
    client: TestClient, saml_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    The one PUT of a member added carries the whole member list (Wire has no call for one member).
    SAML users: active members (brig takes no pending invitee, docs/backend-calls.md).
    """
    token = saml_token
    ids = await new_users(client, token, 3)
    group = await create_group(client, token, group_body("A", ids[:2]))
    brig = client.app[BACKEND]._brig  # noqa: SLF001 - the backend's BrigClient, spied on
    sent: list[tuple[str, list[str]]] = []
    put = brig.put_user_group

    async def spy(team: str, group_id: str, name: str, member_ids: Sequence[str]) -> bool:
        sent.append((name, list(member_ids)))
        return await put(team, group_id, name, member_ids)

    monkeypatch.setattr(brig, "put_user_group", spy)
    await patched_group(client, token, group["id"], op("add", "members", members(ids[2])))

    assert [("A", ids)] == sent
