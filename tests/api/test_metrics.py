"""
`GET /i/metrics` after real SCIM traffic: the request counters and histograms move under the route
template (never the path or an id), the status and the token's team; failed authentications are
counted by reason, database operations by kind, and the SSO-invite switch's outbox is read at
scrape time. The metrics are the process's, shared by every app a test makes: each test compares
a scrape before its traffic with one after.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from conftest import TEAM, auth, new_token, user_body
from gateway.config import Config

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
USER_ROUTE = "/scim/v2/Users/{id}"


async def scrape(client: TestClient) -> Samples:
    response = await client.get("/i/metrics")
    assert 200 == response.status
    assert response.content_type == "text/plain"
    samples: Samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def requests(method: str, route: str, status: str, team: str = "") -> dict[str, str]:
    return {"method": method, "route": route, "status": status, "team": team}


async def test_scim_traffic_moves_the_request_counters_by_route_template(client: TestClient, token: str) -> None:
    """A create, a read, a 401 and a 404: each counted once under its template, status and team."""
    before = await scrape(client)

    created = await client.post("/scim/v2/Users", json=user_body("metrics1"), headers=auth(token))
    assert 201 == created.status
    user_id = (await created.json())["id"]
    assert 200 == (await client.get(f"/scim/v2/Users/{user_id}", headers=auth(token))).status
    assert 401 == (await client.get("/scim/v2/Users", headers=auth(secrets.token_urlsafe(32)))).status
    assert 404 == (await client.get("/scim/v2/Nothing/here", headers=auth(token))).status
    after = await scrape(client)

    total = "scim_gateway_http_requests_total"
    assert 1 == moved(before, after, total, **requests("POST", "/scim/v2/Users", "201", TEAM))
    assert 1 == moved(before, after, total, **requests("GET", USER_ROUTE, "200", TEAM))
    assert 1 == moved(before, after, total, **requests("GET", "/scim/v2/Users", "401"))
    assert 1 == moved(before, after, total, **requests("GET", "unmatched", "404"))
    count = "scim_gateway_http_request_duration_seconds_count"
    assert 1 == moved(before, after, count, **requests("GET", USER_ROUTE, "200", TEAM))
    assert 1 == moved(
        before, after, "scim_gateway_http_request_duration_seconds_bucket",
        le="+Inf", **requests("POST", "/scim/v2/Users", "201", TEAM),
    )  # fmt: skip
    assert not [key for key in after if user_id in str(key)], "an id became a label"


async def test_failed_authentications_are_counted_by_reason(client: TestClient) -> None:
    """No header, a header that is not `Bearer <token>`, and a token nobody issued: three reasons."""
    before = await scrape(client)

    for headers in ({}, {"Authorization": "Basic dXNlcjpwdw=="}, auth(secrets.token_urlsafe(32))):
        assert 401 == (await client.get("/scim/v2/Users", headers=headers)).status
    after = await scrape(client)

    failures = "scim_gateway_auth_failures_total"
    for reason in ("missing", "malformed", "unknown_token"):
        assert 1 == moved(before, after, failures, api="scim", reason=reason), reason


async def test_database_operations_are_timed_by_kind(client: TestClient, token: str) -> None:
    """A user create writes and the token check reads: both kinds' counts move."""
    before = await scrape(client)

    assert 201 == (await client.post("/scim/v2/Users", json=user_body("metrics2"), headers=auth(token))).status
    after = await scrape(client)

    for kind in ("read", "write"):
        assert moved(before, after, "scim_gateway_db_operation_duration_seconds_count", kind=kind) >= 1, kind


async def test_the_outbox_gauges_show_an_undelivered_flip(client: TestClient) -> None:
    """A team's first token records a flip no webhook takes: the backlog counts it, aged from its time."""
    empty = await scrape(client)
    assert 0 == value(empty, "scim_gateway_sso_switch_outbox_entries")

    await new_token(client, "a9d1e4c2-0000-4000-8000-000000000001")
    after = await scrape(client)

    assert 1 == value(after, "scim_gateway_sso_switch_outbox_entries")
    assert value(after, "scim_gateway_sso_switch_outbox_oldest_age_seconds") >= 0


async def test_process_metrics_are_present(client: TestClient) -> None:
    """The Python process collectors' metrics are part of the scrape."""
    samples = await scrape(client)

    names = {name for name, _ in samples}
    assert {"process_cpu_seconds_total", "process_resident_memory_bytes", "python_info"} <= names


async def test_labels_hold_no_token_or_query(client: TestClient, token: str) -> None:
    """Neither the token nor a query string reaches the exposition."""
    await client.get("/scim/v2/Users?filter=userName%20eq%20%22secret-name%22", headers=auth(token))
    text = await (await client.get("/i/metrics")).text()

    assert token not in text
    assert "secret-name" not in text


async def test_throttled_requests_are_counted(make_client: Callable[..., Any], config: Config) -> None:
    """Past limits.auth_failures_per_minute a wrong token gets 429, counted once per refusal."""
    client = await make_client(
        dataclasses.replace(config, limits=dataclasses.replace(config.limits, auth_failures_per_minute=1))
    )
    before = await scrape(client)

    statuses = [(await client.get("/scim/v2/Users", headers=auth(secrets.token_urlsafe(32)))).status for _ in range(3)]
    after = await scrape(client)

    assert [401, 429, 429] == statuses
    assert 2 == moved(before, after, "scim_gateway_throttled_requests_total", api="scim")
    assert 2 == moved(before, after, "scim_gateway_http_requests_total", **requests("GET", "/scim/v2/Users", "429"))


@pytest.mark.backends("brig")
async def test_brig_calls_are_counted_by_route_template_and_outcome(client: TestClient, saml_token: str) -> None:
    """A SAML create through brig-lite moves the brig-call counters of its routes, ids as `{id}`, by outcome."""
    before = await scrape(client)
    created = await client.post("/scim/v2/Users", json=user_body("metered"), headers=auth(saml_token))
    assert 201 == created.status, await created.text()
    read = await client.get(f"/scim/v2/Users/{(await created.json())['id']}", headers=auth(saml_token))
    after = await scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    spar_create = {"service": "brig", "method": "POST", "route": "/i/users/spar", "outcome": "2xx"}
    assert 1 == moved("scim_gateway_backend_calls_total", **spar_create)
    assert 1 == moved("scim_gateway_backend_call_duration_seconds_count", **spar_create)
    assert 1 == moved("scim_gateway_backend_calls_total", service="brig", method="HEAD",
                      route="/i/handles/{handle}", outcome="4xx")  # fmt: skip  # 404: the handle is free
    assert 200 == read.status
    member = {"service": "galley", "method": "GET", "route": "/i/teams/{id}/members/{id}", "outcome": "2xx"}
    assert 1 == moved("scim_gateway_backend_calls_total", **member)
    assert not [labels for (name, labels) in after if name.startswith("scim_gateway_backend") and
                any(len(v) == 36 and v.count("-") == 4 for _, v in labels)]  # fmt: skip  # no raw ids
