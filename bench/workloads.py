"""
The workloads: the request patterns of real identity providers (docs/clients.md, whose sections
the source column names).

Each workload has a `step`: one operation as the IdP performs it, one HTTP request (two for
entra-initial-sync and group-member-patch). The load generator runs `concurrency` coroutines,
each calling `step` in a loop. `step` calls `client.call(label, method, path, body, check)`; the
client times the request, reads the whole body and counts it as an error when the status is not
2xx or `check` objects.

| workload           | what is sent                                                           | source    |
|--------------------|------------------------------------------------------------------------|-----------|
| entra-initial-sync | GET /Users?filter=userName eq "<new>" (200, empty), then POST it       | §1.5, 1.9 |
| entra-incremental  | PATCH Replace displayName, or active "False"/"True" (Entra's strings)  | §1.6, 1.7 |
| okta-import        | GET /Users?startIndex=k&count=100, consecutive pages from a random one | §2.10     |
| get-by-id          | GET /Users/<id> of a random user                                       | §1.5      |
| filter-username    | GET /Users?filter=userName eq "<existing>"                             | §1.5, 2.5 |
| group-member-patch | PATCH /Groups/<id>: Remove one member (path "members", a value list),  | §1.8      |
|                    | then Add it back                                                       |           |
| ceiling            | GET of a pre-serialised ~1 KB user from bench/ceiling.py (no gateway)  |           |
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import Awaitable, Callable
from typing import Protocol
from urllib.parse import quote, quote_plus

from bench.population import BenchGroup, Population

USERS = "/scim/v2/Users"
GROUPS = "/scim/v2/Groups"
PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

# The gateway's workloads in the order they run: reads first (they leave the store as seeded, so
# each scale is measured at exactly N users), then the writes. group-member-patch leaves every
# group as seeded and runs first among them, before entra-incremental suspends users at random.
READS = ("get-by-id", "filter-username", "okta-import")
WRITES = ("group-member-patch", "entra-incremental", "entra-initial-sync")
GATEWAY_WORKLOADS = READS + WRITES
ALL = ("ceiling", *GATEWAY_WORKLOADS)

Check = Callable[[int, bytes], str | None]  # (status, body) -> error message, or None if fine


class Client(Protocol):
    """What a step needs from the load generator (bench.loadgen.Client)."""

    def call(
        self, label: str, method: str, path: str, body: bytes | None = None, check: Check | None = None
    ) -> Awaitable[tuple[int, bytes]]: ...


def total_results(expected: int) -> Check:
    """A check for a ListResponse that must have `expected` results (it parses the small body)."""

    def check(status: int, body: bytes) -> str | None:
        if status != 200:
            return None  # the status itself already counts as the error
        found = json.loads(body).get("totalResults")
        return None if found == expected else f"totalResults {found}, expected {expected}"

    return check


def filter_path(user_name: str, *, form: bool = False) -> str:
    """
    GET /Users?filter=userName eq "<name>", percent-encoded as Okta sends it (`%20`), or with
    `form` as Entra sends it (spaces as `+`, §1.9).
    """
    text = f'userName eq "{user_name}"'
    return f"{USERS}?filter=" + (quote_plus(text) if form else quote(text, safe=""))


class Workload:
    name = ""

    def __init__(self, population: Population) -> None:
        self.population = population

    async def step(self, client: Client, rng: random.Random) -> None:
        raise NotImplementedError


class GetById(Workload):
    """GET /Users/<id>: how Entra and Okta read a user they have linked (by the cached id)."""

    name = "get-by-id"

    async def step(self, client: Client, rng: random.Random) -> None:
        uid, _ = self.population.pick(rng)
        await client.call("GET /Users/{id}", "GET", f"{USERS}/{uid}")


class FilterUsername(Workload):
    """GET /Users?filter=userName eq "x" for an existing user: the match query of every cycle."""

    name = "filter-username"
    _found = staticmethod(total_results(1))

    async def step(self, client: Client, rng: random.Random) -> None:
        _, name = self.population.pick(rng)
        await client.call("GET /Users?filter", "GET", filter_path(name), check=self._found)


class OktaImport(Workload):
    """
    Okta's import: pages of 100, `startIndex` 1, 101, 201, ... one after the other (§2.10). Each
    coroutine is one import in progress: it starts at a random page (so a short run costs what a
    whole import costs on average, deep pages included) and walks on page by page, wrapping at the
    end, so a gateway that makes the *next* page cheap gets the credit, as it would with Okta.
    """

    name = "okta-import"

    def __init__(self, population: Population) -> None:
        super().__init__(population)
        self._next_page: dict[int, int] = {}  # id(coroutine task) -> its next page

    async def step(self, client: Client, rng: random.Random) -> None:
        pages = max(1, -(-self.population.count // 100))
        me = id(asyncio.current_task())
        page = self._next_page.get(me)
        if page is None:
            page = rng.randrange(pages)
        self._next_page[me] = (page + 1) % pages
        start = 1 + 100 * page
        await client.call("GET /Users?startIndex", "GET", f"{USERS}?startIndex={start}&count=100")


class EntraIncremental(Workload):
    """
    Entra's incremental cycle: PATCH with capitalised `Replace` on a single attribute, `active`
    as the string "False"/"True" (Entra's default, §1.6/§1.7), displayName as a new value.
    """

    name = "entra-incremental"

    async def step(self, client: Client, rng: random.Random) -> None:
        uid, _ = self.population.pick(rng)
        kind = rng.randrange(3)
        if kind == 0:
            operation = {"op": "Replace", "path": "displayName", "value": f"Bench Renamed {rng.getrandbits(32)}"}
        else:
            operation = {"op": "Replace", "path": "active", "value": "False" if kind == 1 else "True"}
        body = json.dumps({"schemas": [PATCH_URN], "Operations": [operation]}).encode()
        await client.call("PATCH /Users/{id}", "PATCH", f"{USERS}/{uid}", body)


class EntraInitialSync(Workload):
    """
    Entra's initial cycle for a user the target does not have: the match query answers an empty
    ListResponse (expected, not an error), then the POST (§1.5 ENTRA-U1, the verbatim create body;
    its `Test_User_<uuid>` userName lower-cases to a valid Wire handle).
    """

    name = "entra-initial-sync"
    _absent = staticmethod(total_results(0))

    async def step(self, client: Client, rng: random.Random) -> None:
        user_name = f"Test_User_{uuid.UUID(int=rng.getrandbits(128), version=4)}"
        status, _ = await client.call("GET /Users?filter (new)", "GET", filter_path(user_name, form=True), check=self._absent)
        if status != 200:
            return
        body = {
            "schemas": [
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "externalId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "userName": user_name,
            "active": True,
            "emails": [{
                "primary": True,
                "type": "work",
                "value": f"Test_User_{uuid.UUID(int=rng.getrandbits(128), version=4)}@testuser.com"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
            "roles": [],
        }  # fmt: skip
        await client.call("POST /Users", "POST", USERS, json.dumps(body).encode(), check=_created)


class GroupMemberPatch(Workload):
    """
    Entra's group membership PATCH (§1.8 ENTRA-G6, then ENTRA-G5, verbatim bodies): remove one
    member of a group (`Remove`, path `members`, a value list), then add it back (`Add`), so every
    group keeps its seeded size. Half the operations go to a department (N/10 members), half to
    the small group (100 members), and the requests are labelled by group kind, so the report
    shows whether a one-member change to a large group costs what it costs for a small one. A member being changed by
    one coroutine is not picked by another of the same process (no PATCH turns into a no-op);
    with several client processes, two may rarely pick the same member, and the later PATCH is
    then a no-op (still 204). Each PATCH must answer 204 (Entra asks for it) or 200.
    """

    name = "group-member-patch"

    def __init__(self, population: Population) -> None:
        super().__init__(population)
        groups = population.groups()
        if not groups:
            raise ValueError("group-member-patch needs groups with members; the team has none")
        self._large = [g for g in groups if g.kind == "large"]
        self._small = [g for g in groups if g.kind != "large"]
        self._busy: set[tuple[str, str]] = set()  # (group id, user id) being changed right now

    def _pick(self, rng: random.Random) -> tuple[BenchGroup, str]:
        for _ in range(100):
            pool = self._large if self._large and (not self._small or rng.random() < 0.5) else self._small
            group = rng.choice(pool)
            member = rng.choice(group.members)
            if (group.id, member) not in self._busy:
                return group, member
        return group, member  # every pick busy: more coroutines than members; a no-op is harmless

    async def step(self, client: Client, rng: random.Random) -> None:
        group, member = self._pick(rng)
        key = (group.id, member)
        self._busy.add(key)
        try:
            path = f"{GROUPS}/{group.id}"
            for op in ("Remove", "Add"):
                body = {
                    "schemas": [PATCH_URN],
                    "Operations": [{"op": op, "path": "members", "value": [{"$ref": None, "value": member}]}],
                }
                label = f"PATCH /Groups/{{id}} {op} member ({group.kind} group)"
                await client.call(label, "PATCH", path, json.dumps(body).encode(), check=_no_content)
        finally:
            self._busy.discard(key)


class Ceiling(Workload):
    """GET of one ~1 KB user from bench/ceiling.py: the same client and path shape as get-by-id."""

    name = "ceiling"

    async def step(self, client: Client, rng: random.Random) -> None:
        uid, _ = self.population.pick(rng)
        await client.call("GET ceiling", "GET", f"{USERS}/{uid}")


def _created(status: int, body: bytes) -> str | None:
    """A create must answer 201 (a non-2xx status already counts as the error)."""
    return f"{status} instead of 201 Created" if status != 201 and 200 <= status < 300 else None


def _no_content(status: int, body: bytes) -> str | None:
    """A group PATCH must answer 204 No Content, or 200 with the group."""
    return None if status in (200, 204) or not 200 <= status < 300 else f"{status} instead of 204 No Content"


WORKLOADS: dict[str, type[Workload]] = {
    w.name: w
    for w in (GetById, FilterUsername, OktaImport, EntraIncremental, EntraInitialSync, GroupMemberPatch, Ceiling)
}


def make_workload(name: str, population: Population) -> Workload:
    return WORKLOADS[name](population)
