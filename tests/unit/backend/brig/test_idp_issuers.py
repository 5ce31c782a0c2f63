"""
gateway/backend/brig/idp_issuers.py: a team's IdPs and their issuers read from spar through the
real BrigClient, against a small fake of spar's `GET /i/identity-providers/:tid` (an IdPList of
IdPConfigs shaped as wire-server's golden testObject_IdP_1.json): the cache, its TTL, the re-read
on a miss, one read in flight per team, the bound on teams, and the 403 for an IdP spar lacks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from gateway.backend.brig.client import BrigClient, BrigSettings
from gateway.backend.brig.idp_issuers import SparIssuers
from gateway.scim.errors import ScimError

TEAM = "6f1c2b9e-2a4e-4d0e-9a51-2f1b9b2d7c11"
OTHER_TEAM = "9a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
ENTRA = "2d6f7a8e-0a8b-4c4f-9a3e-5b2e1c0d9f11"
OKTA = "7b0c4a1e-5d3f-4e2a-9c8b-1a2b3c4d5e6f"
ENTRA_ISSUER = "https://sts.windows.net/0b6c4e5a-7d1f-4a8e-9c2b-3d4e5f6a7b8c/"
OKTA_ISSUER = "http://www.okta.com/exk1fcia6d6EMsf331d8"


def idp_config(idp_id: str, issuer: str, team: str = TEAM) -> dict[str, Any]:
    """An IdPConfig as spar renders it (golden testObject_IdP_1.json, trimmed)."""
    return {
        "id": idp_id,
        "metadata": {"issuer": issuer, "requestURI": "https://idp.example.com/sso", "certAuthnResponse": ["<ds:KeyInfo/>"]},
        "extraInfo": {"team": team, "apiVersion": "v2", "handle": "IdP 1", "oldIssuers": [], "replacedBy": None},
    }  # fmt: skip


class FakeSpar:
    """spar's internal IdP list: `idps[team]` answered as an IdPList; counts reads; can hold them."""

    def __init__(self) -> None:
        self.idps: dict[str, list[dict[str, Any]]] = {}
        self.reads: list[str] = []
        self.gate: asyncio.Event | None = None  # while set to an unset event, reads wait for it
        self.status = 200

    async def identity_providers(self, request: web.Request) -> web.Response:
        team = request.match_info["tid"]
        self.reads.append(team)
        if self.gate is not None:
            await self.gate.wait()
        if self.status != 200:
            return web.json_response({"code": self.status, "label": "server-error", "message": "down"}, status=self.status)
        return web.json_response({"providers": self.idps.get(team, [])})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(name="spar")
async def _spar() -> AsyncIterator[tuple[FakeSpar, BrigClient]]:
    fake = FakeSpar()
    app = web.Application()
    app.router.add_get("/i/identity-providers/{tid}", fake.identity_providers)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    url = str(server.make_url("")).rstrip("/")
    client = BrigClient(BrigSettings(brig_url="http://127.0.0.1:9", galley_url="http://127.0.0.1:9", spar_url=url))
    try:
        yield fake, client
    finally:
        await client.close()
        await server.close()


@pytest.fixture(name="fake")
def _fake(spar: tuple[FakeSpar, BrigClient]) -> FakeSpar:
    return spar[0]


@pytest.fixture(name="clock")
def _clock() -> Clock:
    return Clock()


@pytest.fixture(name="issuers")
def _issuers(spar: tuple[FakeSpar, BrigClient], clock: Clock) -> SparIssuers:
    return SparIssuers(spar[1], ttl=300.0, miss_floor=2.0, clock=clock)


class TestIssuerOf:
    async def test_gives_the_metadata_issuer_of_the_tokens_idp(self, fake: FakeSpar, issuers: SparIssuers) -> None:
        """The IdP's `metadata.issuer` is the answer, per IdP id, from one read of the team's list."""
        fake.idps[TEAM] = [idp_config(ENTRA, ENTRA_ISSUER), idp_config(OKTA, OKTA_ISSUER)]

        found = (await issuers.issuer_of(TEAM, ENTRA), await issuers.issuer_of(TEAM, OKTA))

        assert ((ENTRA_ISSUER, OKTA_ISSUER), [TEAM]) == (found, fake.reads)

    async def test_the_list_is_kept_until_the_ttl(self, fake: FakeSpar, issuers: SparIssuers, clock: Clock) -> None:
        """Within the TTL spar is not asked again; past it the next lookup re-reads and sees a change."""
        fake.idps[TEAM] = [idp_config(ENTRA, ENTRA_ISSUER)]
        await issuers.issuer_of(TEAM, ENTRA)
        fake.idps[TEAM] = [idp_config(ENTRA, "https://sts.windows.net/new-tenant/")]
        clock.now += 299
        cached = await issuers.issuer_of(TEAM, ENTRA)
        clock.now += 1

        fresh = await issuers.issuer_of(TEAM, ENTRA)

        assert (ENTRA_ISSUER, "https://sts.windows.net/new-tenant/", 2) == (cached, fresh, len(fake.reads))

    async def test_an_idp_added_since_the_last_read_is_found_by_one_re_read(
        self, fake: FakeSpar, issuers: SparIssuers, clock: Clock
    ) -> None:
        """An IdP id the cached list lacks re-reads spar once (the list older than the floor), then answers."""
        fake.idps[TEAM] = [idp_config(ENTRA, ENTRA_ISSUER)]
        await issuers.issuer_of(TEAM, ENTRA)
        fake.idps[TEAM].append(idp_config(OKTA, OKTA_ISSUER))
        clock.now += 2

        assert (OKTA_ISSUER, 2) == (await issuers.issuer_of(TEAM, OKTA), len(fake.reads))

    async def test_an_idp_spar_does_not_list_is_a_403_that_says_to_make_a_new_token(
        self, fake: FakeSpar, issuers: SparIssuers, clock: Clock
    ) -> None:
        """Unknown even after the re-read: 403 naming the IdP and the team, and the fix (a new token)."""
        fake.idps[TEAM] = [idp_config(ENTRA, ENTRA_ISSUER)]
        await issuers.issuer_of(TEAM, ENTRA)
        clock.now += 5

        with pytest.raises(ScimError) as raised:
            await issuers.issuer_of(TEAM, OKTA)

        assert 403 == raised.value.status
        assert f"bound to SAML IdP {OKTA}, which spar no longer lists for team {TEAM}" in raised.value.detail
        assert "create a new token in Team Settings" in raised.value.detail
        assert 2 == len(fake.reads)

    async def test_misses_right_after_a_read_do_not_ask_spar_again(
        self, fake: FakeSpar, issuers: SparIssuers, clock: Clock
    ) -> None:
        """A token bound to a removed IdP: misses within the floor of the last read fail without a spar call."""
        fake.idps[TEAM] = [idp_config(ENTRA, ENTRA_ISSUER)]
        for _ in range(3):
            with pytest.raises(ScimError):
                await issuers.issuer_of(TEAM, OKTA)
            clock.now += 1

        assert 2 == len(fake.reads)  # the first read, and one re-read once the list was 2 s old

    async def test_an_idp_of_another_team_is_not_this_teams(self, fake: FakeSpar, issuers: SparIssuers) -> None:
        """spar's list for a team is read per team: the other team's IdP is a 403 for this one."""
        fake.idps[OTHER_TEAM] = [idp_config(OKTA, OKTA_ISSUER, team=OTHER_TEAM)]
        fake.idps[TEAM] = [idp_config(ENTRA, ENTRA_ISSUER), idp_config(OKTA, OKTA_ISSUER, team=OTHER_TEAM)]

        with pytest.raises(ScimError) as raised:
            await issuers.issuer_of(TEAM, OKTA)

        assert (403, OKTA_ISSUER) == (raised.value.status, await issuers.issuer_of(OTHER_TEAM, OKTA))

    async def test_spar_failing_is_the_clients_5xx_and_is_not_cached(
        self, fake: FakeSpar, issuers: SparIssuers
    ) -> None:
        """A spar error surfaces as the client's 502 (not a 403); the next lookup asks again and succeeds."""
        fake.idps[TEAM] = [idp_config(ENTRA, ENTRA_ISSUER)]
        fake.status = 500
        with pytest.raises(ScimError) as raised:
            await issuers.issuer_of(TEAM, ENTRA)
        fake.status = 200

        assert (502, ENTRA_ISSUER) == (raised.value.status, await issuers.issuer_of(TEAM, ENTRA))


class TestConcurrency:
    async def test_concurrent_lookups_share_one_read(self, fake: FakeSpar, issuers: SparIssuers) -> None:
        """Twenty lookups of a team nobody has read yet: one spar call, every caller answered."""
        fake.idps[TEAM] = [idp_config(ENTRA, ENTRA_ISSUER)]
        fake.gate = asyncio.Event()
        lookups = [asyncio.create_task(issuers.issuer_of(TEAM, ENTRA)) for _ in range(20)]
        while not fake.reads:
            await asyncio.sleep(0)
        fake.gate.set()

        assert ([ENTRA_ISSUER] * 20, [TEAM]) == (await asyncio.gather(*lookups), fake.reads)

    async def test_a_cancelled_caller_does_not_cancel_the_shared_read(
        self, fake: FakeSpar, issuers: SparIssuers
    ) -> None:
        """The first caller gives up while the read is in flight; the second still gets the answer."""
        fake.idps[TEAM] = [idp_config(ENTRA, ENTRA_ISSUER)]
        fake.gate = asyncio.Event()
        first = asyncio.create_task(issuers.issuer_of(TEAM, ENTRA))
        while not fake.reads:
            await asyncio.sleep(0)
        second = asyncio.create_task(issuers.issuer_of(TEAM, ENTRA))
        await asyncio.sleep(0)
        first.cancel()
        fake.gate.set()

        assert (ENTRA_ISSUER, [TEAM]) == (await second, fake.reads)
        assert first.cancelled()


class TestCacheBound:
    async def test_the_least_recently_used_team_goes_first(
        self, spar: tuple[FakeSpar, BrigClient], clock: Clock
    ) -> None:
        """With room for two teams, a third evicts the one used least recently, which is read again."""
        fake, client = spar
        third = "1e2d3c4b-5a69-4788-97a6-b5c4d3e2f1a0"
        for team in (TEAM, OTHER_TEAM, third):
            fake.idps[team] = [idp_config(ENTRA if team == TEAM else OKTA, ENTRA_ISSUER, team=team)]
        issuers = SparIssuers(client, max_teams=2, clock=clock)
        await issuers.issuer_of(TEAM, ENTRA)
        await issuers.issuer_of(OTHER_TEAM, OKTA)
        await issuers.issuer_of(TEAM, ENTRA)  # TEAM used last: OTHER_TEAM is the least recent
        await issuers.issuer_of(third, OKTA)

        await issuers.issuer_of(TEAM, ENTRA)
        await issuers.issuer_of(OTHER_TEAM, OKTA)

        assert [TEAM, OTHER_TEAM, third, OTHER_TEAM] == fake.reads


class TestIdpsOf:
    async def test_lists_the_teams_idps_in_spars_order_read_now(
        self, fake: FakeSpar, issuers: SparIssuers
    ) -> None:
        """idps_of (the token API's) reads spar every time, so an IdP just added in Team Settings counts."""
        fake.idps[TEAM] = [idp_config(ENTRA, ENTRA_ISSUER)]
        before = await issuers.idps_of(TEAM)
        fake.idps[TEAM].append(idp_config(OKTA, OKTA_ISSUER))

        after = await issuers.idps_of(TEAM)

        assert [(ENTRA, ENTRA_ISSUER)] == before
        assert [(ENTRA, ENTRA_ISSUER), (OKTA, OKTA_ISSUER)] == after
        assert (OKTA_ISSUER, 2) == (await issuers.issuer_of(TEAM, OKTA), len(fake.reads))  # the cache took it

    async def test_malformed_entries_are_skipped(self, fake: FakeSpar, issuers: SparIssuers) -> None:
        """An entry without a UUID id or an issuer is not an IdP the gateway can use."""
        fake.idps[TEAM] = [
            {"id": "not-a-uuid", "metadata": {"issuer": OKTA_ISSUER}, "extraInfo": {"team": TEAM}},
            {"id": OKTA, "metadata": {}, "extraInfo": {"team": TEAM}},
            idp_config(ENTRA.upper(), ENTRA_ISSUER),
        ]

        assert [(ENTRA, ENTRA_ISSUER)] == await issuers.idps_of(TEAM)
