"""GET /Users: listing, paging, sorting, attribute projection and the filter language."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timedelta, timezone
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from aiohttp.test_utils import TestClient

from conftest import auth, new_token, user_body
from gateway.config import Config
from scim_calls import (
    LIST_URN,
    MAP_URN,
    PROFILE_URN,
    USERS,
    assert_scim_error,
    create_user,
    op,
    patched,
    search,
)

pytestmark = pytest.mark.backends("embedded", "brig")

# userName → (overrides); created in this order, a few milliseconds apart.
PEOPLE: dict[str, dict[str, Any]] = {
    "alice": {
        "externalId": "Alice@Example.com", "displayName": "Zed Alice", "roles": ["admin"],
        "emails": [{"value": "alice@example.com", "type": "work", "primary": True}],
    },
    "bob": {
        "externalId": "bob-ext", "displayName": "yann Bob", "active": False,
        "emails": [{"value": "bob@example.org", "type": "home"}],
    },
    "carol": {
        "externalId": "carol@example.com", "displayName": "Xavier", "roles": ["owner"],
        "name": {"givenName": "Carol", "familyName": "Clark"}, **{MAP_URN: {"Department": "Sales"}},
    },
    "dave": {"externalId": "dave", "displayName": "walt", "emails": None, "preferredLanguage": "de"},
    "erin": {
        "externalId": "ERIN", "displayName": "Victor",
        "emails": [{"value": "erin@EXAMPLE.com", "type": "work"}],
    },
}  # fmt: skip
EVERYONE = list(PEOPLE)


@pytest.fixture(name="people")
async def _people(client: TestClient, saml_token: str) -> dict[str, dict]:
    """The five users of PEOPLE in the SAML team, by userName."""
    created = {}
    for name, overrides in PEOPLE.items():
        created[name] = await create_user(client, saml_token, user_body(name, **overrides))
        await asyncio.sleep(0.003)  # distinct meta.created values
    return created


def q(filter_text: str) -> str:
    """A filter as a query string, form-encoded like Entra's (spaces as '+')."""
    return "filter=" + quote_plus(filter_text)


def names(listing: dict) -> list[str]:
    return [resource["userName"] for resource in listing["Resources"]]


# --- listing and paging --------------------------------------------------------------------------


async def test_list_without_filter_returns_the_team_in_creation_order(
    client: TestClient, saml_token: str, people: dict
) -> None:
    """GET /Users without filter is a ListResponse of the whole team with integer paging fields."""
    listing = await search(client, saml_token, "")
    assert [LIST_URN] == listing["schemas"]
    assert (5, 5, 1) == (listing["totalResults"], listing["itemsPerPage"], listing["startIndex"])
    assert EVERYONE == names(listing)
    assert people["alice"] == listing["Resources"][0]


async def test_list_of_an_empty_team_is_an_empty_list_response(client: TestClient, token: str) -> None:
    """A team without users answers 200 with totalResults 0 and no resources."""
    listing = await search(client, token, "")
    empty = {"schemas": [LIST_URN], "totalResults": 0, "itemsPerPage": 0, "startIndex": 1, "Resources": []}
    assert empty == listing


@pytest.mark.parametrize(
    "query, expected, start",
    [
        ("startIndex=1&count=2", ["alice", "bob"], 1),
        ("startIndex=2&count=2", ["bob", "carol"], 2),
        ("startIndex=5&count=2", ["erin"], 5),
        ("startIndex=6&count=2", [], 6),
        ("startIndex=100", [], 100),
        ("startIndex=0&count=1", ["alice"], 1),
        ("startIndex=-4&count=1", ["alice"], 1),
        ("count=3", ["alice", "bob", "carol"], 1),
        ("count=-1", [], 1),
        ("startIndex=&count=", EVERYONE, 1),
    ],
)
async def test_paging_with_start_index_and_count(
    client: TestClient, saml_token: str, people: dict, query: str, expected: list[str], start: int
) -> None:
    """startIndex is 1-based (below 1 means 1), count caps the page; totalResults counts everyone."""
    listing = await search(client, saml_token, query)
    assert expected == names(listing)
    assert (5, len(expected), start) == (
        listing["totalResults"], listing["itemsPerPage"], listing["startIndex"]
    )


async def test_count_zero_returns_only_the_total(client: TestClient, saml_token: str, people: dict) -> None:
    """count=0 answers totalResults and no resources."""
    listing = await search(client, saml_token, "count=0")
    assert (5, 0, []) == (listing["totalResults"], listing["itemsPerPage"], listing["Resources"])
    filtered = await search(client, saml_token, q("active eq true") + "&count=0")
    assert (4, []) == (filtered["totalResults"], filtered["Resources"])


async def test_paging_a_filter_counts_all_matches(client: TestClient, saml_token: str, people: dict) -> None:
    """With a filter, totalResults counts every match, not only the page."""
    listing = await search(client, saml_token, q("active eq true") + "&startIndex=2&count=2")
    assert (4, ["carol", "dave"]) == (listing["totalResults"], names(listing))


async def test_paging_through_all_pages_sees_everyone_once(
    client: TestClient, saml_token: str, people: dict
) -> None:
    """Okta-style paging (startIndex 1, 3, 5 ...) is stable: everyone exactly once, in order."""
    seen: list[str] = []
    start = 1
    while True:
        listing = await search(client, saml_token, f"startIndex={start}&count=2")
        if not listing["Resources"]:
            break
        seen += names(listing)
        start += listing["itemsPerPage"]
    assert EVERYONE == seen


@pytest.mark.parametrize("param", ["count=two", "startIndex=1.5", "count=1e3"])
async def test_non_integer_paging_parameters_are_400(client: TestClient, token: str, param: str) -> None:
    """startIndex and count must be whole numbers: else 400 invalidValue naming the parameter."""
    response = await client.get(f"{USERS}?{param}", headers=auth(token))
    await assert_scim_error(response, 400, "invalidValue", mentions=param.split("=")[0])


async def test_count_is_capped_by_max_page_size(
    make_client: Callable[..., Any], config: Config
) -> None:
    """count above limits.max_page_size gives at most max_page_size resources; the default applies too."""
    limits = dataclasses.replace(config.limits, max_page_size=2, default_page_size=2)
    client = await make_client(dataclasses.replace(config, limits=limits))
    token = await new_token(client)
    for name in ("ann", "ben", "cat"):
        await create_user(client, token, user_body(name))
    for query in ("count=1000", ""):
        listing = await search(client, token, query)
        assert (3, 2, ["ann", "ben"]) == (listing["totalResults"], listing["itemsPerPage"], names(listing))


# --- sorting -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, expected",
    [
        ("sortBy=userName", EVERYONE),
        ("sortBy=userName&sortOrder=ascending", EVERYONE),
        ("sortBy=userName&sortOrder=descending", EVERYONE[::-1]),
        ("sortBy=USERNAME&sortOrder=DESCENDING", EVERYONE[::-1]),
        ("sortBy=urn:ietf:params:scim:schemas:core:2.0:User:userName&sortOrder=descending", EVERYONE[::-1]),
        ("sortBy=displayName", EVERYONE[::-1]),  # Victor, walt, Xavier, yann, Zed: case-insensitive
        ("sortBy=displayName&sortOrder=descending", EVERYONE),
        ("sortBy=meta.created", EVERYONE),
        ("sortBy=meta.created&sortOrder=descending", EVERYONE[::-1]),
        ("sortBy=displayName&startIndex=2&count=2", ["dave", "carol"]),
    ],
)
async def test_sort_by_and_sort_order(
    client: TestClient, saml_token: str, people: dict, query: str, expected: list[str]
) -> None:
    """sortBy orders by userName, displayName (case-insensitively) or meta.created; sortOrder reverses."""
    assert expected == names(await search(client, saml_token, query))


async def test_sort_by_last_modified(client: TestClient, saml_token: str, people: dict) -> None:
    """sortBy=meta.lastModified puts the most recently changed user last."""
    await asyncio.sleep(0.003)
    await patched(client, saml_token, people["bob"]["id"], op("replace", "displayName", "Robert"))
    listing = await search(client, saml_token, "sortBy=meta.lastModified")
    assert ["alice", "carol", "dave", "erin", "bob"] == names(listing)


async def test_sort_with_a_filter(client: TestClient, saml_token: str, people: dict) -> None:
    """Sorting applies to the filtered set."""
    listing = await search(client, saml_token, q("emails pr") + "&sortBy=userName&sortOrder=descending")
    assert ["erin", "carol", "bob", "alice"] == names(listing)


async def test_sort_by_an_unsortable_attribute_is_400(client: TestClient, saml_token: str) -> None:
    """sortBy naming an attribute that cannot be sorted on is a 400 listing the sortable ones."""
    response = await client.get(f"{USERS}?sortBy=title", headers=auth(saml_token))
    await assert_scim_error(response, 400, "invalidFilter", mentions="userName, displayName")


# --- filters -------------------------------------------------------------------------------------

FILTER_CASES: list[tuple[str, list[str]]] = [
        # every comparison operator on userName (case-insensitive)
        ('userName eq "alice"', ["alice"]),
        ('userName eq "ALICE"', ["alice"]),
        ('userName ne "alice"', ["bob", "carol", "dave", "erin"]),
        ('userName co "LI"', ["alice"]),
        ('userName sw "c"', ["carol"]),
        ('userName ew "E"', ["alice", "dave"]),
        ('userName gt "carol"', ["dave", "erin"]),
        ('userName ge "carol"', ["carol", "dave", "erin"]),
        ('userName lt "bob"', ["alice"]),
        ('userName le "BOB"', ["alice", "bob"]),
        ("userName pr", EVERYONE),
        # attribute names in any case, with or without the core URN
        ('USERNAME EQ "alice"', ["alice"]),
        ('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bob"', ["bob"]),
        ('URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:USERNAME eq "bob"', ["bob"]),
        # displayName and emails are case-insensitive
        ('displayName eq "YANN BOB"', ["bob"]),
        ('displayName co "zed"', ["alice"]),
        ('emails eq "ERIN@example.com"', ["erin"]),
        ('emails.value eq "Alice@Example.COM"', ["alice"]),
        ('emails.value co "example.org"', ["bob"]),
        ('emails.type eq "WORK"', ["alice", "carol", "erin"]),
        ("emails pr", ["alice", "bob", "carol", "erin"]),
        # externalId and id are case-exact
        ('externalId eq "Alice@Example.com"', ["alice"]),
        ('externalId eq "alice@example.com"', []),
        ('externalId sw "ERI"', ["erin"]),
        ('externalId sw "eri"', []),
        ('externalId co "-ext"', ["bob"]),
        ('externalId sw "ext"', []),
        ('externalId ew "EXT"', []),
        ('externalId ew "ext"', ["bob"]),
        # value paths, including Entra's `emails[...].value eq`
        ('emails[type eq "work"]', ["alice", "carol", "erin"]),
        ('emails[type eq "work" and value co "@example.com"]', ["alice", "carol", "erin"]),
        ('emails[type eq "work" and value co "@example.org"]', []),
        ('emails[type eq "work" or value ew ".org"]', ["alice", "bob", "carol", "erin"]),
        ('emails[type eq "work"].value eq "erin@example.com"', ["erin"]),
        ('emails[type eq "home"].value eq "alice@example.com"', []),
        ('emails[not (type eq "work")]', ["bob"]),  # dave has no email element to match
        ('not (emails[type eq "work"])', ["bob", "dave"]),
        # logic and precedence
        ('userName eq "alice" or userName eq "bob"', ["alice", "bob"]),
        ('userName eq "alice" and active eq true', ["alice"]),
        ('userName eq "bob" and active eq true', []),
        ('(userName eq "alice" or userName eq "bob") and active eq false', ["bob"]),
        ('userName eq "alice" or userName eq "bob" and active eq false', ["alice", "bob"]),
        ('not (userName eq "alice")', ["bob", "carol", "dave", "erin"]),
        ("not (emails pr)", ["dave"]),
        ('not (userName sw "a" or userName sw "b") and not (userName eq "erin")', ["carol", "dave"]),
        ('((userName eq "carol"))', ["carol"]),
        ('userName eq "alice" OR userName eq "carol"', ["alice", "carol"]),
        # active and roles
        ("active eq true", ["alice", "carol", "dave", "erin"]),
        ("active eq false", ["bob"]),
        ("active ne true", ["bob"]),
        ("active pr", EVERYONE),
        ('roles eq "admin"', ["alice"]),
        ('roles.value eq "OWNER"', ["carol"]),
        ('roles[value eq "member"]', ["bob", "dave", "erin"]),
        # kept attributes
        ('name.givenName eq "carol"', ["carol"]),
        ("name.familyName pr", ["carol"]),
        # invalid handles simply match nobody (Entra's GUID probe)
        ('userName eq "Test User 00aa00aa!"', []),
        ('userName eq "alice@example.com"', []),
        # an unquoted bare word is accepted
        ("userName eq alice", ["alice"]),
]  # fmt: skip


@pytest.mark.backends("embedded")  # on brig: test_every_filter_on_one_population, one setup for all
@pytest.mark.parametrize("filter_text, expected", FILTER_CASES)
async def test_filter(
    client: TestClient, saml_token: str, people: dict, filter_text: str, expected: list[str]
) -> None:
    """The filter selects exactly the users it describes (RFC 7644 §3.4.2.2)."""
    listing = await search(client, saml_token, q(filter_text))
    assert expected == names(listing)
    assert len(expected) == listing["totalResults"]


@pytest.mark.backends("brig")
async def test_every_filter_on_one_population(client: TestClient, saml_token: str, people: dict) -> None:
    """Every case of test_filter against one set of users: brig's mirror selects as the embedded tables."""
    for filter_text, expected in FILTER_CASES:
        listing = await search(client, saml_token, q(filter_text))
        assert (filter_text, expected, len(expected)) == (filter_text, names(listing), listing["totalResults"])


async def test_filter_on_id(client: TestClient, saml_token: str, people: dict) -> None:
    """id eq finds the one user."""
    assert ["carol"] == names(await search(client, saml_token, q(f'id eq "{people["carol"]["id"]}"')))


async def test_filter_on_meta_created_with_iso_dates(
    client: TestClient, saml_token: str, people: dict
) -> None:
    """meta.created compares as time: gt/ge/lt/le with ISO 8601 values, dates or offsets."""

    async def found(filter_text: str) -> list[str]:
        return names(await search(client, saml_token, q(filter_text)))

    carol = people["carol"]["meta"]["created"]
    assert ["dave", "erin"] == await found(f'meta.created gt "{carol}"')
    assert ["carol", "dave", "erin"] == await found(f'meta.created ge "{carol}"')
    assert ["alice", "bob"] == await found(f'meta.created lt "{carol}"')
    assert ["alice", "bob", "carol"] == await found(f'meta.created le "{carol}"')
    assert EVERYONE == await found('meta.created gt "2000-01-01"')
    assert [] == await found('meta.created lt "2000-01-01T00:00:00+01:00"')
    assert EVERYONE == await found('meta.lastModified ge "2000-01-01T00:00:00Z"')


async def test_filter_on_meta_created_with_another_offset(
    client: TestClient, saml_token: str, people: dict
) -> None:
    """A time with an offset is compared in UTC: carol's creation time written at +02:00 finds her."""
    created = datetime.fromisoformat(people["carol"]["meta"]["created"].replace("Z", "+00:00"))
    shifted = created.astimezone(timezone(timedelta(hours=2))).isoformat(timespec="milliseconds")
    assert ["carol"] == names(await search(client, saml_token, q(f'meta.created eq "{shifted}"')))


async def test_filter_with_percent_20_and_plus_for_spaces(
    client: TestClient, saml_token: str, people: dict
) -> None:
    """Spaces in the query may come as '+' (Entra) or '%20' (Okta)."""
    plus = await search(client, saml_token, "filter=userName+eq+%22alice%22")
    percent = await search(client, saml_token, "filter=userName%20eq%20%22alice%22&startIndex=1&count=100")
    email = await search(client, saml_token, "filter=" + quote('emails.value eq "alice@example.com"'))
    assert ["alice"] == names(plus) == names(percent) == names(email)


async def test_filter_after_other_parameters_and_unknown_ones(
    client: TestClient, saml_token: str, people: dict
) -> None:
    """The filter may come after other parameters; unknown parameters are ignored."""
    listing = await search(
        client, saml_token, "aadOptscim062020&excludedAttributes=emails&" + q('userName eq "alice"')
    )
    assert ["alice"] == names(listing)
    assert "emails" not in listing["Resources"][0]


async def test_filters_see_only_the_tokens_team(client: TestClient, token: str, people: dict) -> None:
    """A filter never finds users of another team."""
    listing = await search(client, token, q('userName eq "alice"'))
    assert 0 == listing["totalResults"]


@pytest.mark.parametrize(
    "filter_text, position",
    [
        ('userName eq', 12),
        ('userName xx "alice"', 10),
        ('(userName eq "alice"', 21),
        ('userName eq "alice")', 20),
        ('userName eq "alice" and', 24),
        ('userName eq "alice', 13),
        ('emails[type eq "work"', 22),
        ('not userName eq "alice"', 5),
        ("userName eq 'alice'", 13),
        ("", None),
    ],
)
@pytest.mark.backends("embedded")  # refused by the parser, before any backend
async def test_unparseable_filter_is_400_invalid_filter_with_position(
    client: TestClient, saml_token: str, filter_text: str, position: int | None
) -> None:
    """An unparseable filter is 400 invalidFilter whose detail names the character where it broke."""
    query = q(filter_text) if filter_text else "filter=%20"
    response = await client.get(f"{USERS}?{query}", headers=auth(saml_token))
    mention = f"at character {position}" if position is not None else "empty"
    await assert_scim_error(response, 400, "invalidFilter", mentions=mention)


@pytest.mark.parametrize(
    "filter_text, mention",
    [
        ('title eq "Boss"', "title"),
        ('nickName pr', "nickname"),
        ('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Sales"', "schema"),
        ('manager eq "2819c223-7f76-453a-919d-413861904646"', "manager"),
        ('active gt true', "active"),
        ('active eq "maybe"', "active"),
        ('meta.created gt "yesterday"', "meta.created"),
        ('emails[type eq "work"][value eq "x"]', ""),
    ],
)
@pytest.mark.backends("embedded")  # one compiler for both backends; the Backend contract checks brig
async def test_unsupported_filter_is_400_invalid_filter(
    client: TestClient, saml_token: str, filter_text: str, mention: str
) -> None:
    """A filter on an attribute or with a comparison the gateway cannot evaluate is 400 invalidFilter."""
    response = await client.get(f"{USERS}?{q(filter_text)}", headers=auth(saml_token))
    await assert_scim_error(response, 400, "invalidFilter", mentions=mention)


# --- attributes / excludedAttributes -------------------------------------------------------------


async def test_get_with_attributes(client: TestClient, saml_token: str, people: dict) -> None:
    """attributes keeps only the named attributes, plus id and schemas (always returned)."""
    carol = people["carol"]
    url = f"{USERS}/{carol['id']}?attributes=userName,emails.value,name.givenName"
    response = await client.get(url, headers=auth(saml_token))
    expected = {
        "schemas": carol["schemas"], "id": carol["id"], "userName": "carol",
        "emails": [{"value": "carol@example.com"}], "name": {"givenName": "Carol"},
    }  # fmt: skip
    assert expected == await response.json()


async def test_attributes_are_case_insensitive_and_may_carry_the_core_urn(
    client: TestClient, saml_token: str, people: dict
) -> None:
    """attribute names match in any case and with the core User URN; the resource keeps its spelling."""
    alice = people["alice"]
    attributes = "DISPLAYNAME,urn:ietf:params:scim:schemas:core:2.0:User:externalId"
    url = f"{USERS}/{alice['id']}?attributes={attributes}"
    body = await (await client.get(url, headers=auth(saml_token))).json()
    assert {"schemas", "id", "displayName", "externalId"} == set(body)


async def test_attributes_select_meta_and_rich_info_parts(
    client: TestClient, saml_token: str, people: dict
) -> None:
    """meta.version and one rich-info field can be selected on their own."""
    carol = people["carol"]
    url = f"{USERS}/{carol['id']}?attributes=meta.version,{MAP_URN}:Department"
    body = await (await client.get(url, headers=auth(saml_token))).json()
    assert {"version": carol["meta"]["version"]} == body["meta"]
    assert {"Department": "Sales"} == body[MAP_URN]
    assert PROFILE_URN not in body


async def test_get_with_excluded_attributes(client: TestClient, saml_token: str, people: dict) -> None:
    """excludedAttributes drops the named attributes (id and schemas stay)."""
    alice = people["alice"]
    url = f"{USERS}/{alice['id']}?excludedAttributes=emails,meta,id,{MAP_URN},{PROFILE_URN},roles.value"
    body = await (await client.get(url, headers=auth(saml_token))).json()
    expected = {k: v for k, v in alice.items() if k not in ("emails", "meta", MAP_URN, PROFILE_URN, "roles")}
    assert expected == body


async def test_list_with_attributes(client: TestClient, saml_token: str, people: dict) -> None:
    """attributes applies to every resource of a list; paging fields are unchanged."""
    listing = await search(client, saml_token, "attributes=userName&count=2")
    expected = [{"schemas": people[n]["schemas"], "id": people[n]["id"], "userName": n} for n in ("alice", "bob")]
    assert expected == listing["Resources"]
    assert 5 == listing["totalResults"]


async def test_list_with_excluded_attributes(client: TestClient, saml_token: str, people: dict) -> None:
    """excludedAttributes applies to every resource of a filtered list (Entra's excludedAttributes first)."""
    listing = await search(client, saml_token, "excludedAttributes=meta,emails&" + q("active eq true"))
    assert all("meta" not in r and "emails" not in r and "userName" in r for r in listing["Resources"])


async def test_post_with_attributes(client: TestClient, token: str) -> None:
    """POST honours attributes: 201 with only what was asked (and id, schemas), Location still set."""
    response = await client.post(
        f"{USERS}?attributes=userName", json=user_body("bjensen"), headers=auth(token)
    )
    body = await response.json()
    assert 201 == response.status
    assert {"schemas", "id", "userName"} == set(body)
    assert response.headers["Location"].endswith(body["id"])


async def test_put_with_excluded_attributes(client: TestClient, token: str) -> None:
    """PUT honours excludedAttributes."""
    created = await create_user(client, token, user_body("bjensen"))
    response = await client.put(
        f"{USERS}/{created['id']}?excludedAttributes=emails,{MAP_URN},{PROFILE_URN}",
        json=user_body("bjensen", displayName="Babs"), headers=auth(token),
    )  # fmt: skip
    body = await response.json()
    assert ("Babs", False) == (
        body["displayName"], "emails" in body or MAP_URN in body or PROFILE_URN in body
    )


async def test_patch_with_attributes(client: TestClient, token: str) -> None:
    """PATCH honours attributes."""
    created = await create_user(client, token, user_body("bjensen"))
    response = await client.patch(
        f"{USERS}/{created['id']}?attributes=displayName",
        json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
              "Operations": [op("replace", "displayName", "Babs")]},
        headers=auth(token),
    )  # fmt: skip
    expected = {"schemas": created["schemas"], "id": created["id"], "displayName": "Babs"}
    assert expected == await response.json()


async def test_attributes_wins_over_excluded_attributes(
    client: TestClient, saml_token: str, people: dict
) -> None:
    """Given both, attributes wins and excludedAttributes is ignored."""
    url = f"{USERS}/{people['alice']['id']}?attributes=userName&excludedAttributes=userName"
    response = await client.get(url, headers=auth(saml_token))
    assert {"schemas", "id", "userName"} == set(await response.json())


async def test_an_invalid_attribute_list_is_400(client: TestClient, saml_token: str, people: dict) -> None:
    """An attributes entry that is not an attribute path is 400 invalidPath naming it."""
    response = await client.get(
        f"{USERS}/{people['alice']['id']}?attributes=userName,1bad", headers=auth(saml_token)
    )
    await assert_scim_error(response, 400, "invalidPath", mentions="1bad")
