"""
The gateway's reads and writes of spar's own tables (gateway/backend/spar_state), against a real
Cassandra loaded with spar's table definitions. They run when SCIM_GATEWAY_TEST_CASSANDRA is
host:port (`bash .ci/cassandra` starts one and prints it) and skip otherwise.

SCIM_GATEWAY_TEST_CASSANDRA_PROTOCOL sets the native protocol version (default 3, what the
Cassandra 2.1 of .ci/cassandra speaks; empty: negotiated). Each test module gets a keyspace of
its own, dropped at the end. Rows are checked by reading the tables directly, with spar's column
names, so that what spar reads is what is checked.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateway.backend.spar_state import flows
from gateway.backend.spar_state.model import CreationStatus, ExternalIdEntry, TokenInfo, UserTimes
from gateway.backend.spar_state.nameid import name_id_xml, token_key
from gateway.backend.spar_state.schema import create_statements
from gateway.config import SparState
from gateway.scim.errors import ScimError

ADDRESS = os.environ.get("SCIM_GATEWAY_TEST_CASSANDRA", "")
pytestmark = pytest.mark.skipif(not ADDRESS, reason="SCIM_GATEWAY_TEST_CASSANDRA (host:port) is not set")
cassandra_cluster = pytest.importorskip("cassandra.cluster") if ADDRESS else None

ISSUER = "https://idp.example.com/metadata"


def _settings(keyspace: str, **changes: Any) -> SparState:
    host, _, port = ADDRESS.rpartition(":")
    protocol = os.environ.get("SCIM_GATEWAY_TEST_CASSANDRA_PROTOCOL", "3")
    values: dict[str, Any] = {
        "kind": "cassandra",
        "contact_points": (host,),
        "port": int(port),
        "keyspace": keyspace,
        "protocol_version": int(protocol) if protocol else None,
        "request_timeout_seconds": 20.0,
        "connect_timeout_seconds": 20.0,
    }
    values.update(changes)
    return SparState(**values)


@pytest.fixture(name="raw", scope="module")
def _raw() -> Iterator[Any]:
    """A plain driver session on a fresh keyspace with spar's tables: (session, keyspace)."""
    settings = _settings("system")
    keyspace = f"spar_gw_{uuid.uuid4().hex[:12]}"
    args: dict[str, Any] = {"contact_points": list(settings.contact_points), "port": settings.port}
    if settings.protocol_version is not None:
        args["protocol_version"] = settings.protocol_version
    cluster = cassandra_cluster.Cluster(**args)
    session = cluster.connect()
    for statement in create_statements(keyspace):
        session.execute(statement, timeout=60)
    session.set_keyspace(keyspace)
    yield session, keyspace
    session.execute(f"DROP KEYSPACE {keyspace}", timeout=60)
    cluster.shutdown()


@pytest.fixture(name="state")
async def _state(raw: Any) -> AsyncIterator[Any]:
    from gateway.backend.spar_state.cassandra import CassandraSparState

    opened = await CassandraSparState.open(_settings(raw[1]))
    yield opened
    await opened.close()


def _one(raw: Any, cql: str, *params: Any) -> Any:
    return raw[0].execute(cql, params).one()


class TestSamlUsers:
    async def test_a_saml_user_is_found_by_any_case_of_its_name_id(self, state: Any, raw: Any) -> None:
        """user_v2 holds the case-folded NameID as key and the NameID XML; any case of the NameID finds the user."""
        user = uuid.uuid4()

        await state.saml_user_put(ISSUER, "Alice.Smith@Example.COM", user)

        row = _one(raw, "SELECT normalized_uname_id, sso_id, uid FROM user_v2 WHERE issuer = %s", ISSUER)
        assert ("alice.smith@example.com", name_id_xml("Alice.Smith@Example.COM"), user) == tuple(row)
        assert user == await state.saml_user_get(ISSUER, "ALICE.smith@example.com")
        assert await state.saml_user_get("https://other.example.com", "alice.smith@example.com") is None

    async def test_delete_removes_the_row_only_for_its_user(self, state: Any) -> None:
        """deleteSAMLUser: a row naming another user stays; the user's own row goes."""
        user, stranger = uuid.uuid4(), uuid.uuid4()
        await state.saml_user_put(ISSUER, "bob", user)

        await state.saml_user_delete(ISSUER, "BOB", stranger)
        assert user == await state.saml_user_get(ISSUER, "bob")

        await state.saml_user_delete(ISSUER, "Bob", user)
        assert await state.saml_user_get(ISSUER, "bob") is None

    async def test_a_user_only_in_the_legacy_table_is_found_and_moved(self, state: Any, raw: Any) -> None:
        """getSAMLUser reads the legacy `user` table (exact NameID) on a miss and copies the row into user_v2."""
        user = uuid.uuid4()
        raw[0].execute(
            "INSERT INTO user (issuer, sso_id, uid) VALUES (%s, %s, %s)", (ISSUER, name_id_xml("carol"), user)
        )

        assert await state.saml_user_get(ISSUER, "Carol") is None  # the legacy key is the exact NameID
        assert user == await state.saml_user_get(ISSUER, "carol")
        assert user == _one(raw, "SELECT uid FROM user_v2 WHERE issuer = %s AND normalized_uname_id = %s", ISSUER,
                            "carol").uid  # fmt: skip
        assert user == await state.saml_user_get(ISSUER, "CAROL")


class TestExternalIds:
    async def test_the_marker_is_kept_by_an_insert_without_it(self, state: Any, raw: Any) -> None:
        """insertScimExternalId writes no creation_status: a CREATING row stays CREATING until marked CREATED."""
        team, user = uuid.uuid4(), uuid.uuid4()

        await state.external_id_put(team, "e-1", user, CreationStatus.CREATING)
        await state.external_id_put(team, "e-1", user)
        assert ExternalIdEntry(user, CreationStatus.CREATING) == await state.external_id_get(team, "e-1")

        await state.external_id_put(team, "e-1", user, CreationStatus.CREATED)
        row = _one(raw, "SELECT user, creation_status FROM scim_external WHERE team = %s and external_id = %s",
                   team, "e-1")  # fmt: skip
        assert (user, 0) == tuple(row)

    async def test_a_row_without_marker_reads_as_created(self, state: Any, raw: Any) -> None:
        """Rows from before the marker (or spar's plain insert) count as created users."""
        team, user = uuid.uuid4(), uuid.uuid4()
        raw[0].execute("INSERT INTO scim_external (team, external_id, user) VALUES (%s, %s, %s)", (team, "old", user))

        assert ExternalIdEntry(user, CreationStatus.CREATED) == await state.external_id_get(team, "old")

    async def test_delete_and_other_teams(self, state: Any) -> None:
        """An externalId belongs to one team; deleting it leaves nothing behind."""
        team, other, user = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        await state.external_id_put(team, "x", user, CreationStatus.CREATED)

        assert await state.external_id_get(other, "x") is None
        await state.external_id_delete(team, "x")
        assert await state.external_id_get(team, "x") is None


class TestUserTimes:
    async def test_times_round_trip_to_the_millisecond(self, state: Any) -> None:
        """scim_user_times keeps milliseconds, as spar's UTCTimeMillis; a deleted user has none."""
        user = uuid.uuid4()
        created = datetime(2026, 4, 11, 10, 0, 0, 123456, tzinfo=UTC)
        updated = created + timedelta(days=1, microseconds=999)

        await state.user_times_put(user, UserTimes(created, updated))
        times = await state.user_times_get(user)

        assert UserTimes(created.replace(microsecond=123000), updated.replace(microsecond=124000)) == times
        await state.user_times_delete(user)
        assert await state.user_times_get(user) is None


def _token(team: uuid.UUID, *, minutes: int = 0, name: str = "azure") -> TokenInfo:
    created = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    return TokenInfo(team=team, id=uuid.uuid4(), created_at=created, idp=uuid.uuid4(), descr="for Entra", name=name)


class TestTokens:
    async def test_a_token_is_stored_by_its_hash_in_both_tables(self, state: Any, raw: Any) -> None:
        """insertScimToken: the token itself is nowhere; both tables have the sha512: key and the same row."""
        team = uuid.uuid4()
        info = _token(team)

        await state.token_insert("secret-token-1", info)

        by_token = _one(raw, "SELECT team, id, descr, name FROM team_provisioning_by_token WHERE token_ = %s",
                        token_key("secret-token-1"))  # fmt: skip
        by_team = _one(raw, "SELECT token_ FROM team_provisioning_by_team WHERE team = %s AND id = %s", team, info.id)
        assert (team, info.id, "for Entra", "azure") == tuple(by_token)
        assert token_key("secret-token-1") == by_team.token_
        assert info == await state.token_lookup("secret-token-1")
        assert await state.token_lookup("secret-token-2") is None

    async def test_a_token_spar_wrote_without_name_is_named_by_its_id(self, state: Any, raw: Any) -> None:
        """A row made by spar (Team Settings) is found at once; a missing name reads as the token id."""
        team, token_id = uuid.uuid4(), uuid.uuid4()
        raw[0].execute(
            "INSERT INTO team_provisioning_by_token (token_, team, id, created_at, idp, descr) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (token_key("made-in-team-settings"), team, token_id, datetime(2025, 5, 1, tzinfo=UTC), None, "d"),
        )

        info = await state.token_lookup("made-in-team-settings")

        assert info is not None
        assert (team, token_id, None, str(token_id)) == (info.team, info.id, info.idp, info.name)

    async def test_a_plaintext_row_is_converted_to_a_hashed_one(self, state: Any, raw: Any) -> None:
        """connvertPlaintextToken: a row keyed by the token itself moves to its hash on lookup."""
        team, token_id = uuid.uuid4(), uuid.uuid4()
        for table in ("team_provisioning_by_token", "team_provisioning_by_team"):
            raw[0].execute(
                f"INSERT INTO {table} (token_, team, id, created_at, descr, name) VALUES (%s, %s, %s, %s, %s, %s)",
                ("plain-old-token", team, token_id, datetime(2020, 1, 1, tzinfo=UTC), "", "old"),
            )

        info = await state.token_lookup("plain-old-token")

        assert info is not None and info.id == token_id
        keys = {row.token_ for row in raw[0].execute("SELECT token_ FROM team_provisioning_by_token")}
        assert token_key("plain-old-token") in keys and "plain-old-token" not in keys
        by_team = _one(raw, "SELECT token_ FROM team_provisioning_by_team WHERE team = %s AND id = %s", team, token_id)
        assert token_key("plain-old-token") == by_team.token_

    async def test_team_tokens_are_listed_oldest_first_renamed_and_deleted(self, state: Any) -> None:
        """getScimTokens sorts by creation; rename and delete touch both tables; deletion ends the lookup at once."""
        team = uuid.uuid4()
        late, early = _token(team, minutes=10, name="late"), _token(team, minutes=1, name="early")
        await state.token_insert("tok-late", late)
        await state.token_insert("tok-early", early)
        assert late == await state.token_lookup("tok-late")  # now in this process's cache

        assert ["early", "late"] == [info.name for info in await state.tokens_of_team(team)]
        await state.token_rename(team, late.id, "renamed")
        assert "renamed" == (await state.token_lookup("tok-late")).name

        await state.token_delete(team, late.id)
        assert await state.token_lookup("tok-late") is None
        assert [early.id] == [info.id for info in await state.tokens_of_team(team)]

        await state.tokens_delete_team(team)
        assert [] == await state.tokens_of_team(team)
        assert await state.token_lookup("tok-early") is None


class TestFlows:
    async def test_a_saml_user_created_in_spars_order(self, state: Any, raw: Any) -> None:
        """create_begin, create_record, create_finish leave what spar's createValidScimUser leaves."""
        team, user = uuid.uuid4(), uuid.uuid4()
        now = datetime(2026, 4, 11, 9, 30, tzinfo=UTC)

        assert await flows.create_check(state, team, "dave@example.com") is None
        await flows.create_begin(state, team, "dave@example.com", user)
        assert CreationStatus.CREATING == (await flows.create_check(state, team, "dave@example.com")).status
        await flows.create_record(state, team, "dave@example.com", ISSUER, user, UserTimes(now, now))
        assert CreationStatus.CREATING == (await state.external_id_get(team, "dave@example.com")).status
        await flows.create_finish(state, team, "dave@example.com", user)

        assert ExternalIdEntry(user, CreationStatus.CREATED) == await state.external_id_get(team, "dave@example.com")
        assert user == await state.saml_user_get(ISSUER, "Dave@Example.com")
        assert UserTimes(now, now) == await state.user_times_get(user)

    async def test_an_externalid_change_then_a_delete_leave_nothing(self, state: Any) -> None:
        """updateVsuUref moves both indexes; deleteUserInSpar removes the old and new ones and the times."""
        team, user = uuid.uuid4(), uuid.uuid4()
        now = datetime(2026, 4, 11, 9, 30, tzinfo=UTC)
        await flows.create_record(state, team, "erin", ISSUER, user, UserTimes(now, now))

        await flows.update_external_id(state, team, user, ("erin", ISSUER), ("erin.b", ISSUER))
        assert (None, None) == (await state.external_id_get(team, "erin"), await state.saml_user_get(ISSUER, "erin"))
        assert user == await state.saml_user_get(ISSUER, "ERIN.B")

        await flows.delete_user(state, team, user, [("erin", ISSUER), ("erin.b", ISSUER)])
        assert (None, None, None) == (
            await state.external_id_get(team, "erin.b"),
            await state.saml_user_get(ISSUER, "erin.b"),
            await state.user_times_get(user),
        )


async def test_statements_leave_the_event_loop_free(state: Any) -> None:
    """While a statement runs, other coroutines run: the driver's callbacks complete an asyncio future."""
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    before = ticks
    await state.tokens_of_team(uuid.uuid4())
    stop.set()
    await task

    assert ticks > before + 1


async def test_no_node_is_a_503_naming_the_keyspace(raw: Any) -> None:
    """Opening against a port where no Cassandra listens fails as SCIM 503, not a driver traceback."""
    from gateway.backend.spar_state.cassandra import CassandraSparState

    with pytest.raises(ScimError) as caught:
        await CassandraSparState.open(_settings(raw[1], port=1, connect_timeout_seconds=2.0))

    assert 503 == caught.value.status
    assert raw[1] in caught.value.detail
