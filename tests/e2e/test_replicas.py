"""
Two real `scim-gateway serve` processes on one PostgreSQL database (a schema of this test's own)
stay correct together: one userName is created once, a revoked token is refused by the other
replica at once, and the per-team token cap holds under concurrent creates from several processes.
Skipped unless SCIM_GATEWAY_TEST_POSTGRES_DSN names a server.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest

from e2e.conftest import TEAM, Gateway, StartGateway, auth, user_body
from postgres_schema import fresh_schema

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

TOKEN_CAP = 5
USERS = "/scim/v2/Users"


@pytest.fixture(name="replicas")
def _replicas(start_gateway: StartGateway) -> Iterator[tuple[Gateway, Gateway]]:
    """Two gateways started at the same moment on one fresh schema (both migrate at start)."""
    with fresh_schema() as dsn:
        config = {"store": {"kind": "postgres", "dsn": dsn}, "limits": {"tokens_per_team": TOKEN_CAP}}
        pair = (start_gateway(config=config, wait=False), start_gateway(config=config, wait=False))
        try:
            for gateway in pair:
                gateway.wait_ready()
            yield pair
        finally:
            for gateway in pair:
                gateway.stop()


def test_fifty_concurrent_posts_of_one_username_over_two_replicas_make_one_user(
    replicas: tuple[Gateway, Gateway],
) -> None:
    """50 POSTs of one userName at once, alternating between replicas: one 201, 49 409 uniqueness."""
    token, _ = replicas[0].create_token(TEAM)

    def post(i: int) -> tuple[int, str | None]:
        answer = replicas[i % 2].request("POST", USERS, body=user_body("bjensen"), headers=auth(token))
        return answer.status, answer.json().get("scimType")

    with ThreadPoolExecutor(50) as pool:
        results = Counter(pool.map(post, range(50)))

    assert {(201, None): 1, (409, "uniqueness"): 49} == dict(results)
    lookup = USERS + "?filter=" + quote('userName eq "bjensen"')
    for gateway in replicas:
        assert 1 == gateway.request("GET", lookup, headers=auth(token)).json()["totalResults"]


def test_a_token_revoked_through_one_process_is_refused_by_both_replicas_at_once(
    replicas: tuple[Gateway, Gateway],
) -> None:
    """`token revoke` (its own process) and the very next request to either replica answers 401."""
    first, second = replicas
    token, token_id = first.create_token(TEAM)
    before = [g.request("GET", USERS, headers=auth(token)).status for g in replicas]

    revoked = second.cli("token", "revoke", "--team", TEAM, "--id", token_id)

    after = [g.request("GET", USERS, headers=auth(token)).status for g in replicas]
    assert (0, [200, 200], [401, 401]) == (revoked.returncode, before, after)


def test_the_token_cap_holds_under_concurrent_creates_and_revokes_from_many_processes(
    replicas: tuple[Gateway, Gateway],
) -> None:
    """12 concurrent `token create` processes with room for 5 make 5; then revokes and creates race."""
    first, second = replicas

    def create(i: int) -> int:
        gateway = replicas[i % 2]
        return gateway.cli("token", "create", "--team", TEAM, "--description", f"t{i}").returncode

    with ThreadPoolExecutor(12) as pool:
        codes = Counter(pool.map(create, range(12)))
    assert {0: TOKEN_CAP, 1: 12 - TOKEN_CAP} == dict(codes)

    ids = [json.loads(line)["id"] for line in first.cli("token", "list", "--team", TEAM, "--json").stdout.splitlines()]

    def revoke_or_create(i: int) -> tuple[str, int]:
        if i < 2:
            return "revoke", second.cli("token", "revoke", "--team", TEAM, "--id", ids[i]).returncode
        return "create", create(i)

    with ThreadPoolExecutor(6) as pool:
        outcomes = Counter(pool.map(revoke_or_create, range(6)))
    listed = first.cli("token", "list", "--team", TEAM, "--json").stdout.splitlines()

    assert 2 == outcomes[("revoke", 0)]
    assert len(listed) == TOKEN_CAP - 2 + outcomes[("create", 0)] <= TOKEN_CAP


def test_paging_continues_on_the_other_replica(replicas: tuple[Gateway, Gateway]) -> None:
    """Page 1 from one replica, page 2 from the other (no cursor there: OFFSET): every user once."""
    first, second = replicas
    token, _ = first.create_token(TEAM)
    for n in range(15):
        assert 201 == first.request("POST", USERS, body=user_body(f"user{n:02d}"), headers=auth(token)).status

    pages = [
        gateway.request("GET", f"{USERS}?startIndex={start}&count=10", headers=auth(token)).json()
        for gateway, start in ((first, 1), (second, 11))
    ]

    names = [user["userName"] for page in pages for user in page["Resources"]]
    assert [f"user{n:02d}" for n in range(15)] == names
