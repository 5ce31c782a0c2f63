"""
Seeding through the SCIM API, for brig mode: brig-lite's database is brig's, not the gateway's, so
the bench cannot write it directly as bench/seeding.py does for the embedded store.

N users are created with `POST /Users` (`concurrency` at a time), each shaped like seeded user i of
bench.population (same userName, displayName and work email), then the groups of
`seeded_groups` with `POST /Groups`, members included (a department in one request). brig-lite
gives the ids, so the result is a `SampledPopulation` holding every created user and group, which
the load generator processes receive instead of computing ids. About 5 ms per user on the
project's 2-core machine (200 users in 1 s): meant for 1,000 to 10,000 users, not 1M.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from bench.population import SampledPopulation, seeded_groups, user_name

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"


def user_body(index: int) -> dict[str, Any]:
    """User `index` as POST /Users, the same user bench.seeding writes directly."""
    handle = user_name(index)
    email = f"{handle}@bench.example.com"
    return {
        "schemas": [USER_URN],
        "userName": handle,
        "externalId": email,
        "displayName": f"Bench User {index}",
        "active": True,
        "emails": [{"value": email, "type": "work", "primary": True}],
    }


async def seed_through_api(
    base_url: str, token: str, users: int, *, concurrency: int = 16, log: Callable[[str], None] = print
) -> SampledPopulation:
    """Create `users` users and the seeded groups through the gateway; raises SystemExit on an error."""
    started = time.perf_counter()
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/scim+json"}
    timeout = aiohttp.ClientTimeout(total=120)
    ids: list[str] = [""] * users
    async with aiohttp.ClientSession(headers=headers, timeout=timeout) as session:
        indexes = iter(range(users))

        async def create_users() -> None:
            for index in indexes:  # one shared iterator: each index is taken by one coroutine
                ids[index] = (await _post(session, f"{base_url}/scim/v2/Users", user_body(index)))["id"]

        await asyncio.gather(*(create_users() for _ in range(concurrency)))
        log(f"  created {users:,} users through the API in {time.perf_counter() - started:.1f} s")
        groups = []
        for seeded in seeded_groups(users, ids):  # the seeded groups, with the ids brig-lite gave
            body = {
                "schemas": [GROUP_URN], "displayName": seeded.display_name, "externalId": seeded.external_id,
                "members": [{"value": member} for member in seeded.members],
            }  # fmt: skip
            created = await _post(session, f"{base_url}/scim/v2/Groups", body)
            groups.append(dataclasses.replace(seeded, id=created["id"]))
    log(f"  seeded {users:,} users and {len(groups)} groups through the API in {time.perf_counter() - started:.1f} s")
    return SampledPopulation(users, tuple((ids[i], user_name(i)) for i in range(users)), tuple(groups))


async def _post(session: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> dict[str, Any]:
    async with session.post(url, json=body, headers={"Content-Type": "application/scim+json"}) as response:
        answer = await response.read()
        if response.status != 201:
            raise SystemExit(f"bench: seeding through the API: POST {url} answered {response.status}: {answer[:300]!r}")
        return await response.json(content_type=None)
