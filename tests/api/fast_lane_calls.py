"""
What the fast lane's tests share (tests/api/test_fast_lane*.py): one app served on two
listeners, with and without the fast lane, and a client that sends raw bytes and reads whole
responses.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from conftest import TEAM

from gateway.app import create_app
from gateway.config import Config
from gateway.web.connections import ConnectionLimits, GatewaySite
from gateway.web.fast_lane import FastLane, Head
from gateway.web.keys import ACCESS_LOG, TOKENS

DATE = re.compile(rb"\r\nDate: [^\r]*\r\n")


@dataclass
class Served:
    app: web.Application
    lane_port: int  # the listener with the fast lane
    plain_port: int  # the listener without it
    token: str
    runner: web.AppRunner
    lines: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # access lines
    answered: list[bool] = field(default_factory=list)  # per FastLane.answer call: answered or not


@asynccontextmanager
async def serve_both(
    config: Config, monkeypatch: pytest.MonkeyPatch, limits: ConnectionLimits | None = None
) -> AsyncIterator[Served]:
    app = create_app(config)
    lines: list[tuple[str, dict[str, Any]]] = []
    app[ACCESS_LOG] = lambda request_id, fields: lines.append((request_id, fields))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        ports = []
        for fast_lane in (True, False):
            site = GatewaySite(
                runner, limits or ConnectionLimits.of(config.listen), fast_lane=fast_lane, host="127.0.0.1", port=0
            )
            await site.start()
            ports.append(runner.addresses[-1][1])
        token, _ = await app[TOKENS].create(TEAM, description="test")
        served = Served(app, ports[0], ports[1], token, runner, lines)
        answer = FastLane.answer

        def spy(lane: FastLane, head: Head, size: int, remote: str | None) -> bytes | None:
            result = answer(lane, head, size, remote)
            served.answered.append(result is not None)
            return result

        monkeypatch.setattr(FastLane, "answer", spy)
        yield served
    finally:
        await runner.cleanup()


@asynccontextmanager
async def connected(port: int) -> AsyncIterator[Connection]:
    """A `Connection` to the port, closed afterwards."""
    conn = await Connection.open(port)
    try:
        yield conn
    finally:
        conn.close()


class Connection:
    """One client connection that sends raw bytes and reads whole responses."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def response(self, *, head_only: bool = False) -> bytes:
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 5)
        length = re.search(rb"\r\nContent-Length: (\d+)\r\n", head)
        body = b"" if head_only or length is None else await self.reader.readexactly(int(length[1]))
        return DATE.sub(b"\r\nDate: -\r\n", head) + body

    async def ask(self, data: bytes) -> bytes:
        await self.send(data)
        return await self.response(head_only=data.startswith(b"HEAD "))

    async def closed(self) -> bool:
        """Whether the server closed the connection (within 5 s)."""
        return await asyncio.wait_for(self.reader.read(), 5) == b""

    def close(self) -> None:
        self.writer.close()


def get(target: str, token: str | None, *extra: str, request_id: str = "rid-1", method: str = "GET") -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: scim.example.com", f"X-Request-Id: {request_id}"]
    if token is not None:
        lines.append(f"Authorization: Bearer {token}")
    lines += [*extra, "", ""]
    return "\r\n".join(lines).encode()


def body_request(method: str, target: str, token: str, body: bytes) -> bytes:
    return (
        f"{method} {target} HTTP/1.1\r\nHost: scim.example.com\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/scim+json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def create_user(served: Served, name: str, **extra: Any) -> str:
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": name,
        "externalId": f"{name}@example.com",
        "displayName": name.title(),
        "emails": [{"value": f"{name}@example.com", "primary": True}],
        **extra,
    }
    async with connected(served.plain_port) as conn:
        answer = await conn.ask(body_request("POST", "/scim/v2/Users", served.token, json.dumps(body).encode()))
    assert answer.startswith(b"HTTP/1.1 201"), answer
    return re.search(rb'"id":"([0-9a-f-]{36})"', answer)[1].decode()  # type: ignore[index]


async def warm(served: Served) -> None:
    """A request through aiohttp first: the token is verified once, so its record is cached."""
    async with connected(served.plain_port) as conn:
        await conn.ask(get("/scim/v2/ServiceProviderConfig", served.token))
        await conn.ask(get("/scim/v2/Users?count=1", served.token))


async def alice_ready(served: Served) -> str:
    """A user "alice" and the token verified once: the setting of most tests here. Her id."""
    uid = await create_user(served, "alice")
    await warm(served)
    return uid


async def both(served: Served, request: bytes) -> tuple[bytes, bytes, bool]:
    """(the fast lane listener's answer, the plain one's, whether the fast lane answered)."""
    answers = []
    served.answered.clear()
    for port in (served.lane_port, served.plain_port):
        async with connected(port) as conn:
            answers.append(await conn.ask(request))
    return answers[0], answers[1], any(served.answered)
