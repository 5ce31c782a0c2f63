"""
List pages made of stored user documents (gateway/backend/embedded/documents.py) are byte for byte
the pages that rendering each user gives: after every kind of user and group write, for every
list shape, with stale and missing documents, on both stores (SCIM_GATEWAY_TEST_STORE=postgres).
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from aiohttp.test_utils import TestClient

from conftest import TEAM, auth, new_token, user_body
from gateway.backend.wire_user import UserQuery
from gateway.provisioning.users import UserService
from gateway.scim.filter.grammar import parse_filter
from gateway.scim.schemas import list_response
from gateway.web.keys import BACKEND, STORE
from gateway.web.keys import USERS as USER_SERVICE
from group_calls import create_group, members, patched_group
from scim_calls import USERS, create_user, op, patched

PROFILE_URN = "urn:wire:scim:schemas:profile:1.0"
MAP_URN = "urn:ietf:params:scim:schemas:extension:wire:1.0:User"

# The list shapes IdPs send: whole team pages (Okta), filters (Entra), sorting, deep pages.
QUERIES = (
    "",
    "count=2",
    "startIndex=2&count=2",
    "startIndex=4&count=3",
    "count=0",
    "startIndex=50",
    "sortBy=userName&sortOrder=descending",
    "sortBy=meta.lastModified",
    "filter=" + quote('userName sw "u"'),
    "filter=" + quote('displayName co "ü" or active eq false'),
    "filter=" + quote('externalId eq "nobody"'),
    # one user at most (a unique attribute, eq): one statement, no page window (embedded/backend.py)
    "filter=" + quote('userName eq "u.one"'),
    "filter=" + quote('USERNAME eq "U.One"'),
    "filter=" + quote('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "vier"'),
    "filter=" + quote('externalId eq "u_two@example.com"') + "&startIndex=1&count=100",
    "filter=" + quote('userName eq "u.one"') + "&startIndex=2",
    "filter=" + quote('userName eq "u.one"') + "&count=0",
    "filter=" + quote('userName eq "u.one"') + "&sortBy=displayName",
)


async def _list_bytes(client: TestClient, token: str, query: str) -> bytes:
    response = await client.get(f"{USERS}?{query}", headers=auth(token))
    assert 200 == response.status, await response.text()
    assert "application/scim+json; charset=utf-8" == response.headers["Content-Type"]
    return await response.read()


async def _rendered_list(
    client: TestClient, token: str, query: str, monkeypatch: pytest.MonkeyPatch
) -> bytes:
    """The same list with the documents turned off: each user rendered (the reference)."""

    async def no_documents(*args: Any, **kwargs: Any) -> None:
        return None

    with monkeypatch.context() as patch:
        patch.setattr(UserService, "search_page", no_documents)
        return await _list_bytes(client, token, query)


async def _rendered_user(client: TestClient, token: str, user_id: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """GET /Users/<id> with the documents turned off: the user rendered (the reference)."""
    with monkeypatch.context() as patch:
        patch.setattr(UserService, "get_serialised", lambda *a, **k: _none())
        response = await client.get(f"{USERS}/{user_id}", headers=auth(token))
        await response.read()
        return response


async def _assert_documents_render_as_users(
    client: TestClient, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for query in QUERIES:
        from_documents = await _list_bytes(client, token, query)
        assert await _rendered_list(client, token, query, monkeypatch) == from_documents, query
        page = orjson.loads(from_documents)
        one_by_one = []  # and each resource is what GET /Users/<id> answers for that user
        for resource in page["Resources"]:
            response = await client.get(f"{USERS}/{resource['id']}", headers=auth(token))
            one_by_one.append(await response.json())
            rendered = await _rendered_user(client, token, resource["id"], monkeypatch)
            assert (rendered.headers["ETag"], await rendered.read()) == (response.headers["ETag"], await response.read())
        expected = list_response(one_by_one, total=page["totalResults"], start_index=page["startIndex"])
        assert orjson.dumps(expected) == from_documents, query


async def _varied_team(client: TestClient, token: str) -> list[str]:
    """Users as different as SCIM lets them be, changed by every kind of write."""
    ids = []
    for n, name in enumerate(("u.one", "u_two", "u-three", "vier", "ü")):
        body = user_body(
            name if name != "ü" else "uuml",
            displayName=f"Dïsplay {name} \"quoted\" \\ {n}",
            name={"givenName": f"Given{n}", "familyName": "Family"} if n % 2 else None,
            emails=None if n == 3 else [{"value": f"{n}@example.com", "type": "work", "primary": True}],
            preferredLanguage="de" if n == 1 else None,
            roles=[{"value": "admin"}] if n == 2 else None,
        )
        if n == 1:
            body["schemas"] = [*body["schemas"], PROFILE_URN]
            body[PROFILE_URN] = {"richInfo": {"version": 0, "fields": [{"type": "Department", "value": "R&D"}]}}
        if n == 4:
            body["schemas"] = [*body["schemas"], MAP_URN]
            body[MAP_URN] = {"Role": "Lead \u2603"}
        ids.append((await create_user(client, token, body))["id"])
    await patched(client, token, ids[0], op("replace", "displayName", "Renamed One"))
    await patched(client, token, ids[2], op("replace", "active", False))
    await client.app[USER_SERVICE].accept_invitation(TEAM, ids[3])
    response = await client.put(
        f"{USERS}/{ids[4]}", json=user_body("uuml", displayName="Put Ü"), headers=auth(token)
    )
    assert 200 == response.status, await response.text()
    response = await client.delete(f"{USERS}/{ids[1]}", headers=auth(token))
    assert 204 == response.status
    del ids[1]
    # groups: several per user, a rename, a removed member, a deleted group
    first = await create_group(client, token, displayName="Zeta", members=ids[:3])
    second = await create_group(client, token, displayName="alpha", members=ids[1:])
    doomed = await create_group(client, token, displayName="Doomed", members=ids)
    await patched_group(client, token, first["id"], op("replace", "displayName", "Éta"))
    await patched_group(client, token, second["id"], {"op": "Remove", "path": "members", "value": members(ids[3])})
    await patched_group(client, token, second["id"], {"op": "Add", "path": "members", "value": members(ids[0])})
    replaced = await create_group(client, token, displayName="replaced", members=ids[:2])
    await patched_group(client, token, replaced["id"], op("replace", "members", members(ids[1], ids[2])))
    response = await client.put(
        f"/scim/v2/Groups/{replaced['id']}",
        json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Replaced",
              "members": [{"value": ids[2]}, {"value": ids[3]}]},  # fmt: skip
        headers=auth(token),
    )
    assert 200 == response.status, await response.text()
    response = await client.delete(f"/scim/v2/Groups/{doomed['id']}", headers=auth(token))
    assert 204 == response.status
    gone = await create_user(client, token, user_body("gone"))  # a member deleted with its groups
    await patched_group(client, token, first["id"], {"op": "Add", "path": "members", "value": members(gone["id"])})
    response = await client.delete(f"{USERS}/{gone['id']}", headers=auth(token))
    assert 204 == response.status
    assert await _member_of_agrees(client)
    return ids


async def _member_of_agrees(client: TestClient) -> bool:
    """users.member_of lists each user's group_members rows, once each (and some user has groups)."""

    def read(conn: Any) -> tuple[list[Any], list[Any]]:
        users = conn.execute("SELECT id, member_of FROM users").fetchall()
        rows = conn.execute("SELECT user_id, group_id FROM group_members").fetchall()
        return users, rows

    users, rows = await client.app[STORE].db.read(read)
    memberships: dict[str, list[str]] = {}
    for user_id, group_id in rows:
        memberships.setdefault(user_id, []).append(group_id)
    kept = {user_id: sorted(member_of.split(",")) if member_of else [] for user_id, member_of in users}
    return bool(rows) and kept == {user_id: sorted(memberships.get(user_id, [])) for user_id in kept}


async def _stale_rows(client: TestClient) -> int:
    """Users whose stored document is not current (gateway/backend/embedded/documents.py)."""
    key = client.app[BACKEND]._documents.key  # noqa: SLF001
    return await client.app[STORE].db.read(
        lambda conn: conn.execute(
            "SELECT count(*) FROM users WHERE document IS NULL OR document_key IS NULL OR document_key <> ? "
            "OR document_stamp IS NULL OR document_stamp <> version || ' ' || last_modified",  # as older releases
            (key,),
        ).fetchone()[0]
    )


async def test_list_pages_are_the_users_rendered_one_by_one(
    client: TestClient, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _varied_team(client, token)
    assert 0 == await _stale_rows(client)  # every write stored its document: none rendered on read
    await _assert_documents_render_as_users(client, token, monkeypatch)


async def test_the_location_follows_the_request_base_path(
    client: TestClient, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/scim and /scim/v2 (and the Host) give each their own locations and group $refs."""
    await _varied_team(client, token)
    for base in ("/scim", "/scim/v2"):
        for host in ("gateway.example.com", "wire.example.org:8443"):
            headers = auth(token, Host=host)
            response = await client.get(f"{base}/Users", headers=headers)
            body = await response.read()
            with monkeypatch.context() as patch:
                patch.setattr(UserService, "search_page", lambda *a, **k: _none())
                reference = await (await client.get(f"{base}/Users", headers=headers)).read()
            assert reference == body
            assert f"{host}{base}/Users/".encode() in body
            assert f"{host}{base}/Groups/".encode() in body


async def _none() -> None:
    return None


async def test_missing_and_stale_documents_are_rendered_and_then_refreshed(
    client: TestClient, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows of older code (another key) or from before documents (NULL) list right, then get fixed."""
    ids = await _varied_team(client, token)
    db = client.app[STORE].db
    await db.write(lambda conn: conn.execute("UPDATE users SET document = NULL, document_key = NULL WHERE id = ?", (ids[0],)))
    await db.write(
        lambda conn: conn.execute(
            "UPDATE users SET document = '{\"stale\":true}', document_key = 'old' WHERE id = ?", (ids[1],)
        )
    )
    await _assert_documents_render_as_users(client, token, monkeypatch)
    backend = client.app[BACKEND]
    assert 0 == await backend.refresh_documents()  # the start-up refresh went through every row already
    await db.write(lambda conn: conn.execute("DELETE FROM user_documents_refreshed"))  # as under a new key
    assert 2 == await _stale_rows(client)
    assert 2 == await backend.refresh_documents(batch=2)
    assert 0 == await _stale_rows(client)
    await db.write(lambda conn: conn.execute("UPDATE users SET document_key = 'old' WHERE id = ?", (ids[2],)))
    assert 0 == await backend.refresh_documents()  # once per key: not walked again at each start
    await _assert_documents_render_as_users(client, token, monkeypatch)


async def test_projection_still_renders_each_user(client: TestClient, token: str) -> None:
    """attributes/excludedAttributes are not served from documents."""
    await _varied_team(client, token)
    response = await client.get(f"{USERS}?attributes=userName", headers=auth(token))
    page = await response.json()
    assert all(set(r) == {"schemas", "id", "userName"} for r in page["Resources"]), page
    response = await client.get(f"{USERS}?excludedAttributes=groups,meta", headers=auth(token))
    page = await response.json()
    assert page["Resources"] and not any("groups" in r or "meta" in r for r in page["Resources"])


async def test_other_teams_documents_are_not_listed(client: TestClient, token: str) -> None:
    await create_user(client, token, user_body("mine"))
    other = await new_token(client, "0c2f0a8e-5c0e-4b8e-9d1f-3a2b1c0d9e8f")
    await create_user(client, other, user_body("theirs"))
    page = orjson.loads(await _list_bytes(client, token, ""))
    assert ["mine"] == [r["userName"] for r in page["Resources"]]


async def test_a_start_refreshes_the_documents_of_another_key(
    client: TestClient, token: str, make_client: Any
) -> None:
    """The documents of an older release are rewritten by the next start, in the background."""
    await _varied_team(client, token)
    db = client.app[STORE].db
    await db.write(lambda conn: conn.execute("UPDATE users SET document_key = 'older release'"))
    await db.write(lambda conn: conn.execute("DELETE FROM user_documents_refreshed"))
    assert 4 == await _stale_rows(client)
    restarted = await make_client()
    for _ in range(200):
        if 0 == await _stale_rows(restarted):
            break
        await asyncio.sleep(0.02)
    assert 0 == await _stale_rows(restarted)


async def test_rows_written_by_an_older_release_list_as_they_are(
    client: TestClient, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    A replica of the previous release (rolling upgrade) writes users without their documents and
    memberships without member_of: lists show what it wrote, not the documents left behind.
    """
    ids = await _varied_team(client, token)
    db = client.app[STORE].db
    group_id = (await create_group(client, token, displayName="Newer"))["id"]

    def older_release(conn: Any) -> None:
        conn.execute(
            "UPDATE users SET display_name = 'Written By The Old Release', version = 'W/\"old\"' WHERE id = ?",
            (ids[0],),
        )
        conn.execute(  # suspended and active again: the version is back, lastModified is not
            "UPDATE users SET last_modified = '2030-01-02T03:04:05.000Z' WHERE id = ?", (ids[3],)
        )
        conn.execute("INSERT INTO group_members (group_id, user_id) VALUES (?, ?)", (group_id, ids[1]))
        conn.execute("DELETE FROM group_members WHERE user_id = ? AND group_id <> ?", (ids[2], group_id))

    await db.write(older_release)
    assert await _member_of_agrees(client)
    await _assert_documents_render_as_users(client, token, monkeypatch)
    page = orjson.loads(await _list_bytes(client, token, ""))
    by_id = {r["id"]: r for r in page["Resources"]}
    assert "Written By The Old Release" == by_id[ids[0]]["displayName"]
    assert "2030-01-02T03:04:05.000Z" == by_id[ids[3]]["meta"]["lastModified"]
    assert group_id in {g["value"] for g in by_id[ids[1]]["groups"]}
    assert "groups" not in by_id[ids[2]]


async def test_a_lookup_by_a_unique_attribute_finds_its_one_user(client: TestClient, token: str) -> None:
    """`userName eq`, `externalId eq` and `id eq` (any case of the name) answer the one user, or none."""
    ids = await _varied_team(client, token)
    user = await (await client.get(f"{USERS}/{ids[0]}", headers=auth(token))).json()
    for text in (
        f'userName eq "{user["userName"]}"',
        f'UserName eq "{user["userName"].upper()}"',
        f'externalId eq "{user["externalId"]}"',
        f'id eq "{ids[0]}"',
    ):
        page = orjson.loads(await _list_bytes(client, token, "filter=" + quote(text)))
        assert (1, [ids[0]]) == (page["totalResults"], [r["id"] for r in page["Resources"]]), text
    other = await new_token(client, team="7e4c0000-0000-4000-8000-00000000beef")
    page = orjson.loads(await _list_bytes(client, other, "filter=" + quote(f'id eq "{ids[0]}"')))
    assert 0 == page["totalResults"]  # another team's user is not found


async def test_lookups_that_share_a_snapshot_name_each_users_groups_as_a_lookup_alone_does(
    client: TestClient, token: str
) -> None:
    """
    Inside `reads_together` (a round of the fast lane) a lookup names its user's groups from the
    row's `member_of`, once per snapshot, instead of reading them with the user: the same
    groups in the same order, for users in no, one and several groups, by id and by filter.
    """
    ids = [*await _varied_team(client, token), (await create_user(client, token, user_body("alone")))["id"]]
    backend, db = client.app[BACKEND], client.app[STORE].db
    names = [(await (await client.get(f"{USERS}/{uid}", headers=auth(token))).json())["userName"] for uid in ids]
    by_name = [UserQuery(filter=parse_filter(f'userName eq "{name}"')) for name in names]

    async def lookups() -> list[Any]:
        found = [await backend.user_document(TEAM, uid) for uid in ids]
        return found + [await backend.search_user_documents(TEAM, query) for query in by_name]

    alone = await lookups()
    with db.reads_together():
        together = await lookups()
        twice = await lookups()  # the second time from what the first kept
        kept = await db.read_point(lambda conn: conn.snapshot_memo)

    assert kept or db.dialect.name == "postgres"  # (PostgreSQL: a snapshot per statement, nothing kept)
    assert {len(document[1]) for document, _ in alone[: len(ids)]} >= {0, 1, 2}  # none, one, several groups
    assert alone == together == twice
