"""GET /Groups: paging, filters, sorting and projections of the group list."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from conftest import auth
from group_calls import GROUPS, create_group, group_body, list_groups, new_users
from scim_calls import assert_scim_error

pytestmark = pytest.mark.backends("embedded", "brig")  # brig: the brig backend over brig-lite


# --- list, paging, filters -----------------------------------------------------------------------


async def test_okta_connection_test_lists_groups_with_integer_paging(client: TestClient, token: str) -> None:
    """Okta's `GET /Groups?startIndex=1&count=100` answers a ListResponse with integer counts."""
    await create_group(client, token, group_body("A"))

    page = await list_groups(client, token, "startIndex=1&count=100")

    assert (1, 1, 1) == (page["totalResults"], page["itemsPerPage"], page["startIndex"])
    assert ["A"] == [g["displayName"] for g in page["Resources"]]


async def test_pages_follow_creation_order(client: TestClient, token: str) -> None:
    """startIndex and count page through the groups in creation order; totalResults counts them all."""
    for name in ("A", "B", "C"):
        await create_group(client, token, group_body(name))

    pages = [await list_groups(client, token, f"startIndex={start}&count=2") for start in (1, 3)]

    assert [(3, ["A", "B"]), (3, ["C"])] == [
        (page["totalResults"], [g["displayName"] for g in page["Resources"]]) for page in pages
    ]


async def test_count_zero_answers_only_the_total(client: TestClient, token: str) -> None:
    """count=0 gives totalResults without resources."""
    await create_group(client, token, group_body("A"))

    page = await list_groups(client, token, "count=0")

    assert (1, 0, []) == (page["totalResults"], page["itemsPerPage"], page["Resources"])


async def test_list_without_members_leaves_the_key_out_of_every_group(client: TestClient, token: str) -> None:
    """`GET /Groups?excludedAttributes=members` answers groups without `members` keys."""
    ids = await new_users(client, token, 1)
    await create_group(client, token, group_body("A", ids))
    await create_group(client, token, group_body("B"))

    page = await list_groups(client, token, "excludedAttributes=members")

    assert [False, False] == ["members" in group for group in page["Resources"]]


async def test_list_shows_members(client: TestClient, token: str) -> None:
    """A list without projection shows each group's members."""
    ids = await new_users(client, token, 2)
    await create_group(client, token, group_body("A", ids))
    await create_group(client, token, group_body("B", ids[:1]))

    page = await list_groups(client, token)

    assert [ids, ids[:1]] == [[m["value"] for m in g["members"]] for g in page["Resources"]]


@pytest.mark.parametrize(
    "query, expected",
    [
        pytest.param('displayName eq "engineering"', ["Engineering"], id="eq-ignores-case"),
        pytest.param('displayName co "ale"', ["Sales"], id="co"),
        pytest.param('displayName sw "eng"', ["Engineering"], id="sw"),
        pytest.param('externalId eq "ext-sales"', ["Sales"], id="external-id"),
        pytest.param('externalId eq "EXT-SALES"', [], id="external-id-is-case-exact"),
        pytest.param('displayName eq "Sales" or displayName eq "Ops"', ["Sales", "Ops"], id="or"),
        pytest.param("externalId pr", ["Sales"], id="present"),
    ],
)
async def test_filters_on_display_name_and_external_id(
    client: TestClient, token: str, query: str, expected: list[str]
) -> None:
    """displayName (eq, co, sw, case-insensitive) and externalId (case-exact) filters select groups."""
    for name in ("Engineering", "Sales", "Ops"):
        extra = {"externalId": "ext-sales"} if name == "Sales" else {}
        await create_group(client, token, group_body(name, **extra))

    page = await list_groups(client, token, f"filter={query}")

    assert expected == [group["displayName"] for group in page["Resources"]]
    assert len(expected) == page["totalResults"]


@pytest.mark.parametrize("form", ['members.value eq "{id}"', 'members[value eq "{id}"]'])
async def test_filter_on_a_member_finds_its_groups(client: TestClient, token: str, form: str) -> None:
    """`members.value eq` and `members[value eq]` find the groups that have that member."""
    first, second = await new_users(client, token, 2)
    await create_group(client, token, group_body("A", [first, second]))
    await create_group(client, token, group_body("B", [second]))
    await create_group(client, token, group_body("C"))

    page = await list_groups(client, token, "filter=" + form.format(id=first))

    assert ["A"] == [group["displayName"] for group in page["Resources"]]


@pytest.mark.parametrize(
    "query", ['nickName eq "x"', 'members.value co "a"', 'displayName eq', "urn:example:1.0:Group:x eq 1"]
)
async def test_unsupported_group_filters_are_400_invalid_filter(
    client: TestClient, token: str, query: str
) -> None:
    """A filter on an unknown attribute, or an operator a member id cannot take, is 400 invalidFilter."""
    response = await client.get(f"{GROUPS}?filter={query}", headers=auth(token))

    await assert_scim_error(response, 400, "invalidFilter")


async def test_sort_by_display_name(client: TestClient, token: str) -> None:
    """sortBy=displayName orders groups by name, ignoring case."""
    for name in ("b", "C", "a"):
        await create_group(client, token, group_body(name))

    page = await list_groups(client, token, "sortBy=displayName&sortOrder=descending")

    assert ["C", "b", "a"] == [group["displayName"] for group in page["Resources"]]
