"""
The fast lane (gateway/web/fast_lane.py) against aiohttp's own path: one app served on two
listeners, one with the fast lane and one without, asked the same bytes over real sockets. The
answers must be the same bytes (the Date aside), with the same access line and metrics; each test
also says whether the fast lane answered, so that no comparison passes because it stood aside.
SQLite only: the fast lane is off on PostgreSQL (tests/api/test_fast_lane_where.py). How its
answers leave the connection: tests/api/test_fast_lane_rounds.py.
"""

from __future__ import annotations

import asyncio
import re
import urllib.parse
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from conftest import TEAM
from fast_lane_calls import (
    Connection,
    Served,
    alice_ready,
    body_request,
    both,
    connected,
    create_user,
    get,
    serve_both,
    warm,
)

from gateway import metrics
from gateway.config import Config
from gateway.web.connections import ConnectionLimits
from gateway.web.keys import GROUPS, TOKENS, USERS

pytestmark = pytest.mark.sqlite_store


@pytest.fixture(name="served")
async def _served(config: Config, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Served]:
    async with serve_both(config, monkeypatch) as served:
        yield served


def quoted(text: str, *, plus: bool = False) -> str:
    return urllib.parse.quote_plus(text) if plus else urllib.parse.quote(text, safe="")


ANSWERED = [
    ("by id", lambda uid: f"/scim/v2/Users/{uid}", ()),
    ("by id, base without v2", lambda uid: f"/scim/Users/{uid}", ()),
    ("by id, API version prefix", lambda uid: f"/v7/scim/v2/Users/{uid}", ()),
    ("by id, lower-case resource", lambda uid: f"/scim/v2/users/{uid}", ()),
    ("by id, percent-escaped", lambda uid: f"/scim/v2/Users/{uid[:-1]}%{ord(uid[-1]):02X}", ()),
    ("userName eq, %20", lambda uid: "/scim/v2/Users?filter=" + quoted('userName eq "alice"'), ()),
    ("userName eq, + (Entra)", lambda uid: "/scim/v2/Users?filter=" + quoted('userName eq "alice"', plus=True), ()),
    ("userName eq, other case", lambda uid: "/scim/v2/Users?filter=" + quoted('USERNAME Eq "ALICE"'), ()),
    ("externalId eq", lambda uid: "/scim/v2/Users?filter=" + quoted('externalId eq "alice@example.com"'), ()),
    ("id eq", lambda uid: "/scim/v2/Users?filter=" + quoted(f'id eq "{uid}"'), ()),
    ("no such userName", lambda uid: "/scim/v2/Users?filter=" + quoted('userName eq "nobody"'), ()),
    (
        "userName eq with startIndex and count (Okta)",
        lambda uid: "/scim/v2/Users?filter=" + quoted('userName eq "alice"') + "&startIndex=1&count=100",
        (),
    ),
    ("a first page", lambda uid: "/scim/v2/Users?startIndex=1&count=5", ()),
    ("a page of everyone, no parameters", lambda uid: "/scim/v2/Users", ()),
    ("a page of 100, count before startIndex", lambda uid: "/scim/Users?count=100&startIndex=1", ()),
    ("a page of none", lambda uid: "/scim/v2/Users?count=0", ()),
    ("the page after warm()'s", lambda uid: "/scim/v2/Users?startIndex=2&count=5", ()),  # where it ended
    (
        "headers the gateway reads",
        lambda uid: f"/scim/v2/Users/{uid}",
        (
            "User-Agent: Okta SCIM Client 1.0.0 (like curl)",
            "Accept: application/scim+json",
            "X-Forwarded-For: 10.1.2.3",
        ),
    ),
    ("no request id", lambda uid: f"/scim/v2/Users/{uid}", ("X-Request-Id: ",)),
]


EMPTY = ("no such userName", "a page of none", "the page after warm()'s")


@pytest.mark.parametrize(("case", "target", "extra"), ANSWERED, ids=[c[0] for c in ANSWERED])
async def test_the_fast_lane_answers_as_aiohttp_does(
    served: Served, case: str, target: Callable[[str], str], extra: tuple[str, ...]
) -> None:
    """Byte for byte the plain listener's answer, the same access line and the same metrics."""
    uid = await create_user(served, "alice")
    group = await served.app[GROUPS].create(
        await served.app[TOKENS].verify(f"Bearer {served.token}"),
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Staff",
            "members": [{"value": uid}],
        },
    )
    await warm(served)
    request = get(target(uid), served.token, *extra)
    if case == "no request id":
        request = request.replace(b"X-Request-Id: rid-1\r\n", b"")
    observed: list[tuple[Any, ...]] = []
    real = metrics.observe_request

    def spy(*args: Any) -> None:
        observed.append(args[:4])  # not the seconds
        real(*args)

    served.lines.clear()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(metrics, "observe_request", spy)
        lane, plain, answered = await both(served, request)

    assert answered, f"the fast lane left {case!r} to aiohttp"
    if case == "no request id":  # a new one each: the same shape, both headers the same
        ids = [re.findall(rb"Request-Id: ([0-9a-f]{32})\r\n", answer) for answer in (lane, plain)]
        assert all(len(found) == 2 and found[0] == found[1] for found in ids)
        lane, plain = (re.sub(rb"[0-9a-f]{32}", b"-", answer) for answer in (lane, plain))
    assert plain == lane
    assert plain.startswith(b"HTTP/1.1 200") and (b'"Staff"' in plain) == (case not in EMPTY)
    assert group.display_name == "Staff"
    (lane_id, lane_line), (plain_id, plain_line) = served.lines
    assert lane_line.pop("duration_ms") >= 0 and plain_line.pop("duration_ms") >= 0
    assert (lane_line, len(lane_id)) == (plain_line, len(plain_id))
    assert observed[0] == observed[1]


LEFT = [
    ("conditional", lambda uid, token: get(f"/scim/v2/Users/{uid}", token, 'If-None-Match: W/"x", *')),
    ("unknown token", lambda uid, token: get(f"/scim/v2/Users/{uid}", "not-a-token")),
    ("no token", lambda uid, token: get(f"/scim/v2/Users/{uid}", None)),
    ("not a user id", lambda uid, token: get("/scim/v2/Users/not-a-uuid", token)),
    ("no such user", lambda uid, token: get("/scim/v2/Users/00000000-0000-4000-8000-000000000000", token)),
    ("a bad filter", lambda uid, token: get("/scim/v2/Users?filter=" + quoted('userName eq "x" and'), token)),
    ("a NUL in the filter", lambda uid, token: get("/scim/v2/Users?filter=" + quoted('userName eq "a\x00b"'), token)),
    ("a filter on several", lambda uid, token: get("/scim/v2/Users?filter=" + quoted('displayName co "A"'), token)),
    ("a projection", lambda uid, token: get(f"/scim/v2/Users/{uid}?attributes=userName", token)),
    ("a page by OFFSET", lambda uid, token: get("/scim/v2/Users?startIndex=3&count=5", token)),
    ("a page of more than 100", lambda uid, token: get("/scim/v2/Users?startIndex=1&count=101", token)),
    ("a page with a projection", lambda uid, token: get("/scim/v2/Users?count=5&attributes=userName", token)),
    ("a filtered page", lambda uid, token: get("/scim/v2/Users?count=5&filter=" + quoted('userName sw "a"'), token)),
    ("a bad count", lambda uid, token: get("/scim/v2/Users?startIndex=1&count=x", token)),
    (
        "a filter and a sort",
        lambda uid, token: get("/scim/v2/Users?sortBy=userName&filter=" + quoted('id eq "1"'), token),
    ),
    ("HEAD", lambda uid, token: get(f"/scim/v2/Users/{uid}", token, method="HEAD")),
    ("Connection: close", lambda uid, token: get(f"/scim/v2/Users/{uid}", token, "Connection: close")),
    (
        "two Authorization headers",
        lambda uid, token: get(f"/scim/v2/Users/{uid}", token, f"Authorization: Bearer {token}"),
    ),
    ("a group", lambda uid, token: get("/scim/v2/Groups", token)),
    ("HTTP/1.0", lambda uid, token: get(f"/scim/v2/Users/{uid}", token).replace(b"HTTP/1.1", b"HTTP/1.0", 1)),
    ("a folded header", lambda uid, token: get(f"/scim/v2/Users/{uid}", token, "X-A: 1", " 2")),
    ("a bare LF", lambda uid, token: get(f"/scim/v2/Users/{uid}", token, "X-A: 1\nX-B: 2")),
    ("a space before a colon", lambda uid, token: get(f"/scim/v2/Users/{uid}", token, "X-A : 1")),
    ("UTF-8 in a header", lambda uid, token: get(f"/scim/v2/Users/{uid}", token, "X-A: é")),
]


@pytest.mark.parametrize(("case", "request_of"), LEFT, ids=[c[0] for c in LEFT])
async def test_what_the_fast_lane_leaves_is_answered_as_before(
    served: Served, case: str, request_of: Callable[[str, str], bytes]
) -> None:
    """Errors, conditional requests, other resources and unusual bytes: aiohttp's answer, unchanged."""
    uid = await alice_ready(served)
    request = request_of(uid, served.token)
    if case == "UTF-8 in a header":
        request = request.replace("é".encode("latin-1"), "é".encode())
    lane, plain, answered = await both(served, request)

    assert not answered
    lane, plain = (re.sub(rb"[0-9a-f]{32}", b"-", answer) for answer in (lane, plain))  # new request ids
    assert plain == lane


async def test_a_connection_goes_back_to_the_fast_lane_once_aiohttp_has_answered(served: Served) -> None:
    """A create, a read, a change and a read again on one connection: in order, the reads by the fast lane."""
    await warm(served)
    async with connected(served.lane_port) as conn:
        body = (
            b'{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"carol",'
            b'"externalId":"carol@example.com","displayName":"Carol"}'
        )
        created = await conn.ask(body_request("POST", "/scim/v2/Users", served.token, body))
        uid = re.search(rb'"id":"([0-9a-f-]{36})"', created)[1].decode()  # type: ignore[index]
        first = await conn.ask(get(f"/scim/v2/Users/{uid}", served.token))
        patch = (
            b'{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],'
            b'"Operations":[{"op":"replace","path":"displayName","value":"Caro"}]}'
        )
        patched = await conn.ask(body_request("PATCH", f"/scim/v2/Users/{uid}", served.token, patch))
        second = await conn.ask(get(f"/scim/v2/Users/{uid}", served.token))

    assert [b"201", b"200", b"200", b"200"] == [a[9:12] for a in (created, first, patched, second)]
    assert b'"displayName":"Carol"' in first and b'"displayName":"Caro"' in second
    assert [False, True, False, True] == served.answered  # the POST's and PATCH's heads were offered too


async def test_pipelined_requests_are_answered_in_order_by_aiohttp(served: Served) -> None:
    """Two requests in one packet: aiohttp answers both, in order, and the rest of that connection."""
    uid = await alice_ready(served)
    async with connected(served.lane_port) as conn:
        await conn.send(
            get("/scim/v2/ServiceProviderConfig", served.token) + get(f"/scim/v2/Users/{uid}", served.token)
        )
        answers = [await conn.response(), await conn.response()]
        later = await conn.ask(get(f"/scim/v2/Users/{uid}", served.token))

    assert b"ServiceProviderConfig" in answers[0] and uid.encode() in answers[1]
    assert later.startswith(b"HTTP/1.1 200") and uid.encode() in later
    assert [False] == served.answered  # several messages in one chunk: the fast lane is left for good


async def test_a_head_split_across_packets_is_aiohttps(served: Served) -> None:
    """The first half of a head goes to aiohttp, so the rest must too, and all after it."""
    uid = await alice_ready(served)
    request = get(f"/scim/v2/Users/{uid}", served.token)
    async with connected(served.lane_port) as conn:
        await conn.send(request[:20])
        await asyncio.sleep(0.05)
        split = await conn.ask(request[20:])
        whole = await conn.ask(request)

    assert split.startswith(b"HTTP/1.1 200") and whole.startswith(b"HTTP/1.1 200")
    assert [] == served.answered


async def test_a_revoked_token_is_refused_at_once_on_a_fast_lane_connection(served: Served) -> None:
    """The token cache is the fast lane's only check: a revocation must reach the very next request."""
    uid = await alice_ready(served)
    record = await served.app[TOKENS].verify(f"Bearer {served.token}")
    async with connected(served.lane_port) as conn:
        before = await conn.ask(get(f"/scim/v2/Users/{uid}", served.token))
        assert await served.app[TOKENS].revoke(TEAM, record.id)
        after = await conn.ask(get(f"/scim/v2/Users/{uid}", served.token))

    assert before.startswith(b"HTTP/1.1 200") and after.startswith(b"HTTP/1.1 401")
    assert [True, False] == served.answered


async def test_a_new_token_generation_sends_one_request_through_aiohttp_then_the_fast_lane_again(
    served: Served,
) -> None:
    """Another token made drops the cache; aiohttp verifies again, and the same connection comes back."""
    uid = await alice_ready(served)
    async with connected(served.lane_port) as conn:
        answers = [await conn.ask(get(f"/scim/v2/Users/{uid}", served.token))]
        await served.app[TOKENS].create(TEAM, description="another")
        answers += [await conn.ask(get(f"/scim/v2/Users/{uid}", served.token)) for _ in range(2)]

    assert all(answer.startswith(b"HTTP/1.1 200") for answer in answers)
    assert [True, False, True] == served.answered


async def test_a_user_changed_elsewhere_is_read_fresh(served: Served) -> None:
    """No answer is kept: the fast lane reads the store each time."""
    uid = await alice_ready(served)
    token = await served.app[TOKENS].verify(f"Bearer {served.token}")
    async with connected(served.lane_port) as conn:
        before = await conn.ask(get(f"/scim/v2/Users/{uid}", served.token))
        await served.app[USERS].patch(
            token,
            uid,
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "displayName", "value": "Ally"}],
            },
            if_match=None,
        )
        after = await conn.ask(get(f"/scim/v2/Users/{uid}", served.token))

    assert b'"displayName":"Alice"' in before and b'"displayName":"Ally"' in after
    assert [True, True] == served.answered


async def test_an_idle_fast_lane_connection_is_closed_after_the_keepalive_timeout(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """aiohttp never saw a request on it, so the fast lane times its idleness itself."""
    limits = ConnectionLimits(header_timeout=5.0, keepalive_timeout=0.3, max_connections=100)
    async with serve_both(config, monkeypatch, limits) as served:
        uid = await alice_ready(served)
        async with connected(served.lane_port) as conn:
            for _ in range(4):  # busy for longer than the timeout: not closed meanwhile
                assert (await conn.ask(get(f"/scim/v2/Users/{uid}", served.token))).startswith(b"HTTP/1.1 200")
                await asyncio.sleep(0.1)
            started = asyncio.get_running_loop().time()
            assert await conn.closed()
            waited = asyncio.get_running_loop().time() - started

    assert [True] * 4 == served.answered
    assert 0.15 < waited < 2.0


@pytest.mark.parametrize("then", ["nothing", "half a head", "a whole request"])
async def test_after_a_fast_lane_answer_idleness_is_timed_as_aiohttp_would(
    config: Config, monkeypatch: pytest.MonkeyPatch, then: str
) -> None:
    """Half a head that never ends is closed after the keep-alive timeout, as aiohttp closes it."""
    limits = ConnectionLimits(header_timeout=5.0, keepalive_timeout=0.3, max_connections=100)
    async with serve_both(config, monkeypatch, limits) as served:
        uid = await alice_ready(served)
        async with connected(served.lane_port) as conn:
            assert (await conn.ask(get(f"/scim/v2/Users/{uid}", served.token))).startswith(b"HTTP/1.1 200")
            if then == "half a head":
                await conn.send(b"GET /scim/v2/Users HTTP/1.1\r\nHost: h\r\n")
            elif then == "a whole request":  # aiohttp's, the lane left: then aiohttp's keep-alive
                await conn.send(b"GET /scim/v2/Users HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n")
                await asyncio.sleep(0.05)
                answer = await conn.ask(b"\r\n")
                assert answer.startswith(b"HTTP/1.1 401"), answer
            assert await conn.closed()


async def test_an_idle_fast_lane_connection_is_closed_at_shutdown(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with serve_both(config, monkeypatch) as served:
        uid = await alice_ready(served)
        conn = await Connection.open(served.lane_port)
        assert (await conn.ask(get(f"/scim/v2/Users/{uid}", served.token))).startswith(b"HTTP/1.1 200")
    try:
        assert await conn.closed()
    finally:
        conn.close()
    assert [True] == served.answered
