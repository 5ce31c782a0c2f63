"""
A property-based fuzz run over the gateway's OpenAPI description (GET /i/openapi.json, built by
gateway/web/openapi.py), with schemathesis: for each store (SQLite; PostgreSQL on a fresh schema)
a real `scim-gateway serve` process, a token made with `scim-gateway token create`, a few seeded
users and groups, then thousands of generated requests, valid (positive) and schema-violating
(negative), against every described operation. Runs only with SCIM_GATEWAY_TEST_FUZZ=1.

It fails on:
- any 5xx;
- any 4xx whose body is not an RFC 7644 error body (schemas, status equal to the HTTP status,
  detail) with Content-Type application/scim+json;
- any response that contradicts the description: an undocumented status, Content-Type or header,
  or a body that does not match its schema (schemathesis's conformance checks);
- any secret (the token, any Authorization header value sent) in the gateway's stdout or stderr.

Generation is seeded: SCIM_GATEWAY_FUZZ_SEED (default SEED below); SCIM_GATEWAY_FUZZ_EXAMPLES
scales the examples per operation and mode (default EXAMPLES); SCIM_GATEWAY_FUZZ_OPERATIONS keeps
only the operations whose label ("GET /Users", "PATCH /Groups/{id}") contains one of its
comma-separated words. Seed, requests per store, statuses and each failure (with a curl line to
reproduce it) are printed in the terminal summary. docs/fuzzing.md says more.

Nearly every request carries the valid token, so that the gateway's throttling of failed
authentications is not tripped; about one in UNAUTHENTICATED_EVERY goes without a token or with
a wrong one. Path ids are mostly those of real resources (seeded, or created during the run),
and PATCH paths and group members mostly real ones, so that reads and writes reach the store.
Deletes run last.
"""

from __future__ import annotations

import base64
import collections
import json
import os
import random
import re
import socket
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from e2e.conftest import IDP, TEAM, Gateway, StartGateway, user_body
from fuzz.conftest import SUMMARY
from postgres_schema import fresh_schema

if os.environ.get("SCIM_GATEWAY_TEST_FUZZ") != "1":
    pytest.skip("the fuzz run takes minutes: set SCIM_GATEWAY_TEST_FUZZ=1 (.ci/run does)", allow_module_level=True)

pytestmark = pytest.mark.e2e

schemathesis = pytest.importorskip("schemathesis", reason="the test extra is not installed: pip install -e '.[test]'")
hypothesis = pytest.importorskip("hypothesis")

import requests  # noqa: E402 - schemathesis's own transport
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.core.failures import FailureGroup  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gateway.scim.errors import ERROR_URN  # noqa: E402
from gateway.web.openapi import PATH as OPENAPI_PATH  # noqa: E402
from gateway.web.openapi import openapi_document  # noqa: E402

SEED = 20260316
EXAMPLES = 230  # per operation and mode (Users, Groups, one Schema or ResourceType): ~5,500 requests per store
MIN_REQUESTS_PER_STORE = 5000  # what the default EXAMPLES must reach (issue 16)
UNAUTHENTICATED_EVERY = 200
REQUEST_SECONDS = 10.0
MAX_SECONDS = 900  # per store: a gateway that hangs ends the run as a failure, not CI's timeout
CHECKS = [status_code_conformance, content_type_conformance, response_headers_conformance, response_schema_conformance]

# Order matters: reads, then creates (their ids join the pool), then changes, deletes last.
ORDER = [
    "GET /ServiceProviderConfig",
    "GET /Schemas",
    "GET /Schemas/{id}",
    "GET /ResourceTypes",
    "GET /ResourceTypes/{id}",
    "POST /.search",
    "GET /Users",
    "GET /Groups",
    "POST /Users",
    "POST /Groups",
    "GET /Users/{id}",
    "GET /Groups/{id}",
    "PUT /Users/{id}",
    "PUT /Groups/{id}",
    "PATCH /Users/{id}",
    "PATCH /Groups/{id}",
    "DELETE /Users/{id}",
    "DELETE /Groups/{id}",
]
# Operations without a body or query to vary get a few examples only.
SMALL = {"GET /ServiceProviderConfig", "GET /Schemas", "GET /ResourceTypes", "POST /.search"}
SCHEMA_IDS = [
    "urn:ietf:params:scim:schemas:core:2.0:User",
    "urn:ietf:params:scim:schemas:core:2.0:Group",
    "urn:wire:scim:schemas:profile:1.0",
    "urn:ietf:params:scim:schemas:extension:wire:1.0:User",
]
USER_PATCH_PATHS = [
    "displayName", "userName", "externalId", "active", "name.givenName", "name", "preferredLanguage", "roles",
    'emails[type eq "work"].value', "emails", "urn:wire:scim:schemas:profile:1.0:richInfo", None,
]  # fmt: skip
GROUP_PATCH_PATHS = ["displayName", "members", 'members[value eq "{user}"]', "externalId", None]


_VARYING = re.compile(r"[0-9a-f-]{8,}|'[^']*'|\"[^\"]*\"")  # ids and quoted values, for grouping


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    return int(raw) if raw else default


@dataclass
class Failure:
    kind: str
    label: str
    status: int
    message: str
    reproduction: str
    count: int = 1


@dataclass
class Tally:
    """What one store's run sent and got back."""

    store: str
    deadline: float  # time.monotonic() past which nothing more is sent
    requests: int = 0
    unauthenticated: int = 0
    by_status: collections.Counter[int] = field(default_factory=collections.Counter)
    by_operation: collections.Counter[str] = field(default_factory=collections.Counter)
    failures: dict[tuple[str, str, int, str], Failure] = field(default_factory=dict)

    def fail(self, kind: str, label: str, status: int, message: str, reproduction: str) -> None:
        key = (kind, label, status, _VARYING.sub("…", message)[:60])
        if key in self.failures:
            self.failures[key].count += 1
        else:
            self.failures[key] = Failure(kind, label, status, message, reproduction)


@dataclass
class Pool:
    """Ids of real resources, for path parameters and members; grows with each 201."""

    ids: dict[str, list[str]]
    rng: random.Random

    def pick(self, resource: str) -> str | None:
        known = self.ids.get(resource)
        return self.rng.choice(known) if known else None


@pytest.fixture(name="store_config", params=["sqlite", "postgres"])
def _store_config(request: pytest.FixtureRequest) -> Iterator[tuple[str, dict[str, Any]]]:
    if request.param == "sqlite":
        yield "sqlite", {}
        return
    with fresh_schema() as dsn:
        yield "postgres", {"store": {"kind": "postgres", "dsn": dsn, "connections": 2}}


def test_fuzz(start_gateway: StartGateway, store_config: tuple[str, dict[str, Any]]) -> None:
    """Thousands of generated requests against a real gateway: see the module docstring."""
    store, config = store_config
    seed = env_int("SCIM_GATEWAY_FUZZ_SEED", SEED)
    examples = env_int("SCIM_GATEWAY_FUZZ_EXAMPLES", EXAMPLES)
    only = [w.strip() for w in os.environ.get("SCIM_GATEWAY_FUZZ_OPERATIONS", "").split(",") if w.strip()]
    gateway = start_gateway(config=config)
    # SQLite: a token bound to an IdP (SAML users, any externalId); PostgreSQL: email invitations.
    secret, _ = gateway.create_token(TEAM, idp=IDP if store == "sqlite" else None)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {secret}"
    secrets = {secret}
    pool = Pool(seed_resources(gateway, session), random.Random(seed))
    tally = Tally(store, deadline=time.monotonic() + env_int("SCIM_GATEWAY_FUZZ_SECONDS", MAX_SECONDS))
    served = session.get(gateway.base_url + OPENAPI_PATH, timeout=REQUEST_SECONDS)
    if served.status_code != 200 or served.json() != openapi_document():
        tally.fail("description not served", f"GET {OPENAPI_PATH}", served.status_code, served.text[:200], "-")
    schema = schemathesis.openapi.from_dict(without_security(openapi_document()))
    started = time.monotonic()
    for name, raw in malformed_requests(secret):
        send_raw(gateway, name, raw, tally)
    for label, fields in extreme_cases(pool):
        method, path = label.split(" ", 1)
        case = schema[path][method].Case(media_type="application/scim+json", **fields)
        send(gateway, session, case, {}, True, tally, pool)
    for label in ORDER:
        if only and not any(word in label for word in only):
            continue
        method, path = label.split(" ", 1)
        operation = schema[path][method]
        budget = max(3, examples // 20) if label in SMALL else examples
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            case_seed = zlib.crc32(f"{seed}:{store}:{label}:{mode.value}".encode())
            run_operation(gateway, session, operation, mode, budget, case_seed, pool, tally, secrets)
    elapsed = time.monotonic() - started
    gateway.stop()
    logs = gateway.stdout() + gateway.stderr()
    for value in sorted(secrets):
        if value in logs:
            tally.fail("secret in the logs", "-", 0, f"{value[:6]}... appears in the gateway's output", "-")
    report(tally, seed, examples, elapsed)
    SUMMARY.extend(f"[{store}] gateway log: {line}" for line in unhandled_errors(logs))
    if not only and examples >= EXAMPLES:
        assert tally.requests >= MIN_REQUESTS_PER_STORE, f"only {tally.requests} requests sent"
    assert not tally.failures, f"{len(tally.failures)} kinds of failure on {store}; see the fuzz summary"


def without_security(document: dict[str, Any]) -> dict[str, Any]:
    """
    The description without its security requirements: which requests carry the token is this
    run's choice (UNAUTHENTICATED_EVERY), not schemathesis's, whose negative cases would otherwise
    drop it often enough to be throttled (429) for much of the run.
    """
    for item in document["paths"].values():
        for operation in item.values():
            operation.pop("security", None)
    document["components"].pop("securitySchemes", None)
    return document


def seed_resources(gateway: Gateway, session: Any) -> dict[str, list[str]]:
    """Five users and three groups (two with members), through the API; their ids."""
    url = gateway.scim_url
    users = []
    for n in range(5):
        answer = session.post(f"{url}/Users", json=user_body(f"fuzz-seed-{n}"), timeout=REQUEST_SECONDS)
        assert 201 == answer.status_code, answer.text
        users.append(answer.json()["id"])
    groups = []
    for n in range(3):
        body = {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": f"fuzz group {n}",
            "members": [{"value": uid} for uid in users[: n * 2]],
        }
        answer = session.post(f"{url}/Groups", json=body, timeout=REQUEST_SECONDS)
        assert 201 == answer.status_code, answer.text
        groups.append(answer.json()["id"])
    return {"Users": users, "Groups": groups, "Schemas": list(SCHEMA_IDS), "ResourceTypes": ["User", "Group"]}


def run_operation(
    gateway: Gateway, session: Any, operation: Any, mode: Any, budget: int, case_seed: int, pool: Pool,
    tally: Tally, secrets: set[str],
) -> None:  # fmt: skip
    """`budget` generated cases of one operation and mode; each sent, checked and counted."""
    strategy = st.tuples(operation.as_strategy(generation_mode=mode), st.integers(0, 99))

    @hypothesis.seed(case_seed)
    @settings(
        max_examples=budget, database=None, deadline=None, phases=[Phase.generate], derandomize=False,
        suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
    )  # fmt: skip
    @given(drawn=strategy)
    def one(drawn: tuple[Any, int]) -> None:
        if time.monotonic() > tally.deadline:
            tally.fail("time budget spent", "-", 0, "SCIM_GATEWAY_FUZZ_SECONDS passed; the rest was not sent", "-")
            return
        case, dial = drawn
        steer(case, dial, pool)
        headers: dict[str, str] = {}
        authenticated = (tally.requests + 1) % UNAUTHENTICATED_EVERY != 0
        if not authenticated:
            tally.unauthenticated += 1
            if case.headers:
                case.headers.pop("Authorization", None)
            if tally.unauthenticated % 2:
                wrong = base64.b64encode(random.Random(case_seed + tally.requests).randbytes(32)).decode()
                secrets.add(wrong)
                headers["Authorization"] = f"Bearer {wrong}"
        elif case.headers:
            case.headers.pop("Authorization", None)  # the session's valid one is sent
        send(gateway, session, case, headers, authenticated, tally, pool)

    try:
        one()
    except hypothesis.errors.Unsatisfiable:
        pass  # nothing to violate: an operation without parameters or body has no negative cases


def steer(case: Any, dial: int, pool: Pool) -> None:
    """Mostly real ids, PATCH paths and members, so that requests reach the store (dial: 0..99)."""
    if case.path_parameters and "id" in case.path_parameters and dial < 85:
        resource = case.operation.path.split("/")[1]
        known = pool.pick(resource)
        if known is not None:
            case.path_parameters = {**case.path_parameters, "id": known}
    if case.headers and "If-None-Match" in case.headers and dial % 3 == 0:
        case.headers["If-None-Match"] = "*"
    body = case.body
    if not isinstance(body, dict) or dial >= 70:
        return
    operations = body.get("Operations")
    if isinstance(operations, list):
        paths = USER_PATCH_PATHS if case.operation.path.startswith("/Users") else GROUP_PATCH_PATHS
        for n, op in enumerate(operations):
            if isinstance(op, dict):
                chosen = paths[(dial + n) % len(paths)]
                if chosen is None:
                    op.pop("path", None)
                else:
                    op["path"] = chosen.replace("{user}", pool.pick("Users") or "x")
                if chosen in ("members", None) and case.operation.path.startswith("/Groups"):
                    op["value"] = [{"value": pool.pick("Users")}]
    members = body.get("members")
    if isinstance(members, list):
        for member in members:
            if isinstance(member, dict):
                member["value"] = pool.pick("Users")


def send(
    gateway: Gateway, session: Any, case: Any, headers: dict[str, str], authenticated: bool, tally: Tally,
    pool: Pool,
) -> None:  # fmt: skip
    label = f"{case.method} {case.operation.path}"
    kwargs: dict[str, Any] = {"headers": headers, "timeout": REQUEST_SECONDS}
    if not authenticated:
        kwargs["session"] = None
    else:
        kwargs["session"] = session
    try:
        response = case.call(base_url=gateway.scim_url, **kwargs)
    except Exception as exc:  # noqa: BLE001 - a broken connection is a finding, not a crash of the run
        tally.requests += 1
        tally.by_operation[label] += 1
        tally.fail("no response", label, 0, f"{type(exc).__name__}: {exc}"[:300], reproduction(case, None))
        return
    tally.requests += 1
    tally.by_operation[label] += 1
    status = response.status_code
    tally.by_status[status] += 1
    if status == 201 and case.operation.path in ("/Users", "/Groups"):
        created = response.json().get("id")
        if isinstance(created, str):
            pool.ids[case.operation.path[1:]].append(created)
    if status >= 500 and not (status == 501 and label == "POST /.search"):  # 501: documented, on purpose
        tally.fail("5xx", label, status, error_detail(response), reproduction(case, response))
    if status >= 400:
        problem = not_a_scim_error(response)
        if problem:
            tally.fail("not a SCIM error body", label, status, problem, reproduction(case, response))
    try:
        case.validate_response(response, checks=CHECKS)
    except FailureGroup as group:
        for failure in group.exceptions:
            tally.fail(
                "contradicts the description", label, status, f"{failure.title}: {failure.message}"[:300],
                reproduction(case, response),
            )  # fmt: skip


def extreme_cases(pool: Pool) -> list[tuple[str, dict[str, Any]]]:
    """
    Values a generator seldom reaches: huge numbers, long and deeply nested filters, values past
    an index's size, long lists; each a single request, held to the same checks as the others.
    Query strings stay under the 8192 bytes of a request line once percent-encoded (else 414).
    """
    user, group = pool.ids["Users"][0], pool.ids["Groups"][0]
    big, huge = "x" * 3000, "y" * 200_000
    user_urn, patch_urn = "urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    group_urn = "urn:ietf:params:scim:schemas:core:2.0:Group"

    def user_with(**fields: Any) -> dict[str, Any]:
        return {"schemas": [user_urn], "userName": "extreme", "externalId": "extreme@example.com", **fields}

    def patch(*operations: dict[str, Any]) -> dict[str, Any]:
        return {"schemas": [patch_urn], "Operations": list(operations)}

    cases: list[tuple[str, dict[str, Any]]] = []
    for resource in ("Users", "Groups"):
        cases += [
            (f"GET /{resource}", {"query": {"startIndex": 10**30}}),
            (f"GET /{resource}", {"query": {"startIndex": 2**63}}),
            (f"GET /{resource}", {"query": {"startIndex": 2**31, "count": 2**31}}),
            (f"GET /{resource}", {"query": {"count": -(10**30)}}),
            (f"GET /{resource}", {"query": {"filter": "(" * 1000 + 'displayName eq "a"' + ")" * 1000}}),
            (f"GET /{resource}", {"query": {"filter": " or ".join(['displayName eq "a"'] * 150)}}),
            (f"GET /{resource}", {"query": {"filter": 'displayName co "' + "a" * 7000 + '"'}}),
            (f"GET /{resource}", {"query": {"filter": 'displayName sw "' + "%_\\\\" * 400 + '"'}}),
            (f"GET /{resource}", {"query": {"filter": "not (" * 400 + "displayName pr" + ")" * 400}}),
            (f"GET /{resource}", {"query": {"sortBy": "a." * 3000}}),
            (f"GET /{resource}", {"query": {"attributes": ",".join(["displayName"] * 500)}}),
            (f"GET /{resource}", {"query": {"excludedAttributes": "a" * 7000}}),
        ]
    cases += [
        ("GET /Users", {"query": {"filter": 'emails[type eq "work" and value co "' + "@" * 2000 + '"]'}}),
        ("POST /Users", {"body": user_with(userName="u" * 256, externalId=big + "@example.com")}),
        ("POST /Users", {"body": user_with(userName="v" * 257)}),
        ("POST /Users", {"body": user_with(displayName=huge)}),
        ("POST /Users", {"body": user_with(externalId=huge + "@example.com")}),
        ("POST /Users", {"body": user_with(emails=[{"value": "a" * 100_000 + "@" + "b" * 100_000 + ".de"}])}),
        ("POST /Users", {"body": user_with(name={"givenName": huge})}),
        ("POST /Users", {"body": user_with(roles=[{"value": "member"}] * 5000)}),
        ("POST /Groups", {"body": {"schemas": [group_urn], "displayName": big}}),
        ("POST /Groups", {"body": {"schemas": [group_urn], "displayName": huge}}),
        ("POST /Groups", {"body": {"schemas": [group_urn], "displayName": "many", "members": [{"value": user}] * 5000}}),
        ("PUT /Users/{id}", {"path_parameters": {"id": user}, "body": user_with(externalId=big)}),
        ("PUT /Groups/{id}", {"path_parameters": {"id": group}, "body": {"schemas": [group_urn], "displayName": huge}}),
        ("PATCH /Users/{id}", {"path_parameters": {"id": user}, "body": patch(*[{"op": "replace", "path": "displayName", "value": "d"}] * 5000)}),
        ("PATCH /Users/{id}", {"path_parameters": {"id": user}, "body": patch({"op": "replace", "path": "displayName", "value": huge})}),
        ("PATCH /Users/{id}", {"path_parameters": {"id": user}, "body": patch({"op": "add", "path": "emails[" + "(" * 2000 + 'type eq "work"' + ")" * 2000 + "].value", "value": "a@b.de"})}),
        ("PATCH /Groups/{id}", {"path_parameters": {"id": group}, "body": patch({"op": "add", "path": "members", "value": [{"value": user}] * 5000})}),
        ("PATCH /Groups/{id}", {"path_parameters": {"id": group}, "body": patch({"op": "remove", "path": 'members[value eq "' + big + '"]'})}),
        ("GET /Users/{id}", {"path_parameters": {"id": "9" * 3000}}),
        ("GET /Groups/{id}", {"path_parameters": {"id": "9" * 3000}}),
        ("DELETE /Users/{id}", {"path_parameters": {"id": "9" * 3000}}),
    ]  # fmt: skip
    return cases


def malformed_requests(secret: str) -> list[tuple[str, bytes]]:
    """
    Requests aiohttp's HTTP parser refuses before any handler runs (sent as bytes over a socket:
    an HTTP client would not send them), each with the valid token: the answers must be SCIM errors
    all the same, and the token must not reach the logs.
    """
    auth = f"Authorization: Bearer {secret}\r\n".encode()
    head = b"Host: 127.0.0.1\r\nConnection: close\r\n" + auth
    body = b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "raw"}'
    json_head = head + b"Content-Type: application/scim+json\r\n"
    return [
        ("header line without a colon", b"GET /scim/v2/Users HTTP/1.1\r\n" + head + b"no colon here\r\n\r\n"),
        ("request line past 8192 bytes", b"GET /scim/v2/Users?filter=" + b"a" * 9000 + b" HTTP/1.1\r\n" + head + b"\r\n"),
        ("header line past 8190 bytes", b"GET /scim/v2/Users HTTP/1.1\r\n" + head + b"X-Big: " + b"b" * 9000 + b"\r\n\r\n"),
        ("more than 100 headers", b"GET /scim/v2/Users HTTP/1.1\r\n" + head + b"".join(b"X-H%d: v\r\n" % n for n in range(120)) + b"\r\n"),
        ("Content-Length not a number", b"POST /scim/v2/Groups HTTP/1.1\r\n" + json_head + b"Content-Length: ten\r\n\r\n" + body),
        ("two Content-Lengths", b"POST /scim/v2/Groups HTTP/1.1\r\n" + json_head + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\n" + body),
        ("Content-Length and chunked", b"POST /scim/v2/Groups HTTP/1.1\r\n" + json_head + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
        ("bad chunk size", b"POST /scim/v2/Groups HTTP/1.1\r\n" + json_head + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"),
        ("gzip that is not gzip", b"POST /scim/v2/Groups HTTP/1.1\r\n" + json_head + b"Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(body) + body),
        ("control character in a header value", b"GET /scim/v2/Users HTTP/1.1\r\n" + head + b"X-Bad: a\x01b\r\n\r\n"),
        ("non-ASCII header name", b"GET /scim/v2/Users HTTP/1.1\r\n" + head + b"X-\xc3\xa9: v\r\n\r\n"),
        ("space before the colon", b"GET /scim/v2/Users HTTP/1.1\r\n" + head + b"X-Space : v\r\n\r\n"),
        ("NUL in the request target", b"GET /scim/v2/Us\x00ers HTTP/1.1\r\n" + head + b"\r\n"),
        ("unknown HTTP version", b"GET /scim/v2/Users HTTP/9.9\r\n" + head + b"\r\n"),
        ("method with a bad character", b"G(T /scim/v2/Users HTTP/1.1\r\n" + head + b"\r\n"),
        ("percent-encoding cut short", b"GET /scim/v2/Users/%E0%A4%A HTTP/1.1\r\n" + head + b"\r\n"),
        ("absolute-form target", b"GET http://127.0.0.1/scim/v2/Users HTTP/1.1\r\n" + head + b"\r\n"),
        ("obsolete line folding", b"GET /scim/v2/Users HTTP/1.1\r\n" + head + b"X-Fold: a\r\n b\r\n\r\n"),
    ]  # fmt: skip


def send_raw(gateway: Gateway, name: str, raw: bytes, tally: Tally) -> None:
    """One malformed request over its own connection; the answer must be a SCIM error, never a 5xx."""
    label = f"RAW {name}"
    tally.requests += 1
    tally.by_operation["RAW"] += 1
    answer = b""
    try:
        with socket.create_connection(("127.0.0.1", gateway.port), timeout=REQUEST_SECONDS) as sock:
            sock.sendall(raw)
            while chunk := sock.recv(65536):
                answer += chunk
    except OSError as exc:
        if not answer:
            tally.fail("no response", label, 0, f"{type(exc).__name__}: {exc}", repr(raw[:200]))
            return
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split(" ")[1])
    except (IndexError, ValueError):
        tally.fail("no response", label, 0, f"no status line: {answer[:120]!r}", repr(raw[:200]))
        return
    tally.by_status[status] += 1
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    reproduction = repr(raw[:300]) + (" ..." if len(raw) > 300 else "")
    if status >= 500:
        tally.fail("5xx", label, status, body[:200].decode("utf-8", "replace"), reproduction)
    if status < 400:
        return
    problem = not_a_scim_error(RawResponse(status, {"content-type": [headers.get("content-type", "")]}, body))
    if problem:
        tally.fail("not a SCIM error body", label, status, problem, reproduction)


@dataclass
class RawResponse:
    """What `not_a_scim_error` reads of a response read off a socket."""

    status_code: int
    headers: dict[str, list[str]]
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


def error_detail(response: Any) -> str:
    try:
        return str(response.json().get("detail"))[:200]
    except ValueError:
        return response.text[:200]


def not_a_scim_error(response: Any) -> str | None:
    """What is wrong with a 4xx/5xx body as an RFC 7644 error, or None."""
    content_type = (response.headers.get("content-type") or [""])[0]
    if not content_type.startswith("application/scim+json"):
        return f"Content-Type {content_type!r}, body {response.content[:120]!r}"
    try:
        body = response.json()
    except ValueError:
        return f"not JSON: {response.content[:120]!r}"
    if not isinstance(body, dict):
        return f"not an object: {body!r}"[:200]
    if body.get("schemas") != [ERROR_URN] or body.get("status") != str(response.status_code):
        return f"schemas/status wrong: {json.dumps(body)[:200]}"
    if not isinstance(body.get("detail"), str):
        return "no detail"
    return None


def reproduction(case: Any, response: Any) -> str:
    """One line: method, URL as sent, body (cut at 300 characters)."""
    if response is not None:
        request = response.request
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        text = body[:300].decode("utf-8", "backslashreplace") + ("..." if len(body) > 300 else "")
        return f"{request.method} {request.url} {text}".strip()
    return f"{case.method} {case.formatted_path} query={case.query!r} body={case.body!r}"[:500]


def unhandled_errors(logs: str) -> list[str]:
    """The last line of each distinct traceback the gateway logged (`unhandled_error`), with a count."""
    seen: collections.Counter[str] = collections.Counter()
    for line in logs.splitlines():
        if '"unhandled_error"' not in line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        exception = record.get("exception")
        if isinstance(exception, list) and exception and isinstance(exception[-1], dict):  # structured traceback
            last = f"{exception[-1].get('exc_type')}: {exception[-1].get('exc_value')}"
        else:
            last = (str(exception or "").strip().splitlines() or ["(no traceback)"])[-1]
        seen[f"{record.get('method')} {str(record.get('path', ''))[:40]}: {last[:200]!r}"] += 1
    return [f"{text} (x{n})" for text, n in seen.items()]


def report(tally: Tally, seed: int, examples: int, elapsed: float) -> None:
    statuses = ", ".join(f"{status}: {n}" for status, n in sorted(tally.by_status.items()))
    SUMMARY.append(
        f"[{tally.store}] seed {seed} (SCIM_GATEWAY_FUZZ_SEED), {examples} examples per operation and mode "
        f"(SCIM_GATEWAY_FUZZ_EXAMPLES): {tally.requests} requests ({tally.unauthenticated} without a valid "
        f"token) in {elapsed:.0f} s"
    )
    SUMMARY.append(f"[{tally.store}] statuses: {statuses}")
    SUMMARY.append(
        f"[{tally.store}] per operation: " + ", ".join(f"{label}: {n}" for label, n in tally.by_operation.items())
    )
    for failure in tally.failures.values():
        SUMMARY.append(
            f"[{tally.store}] FAIL {failure.kind} x{failure.count}: {failure.label} -> {failure.status}: "
            f"{failure.message}\n    reproduce: {failure.reproduction}"
        )
