"""
An IdP-style provisioning run, and the check that brig-lite and the gateway agree afterwards:
shared by the in-process crash-safety test and the end-to-end one.

The IdP behaves as Entra ID and Okta do: it POSTs each user, retries after a 5xx (or a dropped
connection), and after a 409 looks the user up by externalId, taking it as made when found.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# post(body) -> (status, JSON body); find(externalId) -> how many users the filter returns
Post = Callable[[dict[str, Any]], Awaitable[tuple[int, Any]]]
Find = Callable[[str], Awaitable[int]]

MAX_ATTEMPTS = 60


@dataclass
class SyncReport:
    created: int = 0
    attempts: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    found_after_409: int = 0


def sync_user(index: int, *, prefix: str) -> dict[str, Any]:
    name = f"{prefix}{index:05d}"
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": name,
        "externalId": f"{name}@example.com",
        "displayName": f"User {index}",
        "emails": [{"value": f"{name}@example.com", "type": "work", "primary": True}],
        "urn:ietf:params:scim:schemas:extension:wire:1.0:User": {"Department": f"D{index % 7}"},
    }


async def provision(bodies: Sequence[dict[str, Any]], post: Post, find: Find, *, workers: int = 8) -> SyncReport:
    """POST every body, retrying as an IdP does, `workers` at a time; fails after MAX_ATTEMPTS."""
    report = SyncReport()
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)

    async def one(body: dict[str, Any]) -> None:
        for _ in range(MAX_ATTEMPTS):
            report.attempts += 1
            try:
                status, answer = await post(body)
            except OSError:
                status, answer = 0, None  # the IdP saw the connection fail: retry
            report.statuses[status] += 1
            if status == 201:
                report.created += 1
                return
            if status == 409 and await find(body["externalId"]) == 1:
                report.found_after_409 += 1
                return
            if status not in (0, 409, 500, 502, 503, 504):
                raise AssertionError(f"unexpected {status} for {body['userName']}: {answer}")
            await asyncio.sleep(0.001)
        raise AssertionError(f"{body['userName']} not created after {MAX_ATTEMPTS} attempts")

    async def worker() -> None:
        while not queue.empty():
            await one(queue.get_nowait())

    await asyncio.gather(*(worker() for _ in range(workers)))
    return report


def check_both_sides(brig_lite_db: Path, gateway_db: Path, expected_handles: set[str]) -> None:
    """
    brig-lite holds exactly the expected live users; the gateway indexes each once, as created,
    and mirrors each; neither side has anything the other lacks.
    """
    with sqlite3.connect(f"file:{brig_lite_db}?mode=ro", uri=True) as brig:
        live = dict(brig.execute("SELECT id, handle FROM accounts WHERE status != 'deleted'").fetchall())
    with sqlite3.connect(f"file:{gateway_db}?mode=ro", uri=True) as gateway:
        index = gateway.execute("SELECT user_id, state FROM brig_external_ids").fetchall()
        mirror = dict(gateway.execute("SELECT id, handle FROM brig_users").fetchall())

    assert expected_handles == set(live.values()), "brig-lite: users missing or left over"
    assert len(expected_handles) == len(live), "brig-lite: a handle twice"
    indexed = Counter(user_id for user_id, _ in index)
    assert {"created"} == {state for _, state in index}, "gateway: a create marker left behind"
    assert set(live) == set(indexed), "an account in brig-lite without index entry, or the reverse"
    assert {1} == set(indexed.values()), "gateway: a user indexed more than once"
    assert live == mirror, "gateway: the mirror differs from brig-lite"
