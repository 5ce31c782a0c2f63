"""
The group half of the Backend contract (gateway/backend/base.py), run against every implementation
(test_backend.OPENERS: embedded and brig over brig-lite, each on SQLite and on PostgreSQL).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from gateway.backend.base import Backend
from gateway.backend.wire_group import (
    AddMembers, GroupFields, GroupQuery, NewGroup, RemoveMembers, ReplaceMembers, Rename,
    SetExternalId,
)
from gateway.backend.wire_user import UserQuery
from gateway.scim.errors import InvalidFilter, InvalidValue, NotFound, PreconditionFailed, Uniqueness
from gateway.scim.filter.grammar import parse_filter
from test_backend import OPENERS, OTHER_TEAM, TEAM, new_user

GROUP_OPENERS: dict[str, Callable[[Path], AbstractAsyncContextManager[Backend]]] = dict(OPENERS)


@pytest.fixture(name="backend", params=sorted(GROUP_OPENERS))
async def _backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    async with GROUP_OPENERS[request.param](tmp_path) as opened:
        await opened.ensure_team(TEAM)
        await opened.ensure_team(OTHER_TEAM)
        yield opened


async def users(backend: Backend, count: int, team: str = TEAM) -> list[str]:
    """Ids of `count` new users of `team`, sorted (the order groups keep members in)."""
    prefix = "t" if team == TEAM else "o"
    return sorted([(await backend.create_user(team, new_user(f"{prefix}user{n}"))).id for n in range(count)])


def new_group(
    name: str = "Engineering", members: list[str] | None = None, external_id: str | None = None
) -> NewGroup:
    fields = GroupFields(display_name=name, external_id=external_id)
    return NewGroup(id=str(uuid.uuid4()), fields=fields, members=tuple(members or ()))


async def group_names(backend: Backend, query: GroupQuery) -> list[str]:
    return [group.display_name for group in (await backend.search_groups(TEAM, query)).groups]


class TestCreateAndGet:
    async def test_create_returns_the_stored_group_with_sorted_members(self, backend: Backend) -> None:
        """create_group returns the group as get_group reads it: members sorted, counted, one version."""
        ids = await users(backend, 3)

        unsorted = [ids[2], ids[0], ids[1]]

        group = await backend.create_group(TEAM, new_group(members=unsorted, external_id="ext"))

        assert group == await backend.get_group(TEAM, group.id)
        assert (tuple(ids), 3, "ext", TEAM) == (
            group.members, group.member_count, group.external_id, group.team
        )
        assert group.created == group.last_modified

    async def test_get_without_members_leaves_them_unloaded(self, backend: Backend) -> None:
        """include_members=False gives members None and the right member_count."""
        group = await backend.create_group(TEAM, new_group(members=await users(backend, 2)))

        fetched = await backend.get_group(TEAM, group.id, include_members=False)

        assert (None, 2, group.version) == (fetched.members, fetched.member_count, fetched.version)

    async def test_unknown_and_other_teams_groups_are_not_found(self, backend: Backend) -> None:
        """get_group and edit_group of an unknown group or another team's raise NotFound."""
        other = await backend.create_group(OTHER_TEAM, new_group())

        for group_id in (str(uuid.uuid4()), other.id):
            with pytest.raises(NotFound):
                await backend.get_group(TEAM, group_id)
            with pytest.raises(NotFound):
                await backend.edit_group(TEAM, group_id, [Rename("x")])

    async def test_members_must_be_users_of_the_team(self, backend: Backend) -> None:
        """Unknown ids and other teams' users raise InvalidValue naming them; nothing is created."""
        [stranger] = await users(backend, 1, OTHER_TEAM)
        unknown = str(uuid.uuid4())

        with pytest.raises(InvalidValue) as raised:
            await backend.create_group(TEAM, new_group(members=[*await users(backend, 1), stranger, unknown]))

        assert (True, True) == (stranger in raised.value.detail, unknown in raised.value.detail)
        assert 0 == (await backend.search_groups(TEAM, GroupQuery(limit=0))).total

    async def test_ids_of_the_teams_groups_are_skipped_as_members(self, backend: Backend) -> None:
        """A group of the team named as a member is skipped, not stored and not an error."""
        inner = await backend.create_group(TEAM, new_group("inner"))
        [user] = await users(backend, 1)

        outer = await backend.create_group(TEAM, new_group("outer", [user, inner.id]))

        assert ((user,), 1) == (outer.members, outer.member_count)

    async def test_external_id_is_unique_per_team(self, backend: Backend) -> None:
        """A taken externalId raises Uniqueness in the same team and is free in another."""
        await backend.create_group(TEAM, new_group(external_id="same"))
        await backend.create_group(OTHER_TEAM, new_group(external_id="same"))
        second = await backend.create_group(TEAM, new_group())

        with pytest.raises(Uniqueness):
            await backend.create_group(TEAM, new_group(external_id="same"))
        with pytest.raises(Uniqueness):
            await backend.edit_group(TEAM, second.id, [SetExternalId("same")])


class TestEdit:
    async def test_each_member_edit_does_what_it_says(self, backend: Backend) -> None:
        """AddMembers, RemoveMembers and ReplaceMembers change the members and their count."""
        ids = await users(backend, 4)
        group = await backend.create_group(TEAM, new_group(members=ids[:2]))

        added = await backend.edit_group(TEAM, group.id, [AddMembers((ids[2],))], include_members=True)
        removed = await backend.edit_group(TEAM, group.id, [RemoveMembers((ids[0],))], include_members=True)
        replaced = await backend.edit_group(
            TEAM, group.id, [ReplaceMembers((ids[3], ids[1]))], include_members=True
        )

        assert [(tuple(ids[:3]), 3), (tuple(ids[1:3]), 2), ((ids[1], ids[3]), 2)] == [
            (g.members, g.member_count) for g in (added, removed, replaced)
        ]

    async def test_edits_that_change_nothing_keep_the_version(self, backend: Backend) -> None:
        """Adding a member twice, removing a non-member, the same name: version and lastModified stay."""
        ids = await users(backend, 2)
        group = await backend.create_group(TEAM, new_group(members=ids[:1], external_id="e"))
        edits = [
            AddMembers((ids[0],)), RemoveMembers((ids[1],)), Rename(group.display_name), SetExternalId("e")
        ]

        after = await backend.edit_group(TEAM, group.id, edits, include_members=True)

        assert group == after

    async def test_an_effective_change_gives_a_new_version(self, backend: Backend) -> None:
        """Every effective change gives a version never seen before for the group."""
        [user] = await users(backend, 1)
        group = await backend.create_group(TEAM, new_group())
        versions = [group.version]
        for edit in (Rename("B"), AddMembers((user,)), RemoveMembers((user,)), SetExternalId("x")):
            versions.append((await backend.edit_group(TEAM, group.id, [edit])).version)

        assert 5 == len(set(versions))

    async def test_edits_are_all_or_nothing(self, backend: Backend) -> None:
        """When a later edit fails, the earlier ones of the same call are not kept."""
        [user] = await users(backend, 1)
        group = await backend.create_group(TEAM, new_group())

        with pytest.raises(InvalidValue):
            await backend.edit_group(
                TEAM, group.id, [Rename("B"), AddMembers((user,)), AddMembers((str(uuid.uuid4()),))]
            )

        assert group == await backend.get_group(TEAM, group.id)

    async def test_a_stale_expected_version_changes_nothing(self, backend: Backend) -> None:
        """An edit expecting an outdated version raises PreconditionFailed and stores nothing."""
        group = await backend.create_group(TEAM, new_group())
        renamed = await backend.edit_group(TEAM, group.id, [Rename("B")])

        with pytest.raises(PreconditionFailed):
            await backend.edit_group(TEAM, group.id, [Rename("C")], expected_version=group.version)
        done = await backend.edit_group(TEAM, group.id, [Rename("D")], expected_version=renamed.version)

        assert "D" == done.display_name


class TestDeleteAndUsers:
    async def test_delete_reports_whether_there_was_a_group(self, backend: Backend) -> None:
        """delete_group is True once, then False; another team's group is not deleted."""
        group = await backend.create_group(TEAM, new_group(members=await users(backend, 1)))
        other = await backend.create_group(OTHER_TEAM, new_group())

        assert [True, False, False] == [
            await backend.delete_group(TEAM, group.id), await backend.delete_group(TEAM, group.id),
            await backend.delete_group(TEAM, other.id),
        ]  # fmt: skip
        assert other == await backend.get_group(OTHER_TEAM, other.id)

    async def test_a_deleted_user_leaves_its_groups(self, backend: Backend) -> None:
        """delete_user removes the user from every group, which get a new version."""
        first, second = await users(backend, 2)
        group = await backend.create_group(TEAM, new_group(members=[first, second]))

        await backend.delete_user(TEAM, first)
        after = await backend.get_group(TEAM, group.id)

        assert ((second,), 1) == (after.members, after.member_count)
        assert group.version != after.version

    async def test_users_carry_their_groups_sorted_by_name(self, backend: Backend) -> None:
        """get_user, search_users and update_user return the user's (id, displayName) groups, by name."""
        first, second = await users(backend, 2)
        beta = await backend.create_group(TEAM, new_group("beta", [first]))
        alpha = await backend.create_group(TEAM, new_group("Alpha", [first, second]))
        expected = ((alpha.id, "Alpha"), (beta.id, "beta"))

        fetched = await backend.get_user(TEAM, first)
        page = await backend.search_users(TEAM, UserQuery())

        assert expected == fetched.groups
        assert {first: expected, second: ((alpha.id, "Alpha"),)} == {u.id: u.groups for u in page.users}


class TestSearch:
    async def test_the_unfiltered_total_follows_creates_and_deletes(self, backend: Backend) -> None:
        """The unfiltered total counts the team's groups after creates and deletes, not other teams'."""
        groups = [await backend.create_group(TEAM, new_group(f"g{n}")) for n in range(3)]
        await backend.create_group(OTHER_TEAM, new_group())
        await backend.delete_group(TEAM, groups[0].id)

        assert 2 == (await backend.search_groups(TEAM, GroupQuery(limit=0))).total

    async def test_pages_in_creation_order_with_or_without_members(self, backend: Backend) -> None:
        """offset/limit page in creation order; include_members=False leaves members unloaded."""
        [user] = await users(backend, 1)
        for name in ("a", "b", "c"):
            await backend.create_group(TEAM, new_group(name, [user]))

        with_members = await backend.search_groups(TEAM, GroupQuery(offset=1, limit=1))
        without = await backend.search_groups(TEAM, GroupQuery(offset=1, limit=5, include_members=False))

        assert [(3, "b", (user,))] == [
            (with_members.total, g.display_name, g.members) for g in with_members.groups
        ]
        assert [("b", None, 1), ("c", None, 1)] == [
            (g.display_name, g.members, g.member_count) for g in without.groups
        ]

    @pytest.mark.parametrize(
        "text, expected",
        [
            ('displayName eq "SALES"', ["Sales"]),
            ('displayName co "ngin"', ["Engineering"]),
            ('displayName sw "S"', ["Sales"]),
            ('externalId eq "ops"', ["Ops"]),
            ("members pr", ["Engineering"]),
            ('not (displayName eq "Sales")', ["Engineering", "Ops"]),
        ],
    )
    async def test_filters(self, backend: Backend, text: str, expected: list[str]) -> None:
        """Filters on displayName, externalId and members select the matching groups in order."""
        [user] = await users(backend, 1)
        await backend.create_group(TEAM, new_group("Engineering", [user]))
        await backend.create_group(TEAM, new_group("Sales"))
        await backend.create_group(TEAM, new_group("Ops", external_id="ops"))

        assert expected == await group_names(backend, GroupQuery(filter=parse_filter(text)))

    async def test_filter_on_a_member(self, backend: Backend) -> None:
        """`members[value eq id]` and `members.value ne id` select by membership."""
        first, second = await users(backend, 2)
        await backend.create_group(TEAM, new_group("A", [first]))
        await backend.create_group(TEAM, new_group("B", [second]))

        assert (["A"], ["B"]) == (
            await group_names(backend, GroupQuery(filter=parse_filter(f'members[value eq "{first}"]'))),
            await group_names(backend, GroupQuery(filter=parse_filter(f'members.value ne "{first}"'))),
        )

    @pytest.mark.parametrize("text", ['userName eq "x"', 'members.value gt "a"'])
    async def test_unsupported_filters_raise_invalid_filter(self, backend: Backend, text: str) -> None:
        """An attribute groups do not have, or an order comparison of member ids, raises InvalidFilter."""
        with pytest.raises(InvalidFilter):
            await backend.search_groups(TEAM, GroupQuery(filter=parse_filter(text)))

    async def test_sort_by_display_name_descending(self, backend: Backend) -> None:
        """sort_by displayname orders by name ignoring case; descending reverses it."""
        for name in ("b", "C", "a"):
            await backend.create_group(TEAM, new_group(name))

        query = GroupQuery(sort_by="displayname", descending=True)

        assert ["C", "b", "a"] == await group_names(backend, query)
