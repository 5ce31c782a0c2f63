"""
What group requests cost the brig backend in the gateway's own database (its mirror of the groups,
gateway/backend/brig/group_mirror.py), counted with SQLite's progress handler and trace callback as
test_group_costs.py does for the embedded backend. Wire's internal API replaces a member list only
whole, so one member change reads the mirror's list once (to send it) and writes one row.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from conftest import TEAM, auth
from gateway.backend.brig import group_mirror as brig_group_state
from gateway.backend.sql.groups import group_version
from gateway.backend.wire_group import WireGroup
from gateway.clock import now_text
from group_calls import GROUPS, create_group, group_body, members, new_users, patched_group
from scim_calls import op
from test_group_costs import BIG, SMALL, _db, about_the_same, sql_work, statements

pytestmark = [pytest.mark.backends("brig"), pytest.mark.sqlite_store]  # counts SQLite's own work


async def _bulk_groups(client: TestClient, count: int) -> None:
    """`count` member-less groups in the mirror alone (a list page never asks brig)."""
    now = now_text()
    groups = [
        WireGroup(id=str(uuid.uuid4()), team=TEAM, display_name=f"g{n}", external_id=None, created=now,
                  last_modified=now, version=group_version(1), member_count=0, members=())
        for n in range(count)
    ]  # fmt: skip
    await _db(client).write(lambda conn: [brig_group_state.insert_group(conn, group) for group in groups])


async def test_a_group_list_page_costs_the_same_at_10_and_10000_groups(client: TestClient, token: str) -> None:
    """`GET /Groups?count=10&excludedAttributes=members` does the same SQL work at 10 and 10,000 groups."""
    url = f"{GROUPS}?startIndex=1&count=10&excludedAttributes=members"

    async def page() -> None:
        assert 200 == (await client.get(url, headers=auth(token))).status

    await _bulk_groups(client, SMALL)
    small = await sql_work(_db(client), page)
    await _bulk_groups(client, BIG - SMALL)
    big = await sql_work(_db(client), page)

    assert about_the_same(small, big), (small, big)


async def test_a_group_without_members_reads_no_membership_row(client: TestClient, token: str) -> None:
    """`excludedAttributes=members`, on one group or a list, runs no statement on brig_group_members."""
    group = await create_group(client, token, group_body("A", await new_users(client, token, 2)))

    async def reads() -> None:
        for url in (f"{GROUPS}/{group['id']}", GROUPS):
            assert 200 == (await client.get(f"{url}?excludedAttributes=members", headers=auth(token))).status

    ran = await statements(_db(client), reads)

    assert [] == [statement for statement in ran if "brig_group_members" in statement]


@pytest.mark.parametrize("change", ["add", "remove"])
async def test_one_member_change_reads_the_list_once_and_writes_one_row(
    client: TestClient, token: str, change: str
) -> None:
    """
    Adding or removing one member runs one statement that reads the whole member list (what Wire's
    PUT needs) and writes exactly one membership row; nothing else reads or rewrites the list.
    """
    ids = await new_users(client, token, 6)
    group = await create_group(client, token, group_body("A", ids[:5]))
    operation = op("add", "members", members(ids[5])) if change == "add" else op("remove", f'members[value eq "{ids[0]}"]')

    ran = await statements(_db(client), lambda: patched_group(client, token, group["id"], operation))

    on_members = [s for s in ran if "brig_group_members" in s]
    whole_reads = [s for s in on_members if s.lstrip().startswith("SELECT user_id FROM brig_group_members WHERE group_id = ") and "ORDER BY" in s]
    writes = [s for s in on_members if s.lstrip().startswith(("INSERT", "DELETE"))]
    assert (1, 1) == (len(whole_reads), len(writes)), on_members
    assert all("IN (SELECT value" in s for s in on_members if s not in whole_reads + writes), on_members


async def test_a_user_read_pays_one_indexed_membership_query(client: TestClient, token: str) -> None:
    """GET /Users/:id runs exactly one statement on brig_group_members, looked up by user_id."""
    [user] = await new_users(client, token, 1)
    await create_group(client, token, group_body("A", [user]))

    async def read() -> Any:
        assert 200 == (await client.get(f"/scim/v2/Users/{user}", headers=auth(token))).status

    ran = [s for s in await statements(_db(client), read) if "brig_group_members" in s]

    assert 1 == len(ran) and "m.user_id IN" in ran[0], ran
