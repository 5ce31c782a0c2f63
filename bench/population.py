"""
Who the bench's users are.

A seeded store holds users 0..N-1 whose id and userName are a pure function of the index, so the
seeder and every load-generator process agree on them without passing a million ids around, and a
workload can pick any of the N users at random (real IdP traffic touches the whole directory, not
a cached handful).

Against a gateway the bench did not seed, a `SampledPopulation` of real users is read through the
API instead (see `sample_population`).
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass

# The team and SAML IdP every seeded user belongs to. The bench token is bound to the IdP, so users
# are SAML users: active at once, and `active: false` really suspends them (an invited,
# pending user would ignore it).
TEAM = "5eed0000-be4c-4a11-9000-000000000001"
IDP = "5eed0000-be4c-4a11-9000-0000000000d1"


def user_id(index: int) -> str:
    """A stable, random-looking UUID v4 for seeded user `index` (uniformly spread in the id index)."""
    digest = hashlib.md5(f"bench-user-{index}".encode()).digest()
    return str(uuid.UUID(bytes=digest, version=4))


def user_name(index: int) -> str:
    """The Wire handle (SCIM userName) of seeded user `index`."""
    return f"bench.user{index}"


@dataclass(frozen=True, slots=True)
class SeededPopulation:
    """Users 0..count-1 as written by bench.seeding."""

    count: int

    def pick(self, rng: random.Random) -> tuple[str, str]:
        """(id, userName) of a user chosen uniformly at random."""
        index = rng.randrange(self.count)
        return user_id(index), user_name(index)


@dataclass(frozen=True, slots=True)
class SampledPopulation:
    """A sample of a live gateway's users; `count` is the team's totalResults."""

    count: int
    users: tuple[tuple[str, str], ...]  # (id, userName)

    def pick(self, rng: random.Random) -> tuple[str, str]:
        return rng.choice(self.users)


Population = SeededPopulation | SampledPopulation


async def sample_population(base_url: str, token: str, *, pages: int = 10, page_size: int = 200) -> SampledPopulation:
    """
    Read up to `pages` pages of users at random offsets of a running gateway's team (the team of
    `token`). Used only when the bench did not seed the store itself.
    """
    import aiohttp  # only the parent needs it here

    headers = {"Authorization": f"Bearer {token}", "Accept": "application/scim+json"}
    users_url = f"{base_url}/scim/v2/Users"
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.get(users_url, params={"count": "0"}) as response:
            response.raise_for_status()
            total = (await response.json(content_type=None))["totalResults"]
        if total == 0:
            raise SystemExit("bench: the token's team has no users; the read workloads need some")
        rng = random.Random(1)
        starts = {1 + rng.randrange(max(total - page_size, 0) + 1) for _ in range(pages)}
        found: dict[str, str] = {}
        for start in sorted(starts):
            params = {"startIndex": str(start), "count": str(page_size)}
            async with session.get(users_url, params=params) as response:
                response.raise_for_status()
                for resource in (await response.json(content_type=None))["Resources"]:
                    found[resource["id"]] = resource["userName"]
    return SampledPopulation(total, tuple(sorted(found.items())))
