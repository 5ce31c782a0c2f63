"""
The Store contract's token API part (gateway/store/base.py; SQL in gateway/store/token_api_sql.py),
on every store: renames and counts, the IdP registry, and the SSO-invite switch's outbox (flips
written with the change that caused them; claims leased, one per team, oldest first).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.store.base import IdpInUse, IdpRecord, Store, TokenLimitReached
from test_store import OPENERS, OTHER_TEAM, TEAM, record


@pytest.fixture(name="store", params=sorted(OPENERS))
async def _store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    async with OPENERS[request.param](tmp_path) as opened:
        yield opened


def idp(team: str = TEAM, **overrides: str) -> IdpRecord:
    values: dict[str, str | None] = {
        "id": str(uuid.uuid4()),
        "team": team,
        "description": "Entra ID",
        "created_at": "2026-04-11T10:00:00.000Z",
    }
    values.update(overrides)
    return IdpRecord(**values)


async def states(store: Store, team: str = TEAM) -> list[bool]:
    return [f.sso_invites_enabled for f in await store.list_switch_flips(team)]


class TestTokens:
    async def test_rename_and_count(self, store: Store) -> None:
        """rename_token changes the name of the team's token only; count_tokens counts the team's."""
        mine, foreign = record(), record(OTHER_TEAM)
        for each in (mine, foreign):
            await store.add_token(each, max_per_team=8)

        assert (True, False) == (await store.rename_token(TEAM, mine.id, "okta"), await store.rename_token(TEAM, foreign.id, "x"))
        assert ["okta"] == [t.name for t in await store.list_tokens(TEAM)]
        assert (1, 1, 0) == (await store.count_tokens(TEAM), await store.count_tokens(OTHER_TEAM), await store.count_tokens(str(uuid.uuid4())))


class TestFlips:
    async def test_first_token_and_last_deletion_record_a_flip_each(self, store: Store) -> None:
        """0 -> 1 records "off", 1 -> 2 and 2 -> 1 nothing, 1 -> 0 "on"; a failed revoke nothing."""
        first, second = record(), record()
        await store.add_token(first, max_per_team=8)
        await store.add_token(second, max_per_team=8)
        await store.revoke_token(TEAM, first.id)
        await store.revoke_token(TEAM, first.id)
        assert [False] == await states(store)

        await store.revoke_token(TEAM, second.id)

        flips = await store.list_switch_flips(TEAM)
        assert ([False, True], [], [None, None]) == (await states(store), await states(store, OTHER_TEAM), [f.delivered_at for f in flips])
        assert flips[0].seq < flips[1].seq

    async def test_an_add_refused_by_the_cap_records_nothing(self, store: Store) -> None:
        await store.add_token(record(), max_per_team=1)
        with pytest.raises(TokenLimitReached):
            await store.add_token(record(), max_per_team=1)

        assert [False] == await states(store)

    async def test_concurrent_adds_and_revokes_record_alternating_flips_ending_in_the_state(self, store: Store) -> None:
        """Many adds and revokes at once: the flips alternate and the last one matches the final count."""
        tokens = [record() for _ in range(30)]

        async def cycle(index: int) -> None:
            await store.add_token(tokens[index], max_per_team=100)
            if index % 7:
                await store.revoke_token(TEAM, tokens[index].id)

        await asyncio.gather(*(cycle(i) for i in range(30)))

        flips = await states(store)
        assert flips[0] is False and all(a != b for a, b in zip(flips, flips[1:]))
        assert (await store.count_tokens(TEAM) == 0) is flips[-1]


class TestOutbox:
    async def test_claims_give_each_teams_oldest_flip_once_until_the_lease_ends(self, store: Store) -> None:
        """One flip per team, oldest first; claimed flips are not given again while leased; then again."""
        for team in (TEAM, TEAM, OTHER_TEAM):
            token = record(team)
            await store.add_token(token, max_per_team=8)
            if team == TEAM:
                await store.revoke_token(TEAM, token.id)

        claimed = await store.claim_switch_flips(now=1000.0, lease_seconds=30, limit=10)
        again = await store.claim_switch_flips(now=1010.0, lease_seconds=30, limit=10)
        expired = await store.claim_switch_flips(now=1031.0, lease_seconds=30, limit=10)

        assert [(TEAM, False), (OTHER_TEAM, False)] == [(f.team, f.sso_invites_enabled) for f in claimed]
        assert ([], [f.seq for f in claimed]) == (again, [f.seq for f in expired])

    async def test_delivered_moves_the_team_on_and_failed_waits_for_retry_at(self, store: Store) -> None:
        """After delivery the team's next flip is due; a failure counts an attempt and waits until retry_at."""
        token = record()
        await store.add_token(token, max_per_team=8)
        await store.revoke_token(TEAM, token.id)
        (first,) = await store.claim_switch_flips(now=1000.0, lease_seconds=30, limit=10)
        await store.switch_flip_delivered(first.seq, when="2026-04-11T10:00:00.000Z")

        (second,) = await store.claim_switch_flips(now=1000.0, lease_seconds=30, limit=10)
        await store.switch_flip_failed(second.seq, error="the webhook answered 503", retry_at=1060.0)
        early = await store.claim_switch_flips(now=1059.0, lease_seconds=30, limit=10)
        (due,) = await store.claim_switch_flips(now=1060.0, lease_seconds=30, limit=10)

        assert (True, [], second.seq, 1) == (second.sso_invites_enabled, early, due.seq, due.attempts)
        flips = await store.list_switch_flips(TEAM)
        assert (["2026-04-11T10:00:00.000Z", None], [1, 1]) == ([f.delivered_at for f in flips], [f.attempts for f in flips])


class TestIdps:
    async def test_add_list_and_remove(self, store: Store) -> None:
        """IdPs are listed per team, oldest first; an id is registered once; removal forgets it."""
        late, early, foreign = idp(created_at="2026-04-11T10:00:02.000Z"), idp(created_at="2026-04-11T10:00:01.000Z"), idp(OTHER_TEAM)
        for each in (late, early, foreign):
            assert True is await store.add_idp(each)

        assert False is await store.add_idp(idp(OTHER_TEAM, id=late.id))
        assert [early, late] == await store.list_idps(TEAM)
        assert (True, False) == (await store.remove_idp(TEAM, early.id), await store.remove_idp(TEAM, foreign.id))
        assert [late] == await store.list_idps(TEAM)

    async def test_an_idp_tokens_use_is_not_removed(self, store: Store) -> None:
        """remove_idp raises IdpInUse naming the tokens, and keeps the IdP."""
        used = idp()
        await store.add_idp(used)
        token = record(idp=used.id)
        await store.add_token(token, max_per_team=8)

        with pytest.raises(IdpInUse) as raised:
            await store.remove_idp(TEAM, used.id)

        assert ([token.id], [used]) == (raised.value.token_ids, await store.list_idps(TEAM))

    async def test_issuers_are_kept_set_and_listed_when_missing(self, store: Store) -> None:
        """An IdP's issuer reads back; set_idp_issuer sets it in its team only; those without one are listed."""
        with_issuer = idp(issuer="https://sts.windows.net/tenant/", created_at="2026-04-11T10:00:01.000Z")
        without, foreign = (
            idp(created_at="2026-04-11T10:00:02.000Z"),
            idp(OTHER_TEAM, created_at="2026-04-11T10:00:03.000Z"),
        )
        for each in (with_issuer, without, foreign):
            await store.add_idp(each)

        assert [with_issuer, without] == await store.list_idps(TEAM)
        assert [without, foreign] == await store.list_idps_without_issuer()
        assert (True, False) == (
            await store.set_idp_issuer(TEAM, without.id, "http://www.okta.com/exk1"),
            await store.set_idp_issuer(TEAM, foreign.id, "urn:x"),
        )
        assert ["https://sts.windows.net/tenant/", "http://www.okta.com/exk1"] == [
            i.issuer for i in await store.list_idps(TEAM)
        ]
        assert [foreign] == await store.list_idps_without_issuer()
