"""
Who the bench's users are.

A seeded store holds users 0..N-1 whose id and userName are a pure function of the index, so the
seeder and every load-generator process agree on them without passing a million ids around, and a
workload can pick any of the N users at random (real IdP traffic touches the whole directory, not
a cached handful).

Groups likewise (`seeded_groups`, a pure function of N): every user is in exactly one of
DEPARTMENTS large groups (user i in department i % DEPARTMENTS, so N/10 members each: 1,000 at 10k
users, 100,000 at 1M), so that every user read renders one group at every scale and the scales
stay comparable; and one small group of SMALL_GROUP_SIZE members, to compare a one-member change
of a small group with one of a large group.

Against a gateway the bench did not seed, a `SampledPopulation` of real users (and groups) is read
through the API instead (see `sample_population`); in brig mode, it holds the users and groups the
bench created through the API (bench/api_seeding.py).
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

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


DEPARTMENTS = 10  # seeded groups 0..9, "large": user i is in department i % DEPARTMENTS
SMALL_GROUP_SIZE = 100  # members of the small group (group DEPARTMENTS): users 0..99


def group_id(index: int) -> str:
    """A stable, random-looking UUID v4 for seeded group `index`."""
    digest = hashlib.md5(f"bench-group-{index}".encode()).digest()
    return str(uuid.UUID(bytes=digest, version=4))


@dataclass(frozen=True, slots=True)
class BenchGroup:
    """A group the group workload changes: its members, and "small" or "large" for the report."""

    id: str
    display_name: str
    external_id: str
    kind: str
    members: tuple[str, ...]  # user ids


def seeded_group_members(index: int, users: int) -> list[int]:
    """
    The user indexes in seeded group `index`: department g (0..9) holds users g, g+10, g+20, ...;
    the small group (index DEPARTMENTS) holds users 0..min(SMALL_GROUP_SIZE, N)-1.
    """
    if index == DEPARTMENTS:
        return list(range(min(SMALL_GROUP_SIZE, users)))
    return list(range(index, users, DEPARTMENTS))


def seeded_groups(users: int, ids: Sequence[str] | None = None) -> tuple[BenchGroup, ...]:
    """
    The departments and the small group of a store of `users` users (those with members);
    `ids[i]` is user i's id (default `user_id(i)`: the directly seeded store).
    """
    groups = []
    for index in range(DEPARTMENTS + 1):
        small = index == DEPARTMENTS
        members = seeded_group_members(index, users)
        if not members:
            continue
        groups.append(BenchGroup(
            id=group_id(index),
            display_name="Bench Small Group" if small else f"Bench Department {index}",
            external_id=str(uuid.UUID(bytes=hashlib.md5(f"bench-group-external-{index}".encode()).digest(), version=4)),
            kind="small" if small else "large",
            members=tuple(user_id(i) if ids is None else ids[i] for i in members),
        ))  # fmt: skip
    return tuple(groups)


@dataclass(frozen=True, slots=True)
class SeededPopulation:
    """Users 0..count-1 (and the groups of `seeded_groups`) as written by bench.seeding."""

    count: int

    def pick(self, rng: random.Random) -> tuple[str, str]:
        """(id, userName) of a user chosen uniformly at random."""
        index = rng.randrange(self.count)
        return user_id(index), user_name(index)

    def groups(self) -> tuple[BenchGroup, ...]:
        return seeded_groups(self.count)


@dataclass(frozen=True, slots=True)
class SampledPopulation:
    """
    Users read from a live gateway, or created by the bench through the API; `count` is the team's
    totalResults. `member_groups`: groups with members, for the group workload.
    """

    count: int
    users: tuple[tuple[str, str], ...]  # (id, userName)
    member_groups: tuple[BenchGroup, ...] = field(default=())

    def pick(self, rng: random.Random) -> tuple[str, str]:
        return rng.choice(self.users)

    def groups(self) -> tuple[BenchGroup, ...]:
        return self.member_groups


Population = SeededPopulation | SampledPopulation


async def sample_population(base_url: str, token: str, *, pages: int = 10, page_size: int = 200) -> SampledPopulation:
    """
    Read up to `pages` pages of users at random offsets of a running gateway's team (the team of
    `token`), and the first page of its groups (those with members, for the group workload). Used
    only when the bench did not seed the store itself.
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
        groups: list[BenchGroup] = []
        async with session.get(f"{base_url}/scim/v2/Groups", params={"count": "20"}) as response:
            response.raise_for_status()
            for resource in (await response.json(content_type=None)).get("Resources", []):
                members = tuple(m["value"] for m in resource.get("members") or ())
                if members:
                    kind = "large" if len(members) >= 1000 else "small"
                    groups.append(BenchGroup(resource["id"], resource["displayName"],
                                             resource.get("externalId") or "", kind, members))  # fmt: skip
    return SampledPopulation(total, tuple(sorted(found.items())), tuple(groups))
