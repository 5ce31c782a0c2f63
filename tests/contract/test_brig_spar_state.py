"""
The brig backend with `spar_state` (issue 15): beside brig(-lite), it writes spar's own Cassandra
tables as spar's SCIM does (gateway/backend/brig/spar_writes.py), so that spar's SSO login finds
the users it provisions and a create interrupted anywhere blocks no retry. Against a real
Cassandra (SCIM_GATEWAY_TEST_CASSANDRA, see tests/contract/test_spar_state.py); skipped otherwise.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from test_spar_state import ADDRESS, _raw, _settings  # noqa: F401 - _raw is the keyspace fixture

from conftest import add_saml_idp, issuer_of, running_brig_lite
from gateway.app import brig_settings
from gateway.backend.brig.backend import BrigBackend
from gateway.backend.brig.mapping import spar_user_body
from gateway.backend.spar_state.model import CreationStatus
from gateway.backend.wire_user import NewUser, UserFields
from gateway.config import Backend as BackendConfig
from gateway.db.sqlite import SqliteDatabase
from gateway.provisioning.group_members import group_members
from gateway.scim.errors import ScimError, Uniqueness

pytestmark = pytest.mark.skipif(not ADDRESS, reason="SCIM_GATEWAY_TEST_CASSANDRA (host:port) is not set")

TEAM = "6f1c2b9e-2a4e-4d0e-9a51-2f1b9b2d7c11"
IDP = "2d6f7a8e-0a8b-4c4f-9a3e-5b2e1c0d9f11"
ISSUER = issuer_of(IDP)


class Flaky:
    """spar's tables with one write made to fail: the `nth` call (from 1) of the method `fail`, before it runs."""

    def __init__(self, state: Any) -> None:
        self._state = state
        self.fail: str | None = None
        self.nth = 1
        self._seen = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._state, name)
        if name != self.fail:
            return method

        async def failing(*args: Any, **kwargs: Any) -> Any:
            self._seen += 1
            if self._seen == self.nth:
                raise ScimError("Cassandra failed (injected)", status=503)
            return await method(*args, **kwargs)

        return failing


@dataclasses.dataclass
class Setup:
    backend: BrigBackend
    raw: Any  # a driver session on the keyspace: what spar reads
    brig_url: str
    spar: Flaky

    def one(self, cql: str, *params: Any) -> Any:
        return self.raw.execute(cql, params).one()

    def external_id_row(self, external_id: str) -> Any:
        return self.one(
            "SELECT user, creation_status FROM scim_external WHERE team = %s AND external_id = %s",
            uuid.UUID(TEAM),
            external_id,
        )

    def saml_row(self, name_id: str) -> Any:
        return self.one(
            "SELECT uid FROM user_v2 WHERE issuer = %s AND normalized_uname_id = %s", ISSUER, name_id.casefold()
        )

    def times_row(self, user_id: str) -> Any:
        return self.one("SELECT created_at, last_updated_at FROM scim_user_times WHERE uid = %s", uuid.UUID(user_id))

    async def made_by_spar(
        self, handle: str, external_id: str, status: CreationStatus = CreationStatus.CREATED, managed_by: str = "scim"
    ) -> NewUser:
        """A user as spar's SCIM makes one: brig's account (POST /i/users/spar) and its scim_external row."""
        user = saml_user(handle, external_id)
        body = {**spar_user_body(TEAM, user, ISSUER), "newUserSparManagedBy": managed_by}
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{self.brig_url}/i/users/spar", json=body) as answer:
                assert answer.status in (200, 201)
        self.raw.execute(
            "INSERT INTO scim_external (team, external_id, user, creation_status) VALUES (%s, %s, %s, %s)",
            (uuid.UUID(TEAM), external_id, uuid.UUID(user.id), int(status)),
        )
        return user

    async def faults(self, *rules: dict[str, Any]) -> None:
        async with aiohttp.ClientSession() as session:
            async with session.put(f"{self.brig_url}/i/_faults", json={"rules": list(rules)}) as answer:
                assert 200 == answer.status


@pytest.fixture(name="setup")
async def _setup(tmp_path: Path, raw: Any) -> AsyncIterator[Setup]:
    from gateway.backend.spar_state.cassandra import CassandraSparState

    session, keyspace = raw
    async with running_brig_lite(tmp_path / "brig-lite.db") as url:
        await add_saml_idp(tmp_path / "brig-lite.db", TEAM, IDP)
        db = await SqliteDatabase.open(tmp_path / "gw.db")
        spar = await CassandraSparState.open(_settings(keyspace))
        flaky = Flaky(spar)
        settings = brig_settings(BackendConfig(kind="brig", brig_url=url, spar_url=url))
        backend = await BrigBackend.open(settings, db, group_members=group_members, spar_state=flaky)
        try:
            yield Setup(backend, session, url, flaky)
        finally:
            await backend.close()
            await spar.close()
            await db.close()


def saml_user(handle: str, external_id: str) -> NewUser:
    fields = UserFields(
        handle=handle,
        display_name=handle.title(),
        external_id=external_id,
        email=None,
        email_type=None,
        role="member",
        locale="en",
        rich_info=(),
        extra="{}",
        active=True,
    )
    return NewUser(id=str(uuid.uuid4()), fields=fields, idp=IDP)


async def test_a_saml_user_is_in_spars_tables_as_spar_writes_it(setup: Setup) -> None:
    """user_v2 (issuer, case-folded NameID) -> uid; scim_external -> (uid, CREATED); scim_user_times."""
    user = await setup.backend.create_user(TEAM, saml_user("alice", "Alice@Example.com"))

    assert uuid.UUID(user.id) == setup.saml_row("alice@example.com").uid
    row = setup.external_id_row("Alice@Example.com")
    assert (uuid.UUID(user.id), CreationStatus.CREATED) == (row.user, row.creation_status)
    assert setup.times_row(user.id) is not None


async def test_a_new_external_id_moves_spars_rows_and_delete_removes_them(setup: Setup) -> None:
    """updateVsuUref on an externalId change; deleteScimUser's rows on delete."""
    user = await setup.backend.create_user(TEAM, saml_user("bob", "bob@example.com"))
    fields = dataclasses.replace(saml_user("bob", "robert@example.com").fields)

    await setup.backend.update_user(TEAM, user.id, fields)

    assert (None, None) == (setup.external_id_row("bob@example.com"), setup.saml_row("bob@example.com"))
    assert uuid.UUID(user.id) == setup.external_id_row("robert@example.com").user
    assert uuid.UUID(user.id) == setup.saml_row("robert@example.com").uid

    assert await setup.backend.delete_user(TEAM, user.id)

    assert (None, None) == (setup.external_id_row("robert@example.com"), setup.saml_row("robert@example.com"))
    assert setup.times_row(user.id) is None


@pytest.mark.parametrize("after", [False, True], ids=["refused", "answer-lost"])
async def test_a_create_failing_in_brig_leaves_nothing_that_blocks_the_retry(setup: Setup, after: bool) -> None:
    """brig fails the create (before or after doing it): spar's rows go with it; the IdP's retry succeeds."""
    await setup.faults({"route": "POST /i/users/spar", "status": 503, "times": 1, "after": after})
    with pytest.raises(ScimError):
        await setup.backend.create_user(TEAM, saml_user("carol", "carol@example.com"))
    await setup.faults()

    assert (None, None) == (setup.external_id_row("carol@example.com"), setup.saml_row("carol@example.com"))
    retried = await setup.backend.create_user(TEAM, saml_user("carol", "carol@example.com"))
    assert uuid.UUID(retried.id) == setup.external_id_row("carol@example.com").user


# spar's writes of a create, in order (spar_writes.py): the CREATING marker, the times, the
# externalId row, user_v2, the CREATED marker.
CREATE_WRITES = [("external_id_put", 1), ("user_times_put", 1), ("external_id_put", 2), ("saml_user_put", 1),
                 ("external_id_put", 3)]  # fmt: skip


@pytest.mark.parametrize(("write", "nth"), CREATE_WRITES)
async def test_a_create_interrupted_at_any_of_spars_writes_blocks_no_retry(setup: Setup, write: str, nth: int) -> None:
    """Cassandra fails one write of a create: a 503, no brig account left, and the IdP's retry makes the user."""
    new = saml_user("kate", "kate@example.com")
    setup.spar.fail, setup.spar.nth = write, nth
    with pytest.raises(ScimError):
        await setup.backend.create_user(TEAM, new)
    setup.spar.fail = None

    async with aiohttp.ClientSession() as session:
        async with session.get(f"{setup.brig_url}/i/users", params={"ids": new.id}) as answer:
            assert [] == await answer.json()  # the failed create's account is gone
    retried = await setup.backend.create_user(TEAM, saml_user("kate", "kate@example.com"))
    row = setup.external_id_row("kate@example.com")
    assert (uuid.UUID(retried.id), CreationStatus.CREATED) == (row.user, row.creation_status)
    assert uuid.UUID(retried.id) == setup.saml_row("kate@example.com").uid


async def test_a_complete_user_of_spars_is_a_conflict_and_an_interrupted_one_is_cleaned(setup: Setup) -> None:
    """spar's row (CREATED, user alive in brig) is 409; (CREATING, user alive) is an interrupted create: cleaned, then created."""
    await setup.made_by_spar("dave", "dave@example.com", CreationStatus.CREATED)
    await setup.made_by_spar("erin", "erin@example.com", CreationStatus.CREATING)

    with pytest.raises(Uniqueness):
        await setup.backend.create_user(TEAM, saml_user("dave2", "dave@example.com"))
    created = await setup.backend.create_user(TEAM, saml_user("erin2", "erin@example.com"))

    assert uuid.UUID(created.id) == setup.external_id_row("erin@example.com").user


@pytest.fixture(name="tokens")
async def _tokens(setup: Setup, tmp_path: Path, raw: Any) -> AsyncIterator[Any]:
    """A TokenService over spar's token tables (token_cache_seconds 0: every check asks Cassandra)."""
    from gateway.backend.spar_state.cassandra import CassandraSparState
    from gateway.config import Store as StoreConfig
    from gateway.provisioning.tokens import TokenService
    from gateway.store.opening import open_store

    store = await open_store(StoreConfig(path=str(tmp_path / "tokens.db")))
    spar = await CassandraSparState.open(_settings(raw[1], token_cache_seconds=0.0))
    try:
        yield TokenService(store, setup.backend, max_per_team=8, spar=spar), spar
    finally:
        await spar.close()
        await store.close()


async def test_spars_token_tables_are_the_truth_for_tokens(tokens: Any) -> None:
    """A token made in spar works at once; one made here is in spar's tables; revoked or deleted in spar, it stops."""
    from gateway.backend.spar_state.model import TokenInfo
    from gateway.provisioning.tokens import new_token_secret

    service, spar = tokens
    team = str(uuid.uuid4())
    made_in_spar = new_token_secret()
    info = TokenInfo(team=uuid.UUID(team), id=uuid.uuid4(), created_at=datetime.now(UTC), idp=None, descr="ts", name="ts")
    await spar.token_insert(made_in_spar, info)

    assert str(info.id) == (await service.verify(f"Bearer {made_in_spar}")).id  # no import needed
    secret, record = await service.create(team, description="via gateway")
    assert record.id in {str(t.id) for t in await spar.tokens_of_team(uuid.UUID(team))}  # spar's guard sees it
    assert 2 == await service.count(team)

    assert await service.revoke(team, record.id)
    await spar.token_delete(uuid.UUID(team), info.id)  # deleted in Team Settings

    assert 0 == await service.count(team)  # SSO-login invitations back on, in Wire
    for gone in (secret, made_in_spar):
        with pytest.raises(ScimError):
            await service.verify(f"Bearer {gone}")


async def test_the_gateway_with_spar_state_provisions_into_spars_tables(
    aiohttp_client: Any, tmp_path: Path, raw: Any
) -> None:
    """`spar_state: {kind: cassandra}` in the configuration: a token made here works, its SAML user lands in user_v2."""
    from conftest import auth, user_body
    from gateway.app import create_app
    from gateway.config import Store as StoreConfig
    from gateway.config import load_config
    from gateway.web.keys import TOKENS

    session, keyspace = raw
    async with running_brig_lite(tmp_path / "brig-lite.db") as url:
        await add_saml_idp(tmp_path / "brig-lite.db", TEAM, IDP)
        base = load_config(None, {})
        config = dataclasses.replace(
            base,
            store=StoreConfig(path=str(tmp_path / "gateway.db")),
            backend=BackendConfig(kind="brig", brig_url=url, spar_url=url),
            spar_state=_settings(keyspace),
        )
        client = await aiohttp_client(create_app(config))
        secret, _ = await client.app[TOKENS].create(TEAM, description="t", idp=IDP)

        created = await client.post("/scim/v2/Users", json=user_body("frank"), headers=auth(secret))

        assert 201 == created.status, await created.text()
        row = session.execute(
            "SELECT uid FROM user_v2 WHERE issuer = %s AND normalized_uname_id = %s", (ISSUER, "frank@example.com")
        ).one()
        assert uuid.UUID((await created.json())["id"]) == row.uid


@pytest.mark.parametrize("match", ['userName eq "gina"', 'externalId eq "Gina@Example.com"'])
async def test_a_user_spars_scim_made_is_found_by_the_idps_match_and_managed(setup: Setup, match: str) -> None:
    """spar's complete user (brig managed by SCIM, scim_external CREATED): the IdP's filter finds it; PUT and DELETE work."""
    from gateway.backend.wire_user import UserQuery
    from gateway.scim.filter.grammar import parse_filter

    made_by_spar = await setup.made_by_spar("gina", "Gina@Example.com")

    page = await setup.backend.search_users(TEAM, UserQuery(filter=parse_filter(match)))

    assert [(made_by_spar.id, "gina", "Gina@Example.com", IDP)] == [
        (u.id, u.handle, u.external_id, u.idp) for u in page.users
    ]
    renamed = dataclasses.replace(made_by_spar.fields, display_name="Gina Taken Over")
    assert "Gina Taken Over" == (await setup.backend.update_user(TEAM, made_by_spar.id, renamed)).display_name
    assert await setup.backend.delete_user(TEAM, made_by_spar.id)
    assert setup.external_id_row("Gina@Example.com") is None


async def test_a_wire_member_is_never_taken_over(setup: Setup) -> None:
    """A user managed by Wire (not SCIM) stays invisible even with a matching row in spar's index."""
    from gateway.backend.wire_user import UserQuery
    from gateway.scim.filter.grammar import parse_filter

    await setup.made_by_spar("hank", "hank@example.com", managed_by="wire")

    page = await setup.backend.search_users(TEAM, UserQuery(filter=parse_filter('userName eq "hank"')))

    assert 0 == page.total


async def test_tokens_made_before_spar_state_are_copied_by_an_explicit_step(tokens: Any, setup: Setup) -> None:
    """A token in the gateway's store only stops with spar_state on; `copy_to_spar` brings it over, once."""
    from gateway.provisioning.tokens import TokenService

    service, spar = tokens
    team = str(uuid.uuid4())
    before = TokenService(service._store, setup.backend, max_per_team=8)  # noqa: SLF001 - the same store, no spar
    secret, record = await before.create(team, description="made before spar_state")

    with pytest.raises(ScimError):
        await service.verify(f"Bearer {secret}")
    assert 1 == await service.copy_to_spar(team)
    assert record.id == (await service.verify(f"Bearer {secret}")).id
    assert 0 == await service.copy_to_spar(team)


async def test_a_new_external_id_that_spars_index_gives_another_user_is_taken(setup: Setup) -> None:
    """An update to the externalId of a user spar's SCIM made (not yet taken over) is 409; spar's row keeps its user."""
    made_by_spar = await setup.made_by_spar("ivan", "ivan@example.com")
    ours = await setup.backend.create_user(TEAM, saml_user("judy", "judy@example.com"))

    with pytest.raises(Uniqueness):
        await setup.backend.update_user(TEAM, ours.id, saml_user("judy", "ivan@example.com").fields)

    assert uuid.UUID(made_by_spar.id) == setup.external_id_row("ivan@example.com").user
