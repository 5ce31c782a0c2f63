"""
The gateway's Prometheus metrics (docs/operations.md, "Metrics", lists each one) and their text
exposition for `GET /i/metrics`.

The metrics are module-level objects, unlike everything else the gateway keeps: Prometheus' client
keeps one set of values per process by design, and the places that count (the request middleware,
the brig client, the database threads) call the plain functions below without an application at
hand. Every label set is bounded: route templates, never paths or ids; a team id only for an
authenticated request and at most MAX_TEAM_LABELS of them per process (then "other").

With `listen.workers` > 1 the supervisor (gateway/serve.py) gives its workers a fresh directory in
MULTIPROCESS_ENV before they start; prometheus-client then keeps each worker's values in files
there, and a scrape of any worker adds up all of them (`render`). Process metrics are then read
from /proc for every worker that wrote a file, labelled by pid; the supervisor removes the
directory when the workers have stopped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client's own variable
CONTENT_TYPE = CONTENT_TYPE_LATEST
MAX_TEAM_LABELS = 100  # distinct team ids labelled per process; later teams are counted as "other"
OTHER = "other"
UNMATCHED = "unmatched"  # route label of a request no route answers
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

disable_created_metrics()  # no `_created` series beside every counter and histogram: half the scrape

# Seconds. Requests: from 1 ms (a token check and a read) to the 10 s of a brig call's timeout.
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
DB_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)

REQUESTS = Counter(
    "scim_gateway_http_requests",
    "HTTP requests answered, by method, route template, status and the token's team",
    ("method", "route", "status", "team"),
)
REQUEST_SECONDS = Histogram(
    "scim_gateway_http_request_duration_seconds",
    "Time from the request head to the response, by method, route template, status and team",
    ("method", "route", "status", "team"),
    buckets=REQUEST_BUCKETS,
)
BACKEND_CALLS = Counter(
    "scim_gateway_backend_calls",
    "Calls to brig, galley and spar, by service, method, route template and outcome",
    ("service", "method", "route", "outcome"),
)
BACKEND_SECONDS = Histogram(
    "scim_gateway_backend_call_duration_seconds",
    "Duration of calls to brig, galley and spar, by service, method, route template and outcome",
    ("service", "method", "route", "outcome"),
    buckets=REQUEST_BUCKETS,
)
DB_SECONDS = Histogram(
    "scim_gateway_db_operation_duration_seconds",
    "Database units of work (one or more statements), by kind: read or write (a transaction), "
    "including the wait for a database thread",
    ("kind",),
    buckets=DB_BUCKETS,
)
AUTH_FAILURES = Counter(
    "scim_gateway_auth_failures",
    "Failed authentications, by API (scim, token_api) and reason",
    ("api", "reason"),
)
THROTTLED = Counter(
    "scim_gateway_throttled_requests",
    "Requests answered 429 because their client address failed authentication too often, by API",
    ("api",),
)


class RequestMetrics:
    """
    The children of the request counter and histogram by (method, route, status, team), made once:
    a label lookup costs a hash and a lock, a dict hit costs neither (the request path is hot).
    """

    def __init__(self, *, max_teams: int = MAX_TEAM_LABELS) -> None:
        self._children: dict[tuple[str, str, int, str], tuple[Callable[[], None], Callable[[float], None]]] = {}
        self._teams: set[str] = set()
        self._max_teams = max_teams

    def observe(self, method: str, route: str, status: int, team: str | None, seconds: float) -> None:
        key = (method, route, status, team or "")
        children = self._children.get(key)
        if children is None:
            labels = (method if method in METHODS else OTHER, route, str(status), self._team_label(team))
            children = (REQUESTS.labels(*labels).inc, REQUEST_SECONDS.labels(*labels).observe)
            self._children[key] = children
        inc, observe = children
        inc()
        observe(seconds)

    def _team_label(self, team: str | None) -> str:
        if not team:
            return ""
        if team in self._teams:
            return team
        if len(self._teams) < self._max_teams:
            self._teams.add(team)
            return team
        return OTHER


REQUEST_METRICS = RequestMetrics()


def observe_request(method: str, route: str, status: int, team: str | None, seconds: float) -> None:
    """One answered request; `route` a template ("/scim/v2/Users/{id}") or UNMATCHED, never a path."""
    REQUEST_METRICS.observe(method, route, status, team, seconds)


_BackendChildren = tuple[Callable[[], None], Callable[[float], None]]
_backend_children: dict[tuple[str, str, str, str], _BackendChildren] = {}


def observe_backend_call(service: str, method: str, route: str, outcome: str, seconds: float) -> None:
    """
    One call to a Wire service: `service` "brig", "galley" or "spar"; `method` the HTTP method;
    `route` the route's template, never the path it was filled into (e.g. "/i/users/{uid}");
    `outcome` "2xx", "3xx", "4xx", "5xx", "timeout" or "connection_error"; `seconds` its duration.
    """
    key = (service, method, route, outcome)
    children = _backend_children.get(key)
    if children is None:
        labels = (service, method if method in METHODS else OTHER, route, outcome)
        children = _backend_children[key] = (
            BACKEND_CALLS.labels(*labels).inc,
            BACKEND_SECONDS.labels(*labels).observe,
        )
    inc, observe = children
    inc()
    observe(seconds)


_DB_READ = DB_SECONDS.labels("read").observe
_DB_WRITE = DB_SECONDS.labels("write").observe


def observe_db_read(seconds: float) -> None:
    _DB_READ(seconds)


def observe_db_write(seconds: float) -> None:
    _DB_WRITE(seconds)


def auth_failed(api: str, reason: str) -> None:
    """A failed authentication; `reason` one of a fixed few (docs/operations.md)."""
    AUTH_FAILURES.labels(api, reason).inc()


def throttled(api: str) -> None:
    THROTTLED.labels(api).inc()


def outbox_gauges(entries: int, oldest_age_seconds: float) -> list[Metric]:
    """The SSO-invite switch's outbox, read at scrape time (one process's answer is everyone's)."""
    backlog = GaugeMetricFamily(
        "scim_gateway_sso_switch_outbox_entries", "SSO-invite switch flips not yet delivered to the webhook"
    )
    backlog.add_metric((), entries)
    age = GaugeMetricFamily(
        "scim_gateway_sso_switch_outbox_oldest_age_seconds",
        "Age of the oldest undelivered SSO-invite switch flip (0 when none waits)",
    )
    age.add_metric((), oldest_age_seconds)
    return [backlog, age]


def multiprocess_directory() -> str | None:
    """The directory the workers share their values in, or None in a single process."""
    return os.environ.get(MULTIPROCESS_ENV) or None


def render(extra: Iterable[Metric] = ()) -> bytes:
    """
    The text exposition: every metric above (all workers' together when several share a
    directory), the process metrics, and `extra` (families computed at scrape time).
    """
    directory = multiprocess_directory()
    registry = CollectorRegistry(auto_describe=False)
    if directory is None:
        collectors: list[object] = [REGISTRY]
    else:
        MultiProcessCollector(registry, path=directory)
        collectors = [WorkerProcesses(Path(directory)), PlatformCollector(registry=None)]
    collectors.append(_Fixed(list(extra)))
    for collector in collectors:
        registry.register(collector)  # type: ignore[arg-type]  # any object with collect()
    return generate_latest(registry)


class _Fixed:
    """Families computed before the scrape (a collector's collect() cannot await the store)."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families


_PID = re.compile(r"_(\d+)\.db$")


class WorkerProcesses:
    """
    prometheus-client's process metrics (CPU, memory, descriptors, start time) for every worker
    that has written values to the shared directory, each sample labelled with the worker's pid.
    A worker that has exited has no /proc entry and is left out.
    """

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def pids(self) -> list[int]:
        found = {int(m.group(1)) for p in self._directory.iterdir() if (m := _PID.search(p.name))}
        return sorted(found | {os.getpid()})

    def collect(self) -> Iterable[Metric]:
        families: dict[str, Metric] = {}
        for pid in self.pids():
            for family in ProcessCollector(pid=lambda pid=pid: pid, registry=None).collect():  # type: ignore[misc]
                merged = families.get(family.name)
                if merged is None:
                    merged = families[family.name] = Metric(family.name, family.documentation, family.type)
                for sample in family.samples:
                    merged.add_sample(sample.name, {**sample.labels, "pid": str(pid)}, sample.value)
        return list(families.values())
