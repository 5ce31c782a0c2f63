"""
The Backend contract (gateway/backend/base.py), run against every implementation.

Every test talks to the `Backend` protocol only, so that a new implementation (brig over brig-lite)
is done when this suite is green for it: add its opener to OPENERS.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, ExitStack, asynccontextmanager
from pathlib import Path

import pytest

from conftest import add_saml_idp, running_brig_lite
from gateway.backend.base import Backend
from gateway.app import brig_settings
from gateway.backend.brig.backend import BrigBackend
from gateway.backend.embedded.backend import EmbeddedBackend
from gateway.provisioning.group_members import group_members
from gateway.backend.wire_user import NewUser, UserFields, UserQuery, WireUser
from gateway.config import Backend as BackendConfig
from gateway.db.dialect import Database
from gateway.db.sqlite import SqliteDatabase
from gateway.scim.errors import InvalidFilter, NotFound, PreconditionFailed, Uniqueness
from gateway.scim.filter.grammar import parse_filter
from postgres_schema import fresh_schema

TEAM = "6f1c2b9e-2a4e-4d0e-9a51-2f1b9b2d7c11"
OTHER_TEAM = "d2a1c0de-1111-4222-8333-944455556666"
IDP = "2d6f7a8e-0a8b-4c4f-9a3e-5b2e1c0d9f11"


@asynccontextmanager
async def gateway_database(tmp: Path, kind: str) -> AsyncIterator[Database]:
    """The gateway's database: SQLite in `tmp`, or PostgreSQL on a fresh schema (skips without a server)."""
    with ExitStack() as stack:
        if kind == "postgres":
            dsn = stack.enter_context(fresh_schema())  # skips without a server or without psycopg
            from gateway.db.postgres import PostgresDatabase

            db: Database = await PostgresDatabase.open(dsn)
        else:
            db = await SqliteDatabase.open(tmp / "gw.db")
        try:
            yield db
        finally:
            await db.close()


def embedded_on(kind: str) -> Callable[[Path], AbstractAsyncContextManager[Backend]]:
    """An opener of the embedded backend on the `kind` database."""

    @asynccontextmanager
    async def open_embedded(tmp: Path) -> AsyncIterator[Backend]:
        async with gateway_database(tmp, kind) as db:
            backend = EmbeddedBackend(db, group_members=group_members)
            try:
                yield backend
            finally:
                await backend.close()

    return open_embedded


def brig_on(kind: str) -> Callable[[Path], AbstractAsyncContextManager[Backend]]:
    """An opener of the brig adapter against the real brig-lite app, its state on the `kind` database."""

    @asynccontextmanager
    async def open_brig(tmp: Path) -> AsyncIterator[Backend]:
        async with running_brig_lite(tmp / "brig-lite.db") as url, gateway_database(tmp, kind) as db:
            await add_saml_idp(tmp / "brig-lite.db", TEAM, IDP)
            backend = await BrigBackend.open(
                brig_settings(BackendConfig(kind="brig", brig_url=url, spar_url=url)), db, group_members=group_members
            )
            try:
                yield backend
            finally:
                await backend.close()

    return open_brig


open_embedded = embedded_on("sqlite")
open_embedded_postgres = embedded_on("postgres")

OPENERS: dict[str, Callable[[Path], AbstractAsyncContextManager[Backend]]] = {
    "embedded": open_embedded,
    "brig": brig_on("sqlite"),
    "embedded-postgres": open_embedded_postgres,  # these two skip without a PostgreSQL server
    "brig-postgres": brig_on("postgres"),
}


@pytest.fixture(name="backend", params=sorted(OPENERS))
async def _backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    async with OPENERS[request.param](tmp_path) as opened:
        await opened.ensure_team(TEAM)
        await opened.ensure_team(OTHER_TEAM)
        yield opened


def fields(handle: str = "bjensen", **overrides: object) -> UserFields:
    values: dict[str, object] = {
        "handle": handle,
        "display_name": f"{handle.title()} Example",
        "external_id": f"{handle}@example.com",
        "email": f"{handle}@example.com",
        "email_type": "work",
    }
    values.update(overrides)
    return UserFields(**values)  # type: ignore[arg-type]


def new_user(handle: str = "bjensen", *, idp: str | None = None, **overrides: object) -> NewUser:
    return NewUser(id=str(uuid.uuid4()), fields=fields(handle, **overrides), idp=idp)


def fields_of(user: WireUser, **overrides: object) -> UserFields:
    """The settable fields of a stored user (what a PUT of the unchanged resource gives)."""
    values: dict[str, object] = {
        "handle": user.handle,
        "display_name": user.display_name,
        "external_id": user.external_id,
        "email": user.email,
        "email_type": user.email_type,
        "role": user.role,
        "locale": user.locale,
        "rich_info": user.rich_info,
        "extra": user.extra,
        "active": user.status != "suspended",
    }
    values.update(overrides)
    return UserFields(**values)  # type: ignore[arg-type]


async def total(backend: Backend, team: str = TEAM) -> int:
    return (await backend.search_users(team, UserQuery(limit=0))).total


async def handles(backend: Backend, text: str, team: str = TEAM) -> list[str]:
    page = await backend.search_users(team, UserQuery(filter=parse_filter(text)))
    return sorted(u.handle for u in page.users)


async def distinct_moment() -> None:
    """Let the millisecond clock move on, so the next write gets a later timestamp."""
    await asyncio.sleep(0.003)


class TestCreateAndGet:
    async def test_create_returns_the_stored_user(self, backend: Backend) -> None:
        """create_user returns the user as get_user then reads it, with created == lastModified."""
        user = await backend.create_user(TEAM, new_user(rich_info=(("Department", "Sales"),)))

        assert user == await backend.get_user(TEAM, user.id)
        assert user.created == user.last_modified
        assert "" != user.version
        assert (TEAM, "bjensen", "bjensen@example.com", (("Department", "Sales"),)) == (
            user.team, user.handle, user.external_id, user.rich_info
        )

    async def test_invited_user_is_pending(self, backend: Backend) -> None:
        """A user created without an IdP is an invitation: pending until it is accepted."""
        user = await backend.create_user(TEAM, new_user())

        assert ("pending-invitation", None) == (user.status, user.idp)

    async def test_saml_user_is_active_at_once(self, backend: Backend) -> None:
        """A user created with an IdP is active at once (suspended if created with active=False)."""
        active = await backend.create_user(TEAM, new_user("alice", idp=IDP))
        inactive = await backend.create_user(TEAM, new_user("bob", idp=IDP, active=False))

        assert ("active", IDP) == (active.status, active.idp)
        assert "suspended" == inactive.status

    async def test_get_unknown_user_is_not_found(self, backend: Backend) -> None:
        """get_user of an id nobody has raises NotFound."""
        with pytest.raises(NotFound):
            await backend.get_user(TEAM, str(uuid.uuid4()))

    async def test_other_teams_user_is_not_found(self, backend: Backend) -> None:
        """A user of another team is invisible: get, update and accept raise NotFound."""
        user = await backend.create_user(OTHER_TEAM, new_user())

        with pytest.raises(NotFound):
            await backend.get_user(TEAM, user.id)
        with pytest.raises(NotFound):
            await backend.update_user(TEAM, user.id, fields_of(user, display_name="X"))
        with pytest.raises(NotFound):
            await backend.accept_invitation(TEAM, user.id)
        assert user == await backend.get_user(OTHER_TEAM, user.id)

    async def test_other_teams_user_is_not_in_search(self, backend: Backend) -> None:
        """search_users only sees the team's own users."""
        await backend.create_user(OTHER_TEAM, new_user("alice"))
        await backend.create_user(TEAM, new_user("bob"))

        assert (1, ["bob"]) == (await total(backend), await handles(backend, 'userName pr'))


class TestUniqueness:
    async def test_handle_is_unique_across_teams(self, backend: Backend) -> None:
        """A handle taken in one team cannot be created in another: Uniqueness naming userName."""
        await backend.create_user(TEAM, new_user("bjensen"))

        with pytest.raises(Uniqueness) as caught:
            await backend.create_user(OTHER_TEAM, new_user("bjensen", external_id="other"))
        assert "userName" in caught.value.detail
        assert 0 == await total(backend, OTHER_TEAM)

    async def test_external_id_is_unique_per_team(self, backend: Backend) -> None:
        """An externalId taken in the team cannot be created again: Uniqueness naming externalId."""
        await backend.create_user(TEAM, new_user("alice", external_id="x-1"))

        with pytest.raises(Uniqueness) as caught:
            await backend.create_user(TEAM, new_user("bob", external_id="x-1"))
        assert "externalId" in caught.value.detail

    async def test_same_external_id_in_another_team_is_fine(self, backend: Backend) -> None:
        """externalIds are unique per team only."""
        await backend.create_user(TEAM, new_user("alice", external_id="x-1"))
        other = await backend.create_user(OTHER_TEAM, new_user("bob", external_id="x-1"))

        assert "x-1" == other.external_id

    async def test_external_id_is_case_sensitive(self, backend: Backend) -> None:
        """externalIds differing only in case belong to different users."""
        first = await backend.create_user(TEAM, new_user("alice", external_id="Alice@Example.com"))
        second = await backend.create_user(TEAM, new_user("bob", external_id="alice@example.com"))

        assert ("Alice@Example.com", "alice@example.com") == (first.external_id, second.external_id)

    async def test_update_to_a_taken_handle_stores_nothing(self, backend: Backend) -> None:
        """An update to another user's handle (of any team) raises Uniqueness and changes nothing."""
        await backend.create_user(OTHER_TEAM, new_user("alice"))
        bob = await backend.create_user(TEAM, new_user("bob"))

        with pytest.raises(Uniqueness) as caught:
            await backend.update_user(TEAM, bob.id, fields_of(bob, handle="alice", display_name="B"))
        assert "userName" in caught.value.detail
        assert bob == await backend.get_user(TEAM, bob.id)

    async def test_update_to_a_taken_external_id_stores_nothing(self, backend: Backend) -> None:
        """An update to another user's externalId raises Uniqueness and changes nothing."""
        await backend.create_user(TEAM, new_user("alice", external_id="a"))
        bob = await backend.create_user(TEAM, new_user("bob", external_id="b"))

        with pytest.raises(Uniqueness) as caught:
            await backend.update_user(TEAM, bob.id, fields_of(bob, external_id="a"))
        assert "externalId" in caught.value.detail
        assert bob == await backend.get_user(TEAM, bob.id)

    async def test_concurrent_creates_of_one_handle_give_one_user(self, backend: Backend) -> None:
        """Of 50 concurrent creates with one handle exactly one succeeds; the rest raise Uniqueness."""
        results = await asyncio.gather(
            *(backend.create_user(TEAM, new_user("bjensen", external_id=f"x-{i}")) for i in range(50)),
            return_exceptions=True,
        )

        created = [r for r in results if isinstance(r, WireUser)]
        refused = [r for r in results if isinstance(r, Uniqueness)]
        assert (1, 49) == (len(created), len(refused))
        assert 1 == await total(backend)

    async def test_failed_create_leaves_nothing(self, backend: Backend) -> None:
        """A create refused half-way leaves no trace: the team's user count is unchanged."""
        await backend.create_user(TEAM, new_user("alice"))

        with pytest.raises(Uniqueness):
            await backend.create_user(TEAM, new_user("alice", external_id="fresh"))
        with pytest.raises(Uniqueness):
            await backend.create_user(OTHER_TEAM, new_user("alice", external_id="fresh"))
        assert (1, 0) == (await total(backend), await total(backend, OTHER_TEAM))
        assert ["alice"] == await handles(backend, "userName pr")
        assert [] == await handles(backend, 'externalId eq "fresh"')


class TestUpdate:
    async def test_update_changes_the_user(self, backend: Backend) -> None:
        """update_user stores the new fields, keeps created and gives a new version."""
        user = await backend.create_user(TEAM, new_user(idp=IDP))
        await distinct_moment()

        updated = await backend.update_user(
            TEAM, user.id, fields_of(user, display_name="Barbara", role="admin", locale="de",
                                     rich_info=(("Title", "CEO"),))
        )  # fmt: skip

        assert updated == await backend.get_user(TEAM, user.id)
        assert ("Barbara", "admin", "de", (("Title", "CEO"),)) == (
            updated.display_name, updated.role, updated.locale, updated.rich_info
        )
        assert user.created == updated.created
        assert user.version != updated.version
        assert updated.last_modified > user.last_modified

    async def test_update_with_equal_content_changes_nothing(self, backend: Backend) -> None:
        """An update with the stored content returns the same version and lastModified."""
        user = await backend.create_user(TEAM, new_user(idp=IDP))
        await distinct_moment()

        again = await backend.update_user(TEAM, user.id, fields_of(user))

        assert user == again
        assert user == await backend.get_user(TEAM, user.id)

    async def test_update_with_the_current_version_succeeds(self, backend: Backend) -> None:
        """An update carrying the current version is applied."""
        user = await backend.create_user(TEAM, new_user())

        updated = await backend.update_user(
            TEAM, user.id, fields_of(user, display_name="B"), expected_version=user.version
        )

        assert "B" == (await backend.get_user(TEAM, user.id)).display_name
        assert updated.version != user.version

    async def test_update_with_a_stale_version_changes_nothing(self, backend: Backend) -> None:
        """An update carrying an outdated version raises PreconditionFailed and stores nothing."""
        user = await backend.create_user(TEAM, new_user())
        current = await backend.update_user(TEAM, user.id, fields_of(user, display_name="B"))

        with pytest.raises(PreconditionFailed):
            await backend.update_user(
                TEAM, user.id, fields_of(user, display_name="C"), expected_version=user.version
            )
        assert current == await backend.get_user(TEAM, user.id)

    async def test_update_of_unknown_user_is_not_found(self, backend: Backend) -> None:
        """update_user of an id nobody has raises NotFound."""
        with pytest.raises(NotFound):
            await backend.update_user(TEAM, str(uuid.uuid4()), fields())

    async def test_changed_handle_frees_the_old_one(self, backend: Backend) -> None:
        """After a rename the old handle and externalId can be taken by another user."""
        user = await backend.create_user(TEAM, new_user("alice", external_id="a"))
        await backend.update_user(TEAM, user.id, fields_of(user, handle="alicia", external_id="b"))

        other = await backend.create_user(OTHER_TEAM, new_user("alice", external_id="a"))
        same_team = await backend.create_user(TEAM, new_user("alice2", external_id="a"))

        assert ("alice", "a") == (other.handle, same_team.external_id)


class TestStatus:
    async def test_pending_invitation_stays_pending(self, backend: Backend) -> None:
        """An update with active=True does not activate an invitation; nor does active=False."""
        user = await backend.create_user(TEAM, new_user())

        activated = await backend.update_user(TEAM, user.id, fields_of(user, active=True, display_name="B"))
        deactivated = await backend.update_user(TEAM, user.id, fields_of(user, active=False))

        assert ("pending-invitation", "pending-invitation") == (activated.status, deactivated.status)

    async def test_accept_invitation_activates(self, backend: Backend) -> None:
        """accept_invitation makes a pending user active, with a new version."""
        user = await backend.create_user(TEAM, new_user())

        accepted = await backend.accept_invitation(TEAM, user.id)

        assert "active" == accepted.status
        assert accepted == await backend.get_user(TEAM, user.id)
        assert user.version != accepted.version

    async def test_accept_invitation_of_an_active_user_changes_nothing(self, backend: Backend) -> None:
        """accept_invitation of a user who is not pending returns the user unchanged."""
        user = await backend.create_user(TEAM, new_user(idp=IDP))

        assert user == await backend.accept_invitation(TEAM, user.id)

    async def test_accept_invitation_of_unknown_user_is_not_found(self, backend: Backend) -> None:
        """accept_invitation of an id nobody has raises NotFound."""
        with pytest.raises(NotFound):
            await backend.accept_invitation(TEAM, str(uuid.uuid4()))

    async def test_active_false_suspends_and_active_true_restores(self, backend: Backend) -> None:
        """A SAML user is suspended by active=False and active again by active=True."""
        user = await backend.create_user(TEAM, new_user(idp=IDP))

        suspended = await backend.update_user(TEAM, user.id, fields_of(user, active=False))
        restored = await backend.update_user(TEAM, user.id, fields_of(user, active=True))

        assert ("suspended", "active") == (suspended.status, restored.status)
        assert suspended.version != restored.version
        assert user.version == restored.version

    async def test_accepted_invitation_can_be_suspended(self, backend: Backend) -> None:
        """Once accepted, an invited user follows `active` like any other."""
        user = await backend.accept_invitation(TEAM, (await backend.create_user(TEAM, new_user())).id)

        suspended = await backend.update_user(TEAM, user.id, fields_of(user, active=False))

        assert "suspended" == suspended.status


class TestDelete:
    async def test_delete_returns_true_then_false(self, backend: Backend) -> None:
        """delete_user is True when a user went away and False the second time."""
        user = await backend.create_user(TEAM, new_user())

        assert (True, False) == (
            await backend.delete_user(TEAM, user.id), await backend.delete_user(TEAM, user.id)
        )
        with pytest.raises(NotFound):
            await backend.get_user(TEAM, user.id)
        assert 0 == await total(backend)

    async def test_delete_of_another_teams_user_does_nothing(self, backend: Backend) -> None:
        """delete_user of another team's user is False and the user stays."""
        user = await backend.create_user(OTHER_TEAM, new_user())

        assert False is await backend.delete_user(TEAM, user.id)
        assert user == await backend.get_user(OTHER_TEAM, user.id)

    async def test_delete_frees_handle_and_external_id(self, backend: Backend) -> None:
        """After a delete the handle and externalId can be used again."""
        user = await backend.create_user(TEAM, new_user("alice", external_id="a"))
        await backend.delete_user(TEAM, user.id)

        again = await backend.create_user(TEAM, new_user("alice", external_id="a"))

        assert (1, "alice") == (await total(backend), again.handle)


@pytest.fixture(name="people")
async def _people(backend: Backend) -> dict[str, WireUser]:
    """Four users of TEAM created in this order, each a moment after the last."""
    made = {}
    specs = [
        ("carol", {"display_name": "carol Z", "external_id": "Carol-1", "email": None,
                   "email_type": None, "idp": IDP}),
        ("alice", {"display_name": "Alice Y", "external_id": "alice-2", "email": "alice@corp.example",
                   "email_type": "home"}),
        ("dave", {"display_name": "Dave X", "external_id": "DAVE-3", "email": "dave@example.com",
                  "idp": IDP, "active": False}),
        ("bob", {"display_name": "bob W", "external_id": "bob-4", "email": "bob@example.com",
                 "idp": IDP}),
    ]  # fmt: skip
    for handle, spec in specs:
        spec = dict(spec)
        idp = spec.pop("idp", None)
        made[handle] = await backend.create_user(TEAM, new_user(handle, idp=idp, **spec))
        await distinct_moment()
    return made


class TestSearchWindow:
    async def test_without_filter_everyone_in_creation_order(self, backend: Backend, people: dict) -> None:
        """No filter and no sort: every team user, the total, in creation order."""
        page = await backend.search_users(TEAM, UserQuery())

        assert (4, ["carol", "alice", "dave", "bob"]) == (page.total, [u.handle for u in page.users])
        assert people["alice"] == page.users[1]

    async def test_offset_and_limit_select_a_window(self, backend: Backend, people: dict) -> None:
        """offset skips, limit caps; total counts every match."""
        page = await backend.search_users(TEAM, UserQuery(sort_by="username", offset=1, limit=2))

        assert (4, ["bob", "carol"]) == (page.total, [u.handle for u in page.users])

    async def test_offset_past_the_end_gives_no_users(self, backend: Backend, people: dict) -> None:
        """An offset at or past the total gives no users but the total."""
        page = await backend.search_users(TEAM, UserQuery(offset=4))

        assert (4, ()) == (page.total, page.users)

    async def test_limit_zero_gives_the_total_only(self, backend: Backend, people: dict) -> None:
        """limit 0 counts the matches without returning any."""
        page = await backend.search_users(TEAM, UserQuery(filter=parse_filter("emails pr"), limit=0))

        assert (3, ()) == (page.total, page.users)

    async def test_empty_team_has_no_users(self, backend: Backend) -> None:
        """A team without users has total 0."""
        page = await backend.search_users(TEAM, UserQuery())

        assert (0, ()) == (page.total, page.users)

    @pytest.mark.parametrize(
        ("sort_by", "descending", "expected"),
        [
            ("username", False, ["alice", "bob", "carol", "dave"]),
            ("username", True, ["dave", "carol", "bob", "alice"]),
            ("displayname", False, ["alice", "bob", "carol", "dave"]),  # case-insensitive
            ("displayname", True, ["dave", "carol", "bob", "alice"]),
            ("meta.created", False, ["carol", "alice", "dave", "bob"]),
            ("meta.created", True, ["bob", "dave", "alice", "carol"]),
        ],
    )
    async def test_sort(
        self, backend: Backend, people: dict, sort_by: str, descending: bool, expected: list[str]
    ) -> None:
        """sort_by orders the page by the attribute, ascending or descending."""
        page = await backend.search_users(TEAM, UserQuery(sort_by=sort_by, descending=descending))

        assert expected == [u.handle for u in page.users]


class TestSearchFilter:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ('userName eq "ALICE"', ["alice"]),
            ('USERNAME Eq "alice"', ["alice"]),
            ('userName ne "alice"', ["bob", "carol", "dave"]),
            ('externalId eq "alice-2"', ["alice"]),
            ('externalId eq "ALICE-2"', []),
            ('externalId eq "Carol-1"', ["carol"]),
            ('externalId eq "carol-1"', []),
            ('userName co "AR"', ["carol"]),
            ('userName sw "b"', ["bob"]),
            ('userName ew "E"', ["alice", "dave"]),
            ('userName co "_"', []),
            ('userName co "%"', []),
            ('displayName co "y"', ["alice"]),
            ('userName eq "alice" or userName eq "bob"', ["alice", "bob"]),
            ('userName sw "a" and displayName eq "alice y"', ["alice"]),
            ('userName sw "a" and displayName eq "nobody"', []),
            ('not (userName eq "alice")', ["bob", "carol", "dave"]),
            ('not (emails pr)', ["carol"]),
            ("emails pr", ["alice", "bob", "dave"]),
            ('emails eq "BOB@example.com"', ["bob"]),
            ('emails.value eq "bob@example.com"', ["bob"]),
            ('emails[value ew "@example.com"]', ["bob", "dave"]),
            ('emails[type eq "home" and value co "corp"]', ["alice"]),
            ('emails[type eq "work"]', ["bob", "dave"]),
            ('emails[type eq "work"].value eq "dave@example.com"', ["dave"]),
            ("active eq true", ["bob", "carol"]),
            ("active eq false", ["alice", "dave"]),
            ("active ne true", ["alice", "dave"]),
        ],
    )
    async def test_filter(self, backend: Backend, people: dict, text: str, expected: list[str]) -> None:
        """A filter selects the team users it matches (userName case-insensitive, externalId exact)."""
        assert expected == await handles(backend, text)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ('externalId sw "carol"', []),
            ('externalId sw "Carol"', ["carol"]),
            ('externalId co "ave"', []),
            ('externalId co "AVE"', ["dave"]),
            ('externalId ew "e-3"', []),
            ('externalId ew "E-3"', ["dave"]),
        ],
    )
    async def test_external_id_substring_filters_are_case_exact(
        self, backend: Backend, people: dict, text: str, expected: list[str]
    ) -> None:
        """co, sw and ew on externalId compare case-exactly."""
        assert expected == await handles(backend, text)

    @pytest.mark.parametrize(
        ("text", "matches"),
        [
            ('externalId sw "ab"', False),
            ('externalId sw "AB"', True),
            ('externalId ew "ab"', True),
            ('externalId ew "AB"', False),
            ('externalId co "Ba"', True),
            ('externalId co "ba"', False),
        ],
    )
    async def test_case_exact_prefix_is_not_fooled_by_a_later_match(
        self, backend: Backend, text: str, matches: bool
    ) -> None:
        """sw/ew on externalId look at the start/end only, even when the value occurs elsewhere."""
        await backend.create_user(TEAM, new_user("abab", external_id="ABab"))

        assert (["abab"] if matches else []) == await handles(backend, text)

    async def test_created_after_a_moment(self, backend: Backend, people: dict) -> None:
        """meta.created gt selects the users created after that moment."""
        moment = people["alice"].created

        assert ["bob", "dave"] == await handles(backend, f'meta.created gt "{moment}"')
        assert ["alice", "bob", "dave"] == await handles(backend, f'meta.created ge "{moment}"')

    async def test_filter_total_counts_matches(self, backend: Backend, people: dict) -> None:
        """With a filter, total counts the matching users, not the team."""
        page = await backend.search_users(TEAM, UserQuery(filter=parse_filter("active eq true"), limit=1))

        assert (2, 1) == (page.total, len(page.users))

    @pytest.mark.parametrize(
        "text",
        [
            'nickName eq "x"',
            'userName eq "a" or title eq "x"',
            'not (password pr)',
        ],
    )
    async def test_filter_on_unknown_attribute_is_invalid(self, backend: Backend, text: str) -> None:
        """A filter on an attribute the backend cannot search raises InvalidFilter."""
        with pytest.raises(InvalidFilter):
            await backend.search_users(TEAM, UserQuery(filter=parse_filter(text)))


class TestHealth:
    async def test_check_passes(self, backend: Backend) -> None:
        """check() returns when the backend can serve requests."""
        assert None is await backend.check()

    async def test_ensure_team_is_idempotent(self, backend: Backend) -> None:
        """ensure_team of an existing team keeps its users."""
        await backend.create_user(TEAM, new_user())

        await backend.ensure_team(TEAM)

        assert 1 == await total(backend)


def test_fields_of_round_trips() -> None:
    """The helper fields_of rebuilds exactly the fields a user was created with."""
    user_fields = fields("x1", role="admin", rich_info=(("A", "b"),))
    user = WireUser(
        id="i", team=TEAM, status="active", idp=None, created="", last_modified="",
        **{f.name: getattr(user_fields, f.name) for f in dataclasses.fields(UserFields) if f.name != "active"},
    )  # fmt: skip

    assert user_fields == fields_of(user)
