"""
What group requests cost in SQL, counted, never timed (issue 6, point 4). SQLite's progress handler
counts the virtual-machine instructions every statement runs on the gateway's reader and writer
connections; an implementation that read or rewrote a whole member list (or group list) would run
thousands of times more of them for a 10,000-member group (or 10,000 groups) than for 10.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from conftest import TEAM, auth
from gateway.backend.embedded import users as embedded
from gateway.backend.embedded import groups as embedded_groups
from gateway.backend.wire_group import GroupFields, NewGroup
from gateway.backend.wire_user import NewUser, UserFields
from gateway.db.sqlite import SqliteDatabase
from gateway.provisioning.group_members import group_members
from gateway.web.keys import BACKEND, STORE
from group_calls import GROUPS, members, needs_group_backend, patch_group
from scim_calls import USERS, op

TICK = 10  # instructions per progress-handler call
BIG = 10_000
SMALL = 10

pytestmark = [
    pytest.mark.usefixtures(needs_group_backend.__name__),  # skips backends without groups
    pytest.mark.sqlite_store,  # counts SQLite's own work
]



def _db(client: TestClient) -> SqliteDatabase:
    return client.app[STORE].db  # type: ignore[attr-defined]  # the SQLite store's database


async def _bulk_users(db: SqliteDatabase, prefix: str, count: int) -> list[str]:
    """`count` users of TEAM written in one transaction (the backend's own insert, without HTTP)."""
    fields = [UserFields(handle=f"{prefix}{n}", display_name="x", external_id=f"{prefix}{n}") for n in range(count)]
    news = [NewUser(id=str(uuid.uuid4()), fields=each) for each in fields]
    await db.write(lambda conn: [embedded.insert_user(conn, TEAM, new, None) for new in news])  # noqa: SLF001
    return [new.id for new in news]


async def _bulk_group(db: SqliteDatabase, name: str, member_ids: list[str]) -> str:
    new = NewGroup(id=str(uuid.uuid4()), fields=GroupFields(display_name=name), members=tuple(member_ids))
    await db.write(lambda conn: embedded_groups.insert_group(conn, TEAM, new, group_members))  # noqa: SLF001
    return new.id


async def _bulk_groups(db: SqliteDatabase, count: int) -> None:
    news = [NewGroup(id=str(uuid.uuid4()), fields=GroupFields(display_name=f"g{n}")) for n in range(count)]
    insert = embedded_groups.insert_group  # noqa: SLF001 - bulk set-up without HTTP
    await db.write(lambda conn: [insert(conn, TEAM, new, group_members) for new in news])


async def sql_work(db: SqliteDatabase, action: Callable[[], Awaitable[Any]]) -> int:
    """How many TICKs of SQLite instructions `action` runs on both connections."""
    ticks = [0]

    def tick() -> int:
        ticks[0] += 1
        return 0

    def install(conn: sqlite3.Connection) -> None:
        conn.set_progress_handler(tick, TICK)

    def remove(conn: sqlite3.Connection) -> None:
        conn.set_progress_handler(None, 0)

    await db.read(install)
    await db.write(install)
    ticks[0] = 0
    await action()
    measured = ticks[0]
    await db.read(remove)
    await db.write(remove)
    return measured


async def statements(db: SqliteDatabase, action: Callable[[], Awaitable[Any]]) -> list[str]:
    """The statements `action` runs on every connection (the reader's, the loop's, the writer's)."""
    seen: list[str] = []

    def install(conn: sqlite3.Connection) -> None:
        conn.set_trace_callback(seen.append)

    def remove(conn: sqlite3.Connection) -> None:
        conn.set_trace_callback(None)

    for run in (db.read, db.read_point, db.write):
        await run(install)
    seen.clear()
    await action()
    for run in (db.read, db.read_point, db.write):
        await run(remove)
    return seen


def about_the_same(small: int, big: int) -> bool:
    """Costs that do not grow with the data: within twice the small one, plus B-tree depth."""
    return big <= 2 * small + 10


@pytest.fixture(name="sized_groups")
async def _sized_groups(client: TestClient, token: str) -> dict[str, Any]:
    """A 10-member and a 10,000-member group, and two users in neither."""
    db = _db(client)
    users = await _bulk_users(db, "m", BIG)
    outsiders = await _bulk_users(db, "x", 2)
    return {
        "small": await _bulk_group(db, "small", users[:SMALL]), "big": await _bulk_group(db, "big", users),
        "outsiders": outsiders, "member": users[SMALL // 2],
    }  # fmt: skip


async def test_adding_one_member_costs_the_same_at_10_and_10000_members(
    client: TestClient, token: str, sized_groups: dict[str, Any]
) -> None:
    """PATCH adding one member does the same SQL work whether the group has 10 or 10,000 members."""
    db, outsiders = _db(client), sized_groups["outsiders"]

    async def add(group: str, user: str) -> None:
        response = await patch_group(client, token, sized_groups[group], op("add", "members", members(user)))
        assert 204 == response.status

    small = await sql_work(db, lambda: add("small", outsiders[0]))
    big = await sql_work(db, lambda: add("big", outsiders[1]))

    assert about_the_same(small, big), (small, big)


async def test_adding_one_member_costs_the_same_in_a_team_of_10_and_10000_users(
    client: TestClient, token: str
) -> None:
    """
    The membership check looks each new member up by id, whatever the team's size (it once
    walked the team's users: 20 ms per PATCH at 100k users in the benchmark).
    """
    db = _db(client)
    users = await _bulk_users(db, "m", SMALL + 2)
    group = await _bulk_group(db, "g", users[:SMALL])

    async def add(user: str) -> None:
        response = await patch_group(client, token, group, op("add", "members", members(user)))
        assert 204 == response.status

    small = await sql_work(db, lambda: add(users[SMALL]))
    await _bulk_users(db, "t", BIG)
    big = await sql_work(db, lambda: add(users[SMALL + 1]))

    assert about_the_same(small, big), (small, big)


@pytest.mark.parametrize("dialect", ["filter", "entra"])
async def test_removing_one_member_costs_the_same_at_10_and_10000_members(
    client: TestClient, token: str, sized_groups: dict[str, Any], dialect: str
) -> None:
    """PATCH removing one member (filtered path or Entra's value list) costs the same at any size."""
    db, member = _db(client), sized_groups["member"]
    if dialect == "filter":
        operation = op("remove", f'members[value eq "{member}"]')
    else:
        operation = op("remove", "members", members(member))

    async def remove(group: str) -> None:
        response = await patch_group(client, token, sized_groups[group], operation)
        assert 204 == response.status

    small = await sql_work(db, lambda: remove("small"))
    big = await sql_work(db, lambda: remove("big"))

    assert about_the_same(small, big), (small, big)


async def test_a_group_without_members_reads_no_membership_row(
    client: TestClient, token: str, sized_groups: dict[str, Any]
) -> None:
    """`excludedAttributes=members`, on one group or a list, runs no statement on group_members."""
    db = _db(client)

    async def reads() -> None:
        for url in (f"{GROUPS}/{sized_groups['big']}", GROUPS):
            url += "?excludedAttributes=members"
            assert 200 == (await client.get(url, headers=auth(token))).status

    ran = await statements(db, reads)

    assert [] == [statement for statement in ran if "group_members" in statement]


async def test_a_group_list_page_costs_the_same_at_10_and_10000_groups(
    client: TestClient, token: str
) -> None:
    """`GET /Groups?count=10&excludedAttributes=members` does the same SQL work at 10 and 10,000 groups."""
    db = _db(client)
    url = f"{GROUPS}?startIndex=1&count=10&excludedAttributes=members"

    async def page() -> None:
        assert 200 == (await client.get(url, headers=auth(token))).status

    await _bulk_groups(db, SMALL)
    small = await sql_work(db, page)
    await _bulk_groups(db, BIG - SMALL)
    big = await sql_work(db, page)

    assert about_the_same(small, big), (small, big)


async def test_a_user_read_pays_one_indexed_membership_query(
    client: TestClient, token: str, sized_groups: dict[str, Any]
) -> None:
    """
    GET /Users/:id is one statement: the user's stored document, and its groups by the user_id
    index of group_members in a subquery. With ?attributes= (rendered, not the stored document)
    it runs exactly one statement on group_members, looked up by user_id.
    """
    db = _db(client)
    url = f"{USERS}/{sized_groups['member']}"
    # the fixture wrote its users without documents: store them, as the start-up refresh would
    await db.write(lambda conn: conn.execute("DELETE FROM user_documents_refreshed"))
    assert await client.app[BACKEND].refresh_documents() > 0  # type: ignore[attr-defined]

    async def read() -> None:
        response = await client.get(url, headers=auth(token))
        assert 200 == response.status
        assert (await response.json())["groups"]

    async def read_rendered() -> None:
        response = await client.get(url, params={"attributes": "groups"}, headers=auth(token))
        assert 200 == response.status
        assert (await response.json())["groups"]

    ran = [s for s in await statements(db, read) if "users" in s or "groups" in s]  # not the token's
    assert 1 == len(ran), ran
    assert " AND id = " in ran[0]
    assert "WHERE m.user_id = users.id" in ran[0]

    ran = [statement for statement in await statements(db, read_rendered) if "group_members" in statement]
    assert 1 == len(ran)
    assert "m.user_id = " in ran[0]


async def test_a_lookup_by_username_is_one_statement_without_page_or_count(
    client: TestClient, token: str, sized_groups: dict[str, Any]
) -> None:
    """`userName eq` (a unique attribute): one statement by the handle index, no window, no count."""
    db = _db(client)
    await db.write(lambda conn: conn.execute("DELETE FROM user_documents_refreshed"))
    assert await client.app[BACKEND].refresh_documents() > 0  # type: ignore[attr-defined]
    user = await (await client.get(f"{USERS}/{sized_groups['member']}", headers=auth(token))).json()

    async def lookup() -> None:
        params = {"filter": f'userName eq "{user["userName"]}"'}
        response = await client.get(USERS, params=params, headers=auth(token))
        assert 200 == response.status
        assert 1 == (await response.json())["totalResults"]

    ran = [s for s in await statements(db, lookup) if "users" in s or "groups" in s]  # not the token's
    assert 1 == len(ran), ran
    assert "(handle = " in ran[0] and "WHERE m.user_id = users.id" in ran[0]
    assert "LIMIT" not in ran[0] and "count(" not in ran[0]


async def test_a_lookup_with_an_unknown_sort_attribute_is_still_refused(client: TestClient, token: str) -> None:
    """sortBy is checked whatever the filter: no shortcut skips it."""
    params = {"filter": 'userName eq "nobody"', "sortBy": "bogus"}
    response = await client.get(USERS, params=params, headers=auth(token))
    assert 400 == response.status, await response.text()
