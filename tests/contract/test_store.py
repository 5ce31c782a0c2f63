"""
The Store contract (gateway/store/base.py), run against every implementation.

Every test talks to the `Store` protocol only; a new store is done when this suite is green for it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest

from gateway.provisioning.tokens import TokenService, hash_token, new_token_secret
from gateway.store.base import Store, TokenLimitReached, TokenRecord
from gateway.store.sqlite import SqliteStore
from postgres_schema import fresh_schema

TEAM = "6f1c2b9e-2a4e-4d0e-9a51-2f1b9b2d7c11"
OTHER_TEAM = "d2a1c0de-1111-4222-8333-944455556666"


@asynccontextmanager
async def open_sqlite(tmp: Path) -> AsyncIterator[Store]:
    store = await SqliteStore.open(str(tmp / "gw.db"))
    try:
        yield store
    finally:
        await store.close()


@asynccontextmanager
async def open_postgres(tmp: Path) -> AsyncIterator[Store]:
    """The PostgreSQL store on a fresh schema; skips unless SCIM_GATEWAY_TEST_POSTGRES_DSN is set."""
    with fresh_schema() as dsn:
        from gateway.store.postgres import PostgresStore

        store = await PostgresStore.open(dsn)
        try:
            yield store
        finally:
            await store.close()


OPENERS: dict[str, Callable[[Path], AbstractAsyncContextManager[Store]]] = {
    "sqlite": open_sqlite,
    "postgres": open_postgres,
}


@pytest.fixture(name="store", params=sorted(OPENERS))
async def _store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    async with OPENERS[request.param](tmp_path) as opened:
        yield opened


def record(team: str = TEAM, *, created_at: str = "2026-04-11T10:00:00.000Z", **overrides: object) -> TokenRecord:
    token_id = str(uuid.uuid4())
    values: dict[str, object] = {
        "id": token_id,
        "team": team,
        "hash": hash_token(new_token_secret()),
        "created_at": created_at,
        "description": "Entra ID production",
        "name": token_id,
    }
    values.update(overrides)
    return TokenRecord(**values)  # type: ignore[arg-type]


class _TeamsAnywhere:
    """The part of a Backend that TokenService needs: every team exists."""

    async def ensure_team(self, team: str) -> None:
        return None


class TestRoundTrip:
    async def test_add_then_find_gives_the_record_back(self, store: Store) -> None:
        """A stored record is found by its hash, equal to what was stored."""
        stored = record(idp="idp-1", name="entra", description="Entra ID, üñí")
        await store.add_token(stored, max_per_team=8)

        assert stored == await store.find_token(stored.hash)

    async def test_unknown_hash_is_not_found(self, store: Store) -> None:
        """find_token of a hash nobody stored is None."""
        await store.add_token(record(), max_per_team=8)

        assert None is await store.find_token(hash_token("not a token"))

    async def test_list_gives_the_teams_tokens_oldest_first(self, store: Store) -> None:
        """list_tokens gives only the team's records, oldest first."""
        late = record(created_at="2026-04-11T10:00:02.000Z")
        early = record(created_at="2026-04-11T10:00:01.000Z")
        foreign = record(OTHER_TEAM)
        for each in (late, foreign, early):
            await store.add_token(each, max_per_team=8)

        assert [early, late] == await store.list_tokens(TEAM)
        assert [foreign] == await store.list_tokens(OTHER_TEAM)

    async def test_list_of_a_team_without_tokens_is_empty(self, store: Store) -> None:
        """list_tokens of a team without tokens is an empty list."""
        assert [] == await store.list_tokens(TEAM)

    async def test_revoke_removes_the_token_at_once(self, store: Store) -> None:
        """After revoke_token the token is neither found nor listed; a second revoke is False."""
        stored = record()
        await store.add_token(stored, max_per_team=8)

        assert True is await store.revoke_token(TEAM, stored.id)
        assert (None, []) == (await store.find_token(stored.hash), await store.list_tokens(TEAM))
        assert False is await store.revoke_token(TEAM, stored.id)

    async def test_revoke_of_another_teams_token_does_nothing(self, store: Store) -> None:
        """revoke_token with the wrong team is False and the token still works."""
        stored = record(OTHER_TEAM)
        await store.add_token(stored, max_per_team=8)

        assert False is await store.revoke_token(TEAM, stored.id)
        assert stored == await store.find_token(stored.hash)

    async def test_touch_records_last_use(self, store: Store) -> None:
        """touch_token sets last_used_at and changes nothing else."""
        stored = record()
        await store.add_token(stored, max_per_team=8)

        await store.touch_token(stored.id, "2026-04-12T08:30:00.250Z")

        found = await store.find_token(stored.hash)
        assert dataclasses.replace(stored, last_used_at="2026-04-12T08:30:00.250Z") == found
        assert [found] == await store.list_tokens(TEAM)

    async def test_check_passes(self, store: Store) -> None:
        """check() returns when the store can serve requests."""
        assert None is await store.check()


class TestLimit:
    async def test_add_beyond_the_limit_is_refused(self, store: Store) -> None:
        """With max_per_team tokens stored, add_token raises TokenLimitReached and stores nothing."""
        for _ in range(3):
            await store.add_token(record(), max_per_team=3)
        extra = record()

        with pytest.raises(TokenLimitReached):
            await store.add_token(extra, max_per_team=3)
        assert (3, None) == (len(await store.list_tokens(TEAM)), await store.find_token(extra.hash))

    async def test_limit_is_per_team(self, store: Store) -> None:
        """A full team does not stop another team from adding tokens."""
        await store.add_token(record(), max_per_team=1)

        await store.add_token(record(OTHER_TEAM), max_per_team=1)

        assert 1 == len(await store.list_tokens(OTHER_TEAM))

    async def test_concurrent_adds_with_room_for_one_store_one(self, store: Store) -> None:
        """Of 20 concurrent adds with room for one, exactly one is stored; the rest hit the limit."""
        for _ in range(2):
            await store.add_token(record(), max_per_team=3)

        results = await asyncio.gather(
            *(store.add_token(record(), max_per_team=3) for _ in range(20)), return_exceptions=True
        )

        refused = [r for r in results if isinstance(r, TokenLimitReached)]
        assert (1, 19) == (results.count(None), len(refused))
        assert 3 == len(await store.list_tokens(TEAM))


class TestSecrets:
    async def test_only_the_hash_of_a_token_is_stored(self, store: Store) -> None:
        """A token made by TokenService is stored as its spar-style hash, never as plaintext."""
        service = TokenService(store, _TeamsAnywhere(), max_per_team=8)  # type: ignore[arg-type]

        secret, made = await service.create(TEAM, description="Okta")

        (listed,) = await store.list_tokens(TEAM)
        assert made == listed
        assert hash_token(secret) == listed.hash
        assert secret not in listed.hash
        assert None is await store.find_token(secret)
        assert made == await service.verify(f"Bearer {secret}")


class TestTokenGeneration:
    """What lets TokenService keep token records (gateway/store/base.py, the contract's last point)."""

    async def test_every_change_to_the_tokens_moves_it_and_use_does_not(self, store: Store) -> None:
        """add, rename and revoke each move the generation; recording a use does not (None: never)."""
        first = record()
        seen = [store.token_generation()]
        await store.add_token(first, max_per_team=8)
        seen.append(store.token_generation())
        await store.touch_token(first.id, "2026-04-11T11:00:00.000Z")
        after_touch = store.token_generation()
        await store.rename_token(TEAM, first.id, "renamed")
        seen.append(store.token_generation())
        await store.revoke_token(TEAM, first.id)
        seen.append(store.token_generation())

        if seen[0] is None:  # a store that cannot tell: callers read every time
            assert [None] * 4 == [*seen[1:], after_touch]
        else:
            assert (4, seen[1]) == (len(set(seen)), after_touch)

    def test_only_the_sqlite_store_has_one(self, store: Store, request: pytest.FixtureRequest) -> None:
        """PostgreSQL replicas share no file to keep it in, so they have none (docs/scaling.md)."""
        assert (request.node.callspec.params["store"] == "sqlite") == (store.token_generation() is not None)
