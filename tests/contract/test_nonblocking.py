"""
A slow database write must not hold up the event loop, nor the reads: those on the reader thread,
and SQLite's point reads on the loop's own connection (a user by id), which WAL lets go on.

The write is made slow inside the database's writer thread: it waits until the test has seen the
reads answered (or, if they never are, gives up after a while). The assertion is on the order in
which the requests complete, never on how long they took.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from conftest import auth, user_body

from gateway.backend.embedded import users as embedded

GIVE_UP_SECONDS = 5.0  # only reached when the reads are blocked, i.e. when the test fails


async def test_reads_complete_while_a_write_is_in_flight(
    client: TestClient, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a user is being written, discovery and reads of other users are answered first."""
    created = await client.post("/scim/v2/Users", json=user_body("alice"), headers=auth(token))
    existing = (await created.json())["id"]

    entered, release = threading.Event(), threading.Event()
    insert_user = embedded.insert_user

    def slow_insert_user(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        release.wait(GIVE_UP_SECONDS)
        return insert_user(*args, **kwargs)

    monkeypatch.setattr(embedded, "insert_user", slow_insert_user)
    finished: list[str] = []

    async def call(name: str, method: str, path: str, **kwargs: Any) -> int:
        async with client.request(method, path, **kwargs) as response:
            await response.read()
            finished.append(name)
            return response.status

    post = asyncio.create_task(
        call("post", "POST", "/scim/v2/Users", json=user_body("bob"), headers=auth(token))
    )
    assert True is await asyncio.to_thread(entered.wait, GIVE_UP_SECONDS)

    statuses = await asyncio.gather(
        call("discovery", "GET", "/scim/v2/ServiceProviderConfig"),
        call("read", "GET", f"/scim/v2/Users/{existing}", headers=auth(token)),
    )
    release.set()

    assert [200, 200, 201] == [*statuses, await post]
    assert {"discovery", "read"} == set(finished[:2])
    assert "post" == finished[2]
