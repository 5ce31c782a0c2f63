"""
How the fast lane answers a round's requests (gateway/web/connections.py): at the end of the
event loop's round, that round's requests together, read from one snapshot of the store taken
after all of them arrived, and their answers always before whatever follows them on the same
connection (an answer of aiohttp's, the connection's close). A round is made here by handing
connections their chunks one after the other without yielding to the loop, as the loop does
with the chunks one wait for readiness brought.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fast_lane_calls import Served, alice_ready, body_request, both, connected, create_user, get, serve_both

from gateway.config import Config
from gateway.web.connections import ConnectionGuard, ConnectionLimits, GatewayProtocol
from gateway.web.fast_lane import FastLane
from gateway.web.middlewares import SERVES_ALL

pytestmark = pytest.mark.sqlite_store


@pytest.fixture(name="served")
async def _served(config: Config, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Served]:
    async with serve_both(config, monkeypatch) as served:
        yield served


@asynccontextmanager
async def connections(
    served: Served, config: Config, count: int
) -> AsyncIterator[list[tuple[GatewayProtocol, socket.socket]]]:
    """`count` loopback connections served by one guard with the fast lane: (its protocol, the client's socket)."""
    guard = ConnectionGuard(
        served.runner.server, ConnectionLimits.of(config.listen), fast_lane=FastLane(served.app, serves=SERVES_ALL)
    )
    loop = asyncio.get_running_loop()
    pairs: list[tuple[GatewayProtocol, socket.socket]] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        for _ in range(count):
            client = socket.create_connection(listener.getsockname())
            client.setblocking(False)
            accepted, _ = listener.accept()
            _, protocol = await loop.connect_accepted_socket(guard, accepted)
            pairs.append((protocol, client))
    try:
        yield pairs
    finally:
        for protocol, client in pairs:
            if protocol.transport is not None:
                protocol.transport.close()
            client.close()


async def read_all(client: socket.socket) -> bytes:
    """What the server sent until it closed the connection."""
    loop = asyncio.get_running_loop()
    received = b""
    while chunk := await asyncio.wait_for(loop.sock_recv(client, 65536), 5):
        received += chunk
    return received


async def responses(client: socket.socket, count: int) -> list[bytes]:
    """The next `count` whole responses on the connection."""
    loop = asyncio.get_running_loop()
    received, answers = b"", []
    while len(answers) < count:
        received += await asyncio.wait_for(loop.sock_recv(client, 65536), 5)
        while (end := received.find(b"\r\n\r\n")) >= 0:
            length = int(re.search(rb"\r\nContent-Length: (\d+)\r\n", received[: end + 2])[1])  # type: ignore[index]
            if len(received) < end + 4 + length:
                break
            answers.append(received[: end + 4 + length])
            received = received[end + 4 + length :]
    return answers


def request_ids(answers: list[bytes]) -> list[bytes]:
    return [re.search(rb"\r\nRequest-Id: ([^\r]*)\r\n", answer)[1] for answer in answers]  # type: ignore[index]


async def test_a_rounds_answers_go_out_together_at_its_end(served: Served, config: Config) -> None:
    uid = await alice_ready(served)
    async with connections(served, config, 3) as pairs:
        served.answered.clear()
        for number, (protocol, _) in enumerate(pairs):
            protocol.data_received(get(f"/scim/v2/Users/{uid}", served.token, request_id=f"rid-{number}"))
        assert served.answered == []  # not yet: the round has not ended
        for _, client in pairs:
            with pytest.raises(BlockingIOError):
                client.recv(1)
        answers = [(await responses(client, 1))[0] for _, client in pairs]

    assert served.answered == [True, True, True]
    assert all(answer.startswith(b"HTTP/1.1 200 OK\r\n") and b'"userName":"alice"' in answer for answer in answers)
    assert request_ids(answers) == [b"rid-0", b"rid-1", b"rid-2"]


async def test_answers_on_one_connection_in_one_round_go_out_in_order(served: Served, config: Config) -> None:
    """Two fast-lane answers and one of aiohttp's on one connection: none replaces or overtakes another."""
    uid = await alice_ready(served)
    async with connections(served, config, 1) as [(protocol, client)]:
        served.answered.clear()
        protocol.data_received(get(f"/scim/v2/Users/{uid}", served.token, request_id="lane-1"))
        protocol.data_received(get(f"/scim/v2/Users/{uid}", served.token, request_id="lane-2"))
        protocol.data_received(get(f"/scim/v2/Users/{uid}", served.token, 'If-None-Match: W/"x"', request_id="aiohttp"))
        answers = await responses(client, 3)

    assert served.answered == [True, True, False]
    assert request_ids(answers) == [b"lane-1", b"lane-2", b"aiohttp"]
    assert all(answer.startswith(b"HTTP/1.1 200 OK\r\n") for answer in answers)


@pytest.mark.parametrize("closing", ["force_close", "shutdown"])
async def test_an_answer_goes_out_before_the_connection_closes(served: Served, config: Config, closing: str) -> None:
    uid = await alice_ready(served)
    async with connections(served, config, 1) as [(protocol, client)]:
        served.answered.clear()
        protocol.data_received(get(f"/scim/v2/Users/{uid}", served.token, request_id="lane"))
        if closing == "shutdown":
            await protocol.shutdown(1.0)
        else:
            protocol.force_close()
        received = await read_all(client)

    assert served.answered == [True]
    assert received.startswith(b"HTTP/1.1 200 OK\r\n") and request_ids([received]) == [b"lane"]
    assert received.endswith(b"}")  # the whole body, then the close


class _FailingWrites:
    """A transport whose writes fail (a connection reset as it is written to)."""

    def __init__(self, real: asyncio.Transport) -> None:
        self.real = real

    def is_closing(self) -> bool:
        return False

    def write(self, data: bytes) -> None:
        raise ConnectionResetError("reset")

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)


async def test_a_connection_whose_answer_fails_does_not_hold_the_others(served: Served, config: Config) -> None:
    uid = await alice_ready(served)
    async with connections(served, config, 2) as [(failing, failing_client), (protocol, client)]:
        for number, each in enumerate((failing, protocol)):
            each.data_received(get(f"/scim/v2/Users/{uid}", served.token, request_id=f"rid-{number}"))
        assert failing.transport is not None
        failing.transport = _FailingWrites(failing.transport)  # type: ignore[assignment]
        answers = await responses(client, 1)
        failed = await read_all(failing_client)

    assert request_ids(answers) == [b"rid-1"]
    assert failed == b""  # closed, nothing sent


def rename_in_store(config: Config, old: str, new: str) -> None:
    """Change a stored document behind the gateway's back, as another process's write would, and commit."""
    with contextlib.closing(sqlite3.connect(config.store.path)) as conn, conn:
        changed = conn.execute("UPDATE users SET document = replace(document, ?, ?)", (old, new)).rowcount
    assert changed == 1


async def test_a_round_reads_the_store_as_it_is_after_its_requests_arrived(served: Served, config: Config) -> None:
    """A write committed after a round's requests came and before the round ends is in their answers."""
    uid = await alice_ready(served)
    async with connections(served, config, 2) as pairs:
        for number, (protocol, _) in enumerate(pairs):
            protocol.data_received(get(f"/scim/v2/Users/{uid}", served.token, request_id=f"rid-{number}"))
        rename_in_store(config, '"displayName":"Alice"', '"displayName":"Alicia"')
        answers = [(await responses(client, 1))[0] for _, client in pairs]

    assert served.answered == [True, True]
    assert all(b'"displayName":"Alicia"' in answer for answer in answers)


async def test_a_rounds_requests_share_one_snapshot_and_the_next_round_takes_a_new_one(
    served: Served, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    A write committed while a round is being answered is not in that round's later answers (they
    read the snapshot its first read took) and is in the next round's: the round's read
    transaction ended with it.
    """
    uid = await alice_ready(served)
    answer = FastLane.answer  # served's spy, which records whether each call answered

    def write_after_first(lane: FastLane, head: Any, size: int, remote: str | None) -> bytes | None:
        result = answer(lane, head, size, remote)
        if len(served.answered) == 1:
            rename_in_store(config, '"displayName":"Alice"', '"displayName":"Alicia"')
        return result

    monkeypatch.setattr(FastLane, "answer", write_after_first)
    async with connections(served, config, 2) as pairs:
        served.answered.clear()
        for number, (protocol, _) in enumerate(pairs):
            protocol.data_received(get(f"/scim/v2/Users/{uid}", served.token, request_id=f"rid-{number}"))
        first_round = [(await responses(client, 1))[0] for _, client in pairs]
        protocol, client = pairs[0]
        protocol.data_received(get(f"/scim/v2/Users/{uid}", served.token, request_id="next"))
        [next_round] = await responses(client, 1)

    assert served.answered == [True, True, True]
    assert all(b'"displayName":"Alice"' in answer for answer in first_round)
    assert b'"displayName":"Alicia"' in next_round


async def test_a_request_that_came_as_the_idle_time_ran_out_is_answered_and_the_connection_kept(
    served: Served, config: Config
) -> None:
    """The fast lane's idle timer firing between a request's arrival and its round's end does not close."""
    uid = await alice_ready(served)
    async with connections(served, config, 1) as [(protocol, client)]:
        protocol.data_received(get(f"/scim/v2/Users/{uid}", served.token, request_id="first"))
        answers = await responses(client, 1)
        protocol.data_received(get(f"/scim/v2/Users/{uid}", served.token, request_id="second"))
        protocol._answered_at -= config.listen.keepalive_timeout_seconds + 1  # noqa: SLF001 - its idle time is up
        protocol._idle()  # noqa: SLF001 - its timer fires before the round ends
        answers += await responses(client, 1)
        assert protocol.transport is not None
        assert not protocol.transport.is_closing()

    assert request_ids(answers) == [b"first", b"second"]


def in_store(config: Config, sql: str, *params: object) -> None:
    """A write behind the gateway's back, as another process's, committed."""
    with contextlib.closing(sqlite3.connect(config.store.path)) as conn, conn:
        assert conn.execute(sql, params).rowcount == 1


async def create_group(served: Served, name: str, members: list[str]) -> str:
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": name,
        "members": [{"value": member} for member in members],
    }
    async with connected(served.plain_port) as conn:
        answer = await conn.ask(body_request("POST", "/scim/v2/Groups", served.token, json.dumps(body).encode()))
    assert answer.startswith(b"HTTP/1.1 201"), answer
    return re.search(rb'"id":"([0-9a-f-]{36})"', answer)[1].decode()  # type: ignore[index]


def groups_in(answer: bytes) -> list[str]:
    return [group["display"] for group in json.loads(answer.split(b"\r\n\r\n", 1)[1])["groups"]]


async def test_a_rounds_users_groups_are_named_from_its_snapshot_and_the_next_round_names_them_again(
    served: Served, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    A round names each set of groups once, from its snapshot (gateway/backend/embedded/documents.py):
    a group renamed while the round is answered is not in its later answers, and the next round
    has the new name, and the group a user joined in between. Each is the answer the same request
    gets without the fast lane (one statement, groups read with the user).
    """
    alice = await alice_ready(served)
    bob = await create_user(served, "bob")
    sales = await create_group(served, "Sales", [alice, bob])
    answer = FastLane.answer

    def rename_after_first(lane: FastLane, head: Any, size: int, remote: str | None) -> bytes | None:
        result = answer(lane, head, size, remote)
        if len(served.answered) == 1:
            in_store(config, "UPDATE groups SET display_name = 'Field Sales' WHERE id = ?", sales)
        return result

    monkeypatch.setattr(FastLane, "answer", rename_after_first)
    async with connections(served, config, 2) as pairs:
        served.answered.clear()
        for (protocol, _), uid in zip(pairs, (alice, bob), strict=True):
            protocol.data_received(get(f"/scim/v2/Users/{uid}", served.token))
        first_round = [(await responses(client, 1))[0] for _, client in pairs]
        monkeypatch.setattr(FastLane, "answer", answer)
        zeta = await create_group(served, "Zeta", [])
        in_store(config, "INSERT INTO group_members (group_id, user_id) VALUES (?, ?)", zeta, alice)
        protocol, client = pairs[0]
        served.answered.clear()
        protocol.data_received(get(f"/scim/v2/Users/{alice}", served.token))
        protocol.data_received(get("/scim/v2/Users?filter=userName%20eq%20%22bob%22", served.token))
        next_round = await responses(client, 2)
        assert served.answered == [True, True]
    _, plain, _ = await both(served, get(f"/scim/v2/Users/{alice}", served.token))

    assert [groups_in(a) for a in first_round] == [["Sales"], ["Sales"]]
    assert groups_in(next_round[0]) == ["Field Sales", "Zeta"] == groups_in(plain)
    assert [g["display"] for g in json.loads(next_round[1].split(b"\r\n\r\n", 1)[1])["Resources"][0]["groups"]] == [
        "Field Sales"
    ]
