"""
The load generator: aiohttp client processes, never the gateway's event loop.

`run_load` starts `processes` child processes (multiprocessing, spawn), each pinned to the
client cores (`os.sched_setaffinity`) and each running `concurrency / processes` coroutines over
one aiohttp ClientSession (a keep-alive connection pool as large as its coroutine count). A
coroutine calls the workload's `step` in a loop and every request is timed.

Phases, so that only steady-state traffic is measured and the parent can sample the gateway's
CPU time and peak RSS around exactly the measured window:

1. warm-up: every child runs the workload for `warmup` seconds (connections opened, caches warm);
   its requests are discarded;
2. each child reports "ready" and waits for the parent's "go" (the parent calls `on_go` first);
3. measured phase: until `duration` seconds have passed, or the child's share of `requests`
   operations is done; each child reports "done" at once (the parent calls `on_done` when all
   are) and then sends its recorded latencies.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import queue as queue_module
import random
import time
import traceback
from array import array
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from yarl import URL

from bench.population import Population
from bench.workloads import Check, make_workload

SAMPLES_KEPT = 5  # error examples kept per request label


@dataclass(frozen=True, slots=True)
class LoadSpec:
    base_url: str  # http://127.0.0.1:PORT
    token: str
    workload: str
    population: Population
    concurrency: int
    duration: float | None  # seconds of measured traffic, or None with `requests`
    requests: int | None  # operations to run in total (workload steps), or None with `duration`
    warmup: float
    processes: int = 1
    cpus: tuple[int, ...] | None = None  # cores the client processes are pinned to
    timeout: float = 60.0


@dataclass(slots=True)
class LabelStats:
    """What happened to one kind of request (e.g. "GET /Users/{id}")."""

    latencies: array = field(default_factory=lambda: array("d"))  # seconds, one per request
    statuses: Counter = field(default_factory=Counter)  # HTTP status (0: no answer) -> count
    errors: int = 0
    samples: list[str] = field(default_factory=list)  # the first few error messages

    def merge(self, other: LabelStats) -> None:
        self.latencies.extend(other.latencies)
        self.statuses.update(other.statuses)
        self.errors += other.errors
        self.samples.extend(other.samples[: SAMPLES_KEPT - len(self.samples)])


@dataclass(slots=True)
class LoadOutcome:
    """All children's measured phase, merged."""

    wall: float  # seconds of the measured phase (the longest child's)
    client_cpu: float  # CPU seconds the client processes used in it
    labels: dict[str, LabelStats]
    operations: int
    hooks: dict[str, Any]  # what on_go/on_done returned (the gateway's CPU and RSS figures)


class Client:
    """Times requests over one ClientSession and records them (see workloads.Client)."""

    def __init__(self, session: Any, base_url: str) -> None:
        self._session = session
        self._base = base_url
        self._body_headers = {"Content-Type": "application/scim+json"}
        self.labels: dict[str, LabelStats] = {}

    async def call(
        self, label: str, method: str, path: str, body: bytes | None = None, check: Check | None = None
    ) -> tuple[int, bytes]:
        stats = self.labels.get(label)
        if stats is None:
            stats = self.labels[label] = LabelStats()
        url = URL(self._base + path, encoded=True)  # paths are built already encoded
        headers = self._body_headers if body is not None else None
        started = time.perf_counter()
        try:
            async with self._session.request(method, url, data=body, headers=headers) as response:
                payload = await response.read()  # the whole body: it is part of the cost
                status = response.status
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            stats.latencies.append(time.perf_counter() - started)
            stats.statuses[0] += 1
            self._error(stats, f"{method} {path}: {type(exc).__name__}: {exc}")
            return 0, b""
        stats.latencies.append(time.perf_counter() - started)
        stats.statuses[status] += 1
        problem = None if 200 <= status < 300 else f"HTTP {status}: {payload[:300]!r}"
        if problem is None and check is not None:
            problem = check(status, payload)
        if problem is not None:
            self._error(stats, f"{method} {path}: {problem}")
        return status, payload

    @staticmethod
    def _error(stats: LabelStats, message: str) -> None:
        stats.errors += 1
        if len(stats.samples) < SAMPLES_KEPT:
            stats.samples.append(message)


def run_load(
    spec: LoadSpec,
    *,
    on_go: Callable[[], Any] = lambda: None,
    on_done: Callable[[], Any] = lambda: None,
) -> LoadOutcome:
    """Run `spec` in child processes (see the module docstring); blocks until they finish."""
    ctx = multiprocessing.get_context("spawn")
    messages = ctx.Queue()
    go = ctx.Event()
    shares = _split(spec.requests, spec.processes) if spec.requests is not None else [None] * spec.processes
    conc = _split(spec.concurrency, spec.processes)
    children = [
        ctx.Process(target=_child_main, args=(i, spec, conc[i], shares[i], messages, go), daemon=True)
        for i in range(spec.processes)
    ]
    for child in children:
        child.start()
    try:
        _await_all(messages, children, "ready", timeout=spec.warmup + 120)
        hooks = {"go": on_go()}
        go.set()
        limit = (spec.duration or 0) + 3600  # a bounded wait even for a `requests` run
        _await_all(messages, children, "done", timeout=limit)
        hooks["done"] = on_done()
        results = _await_all(messages, children, "result", timeout=120)
    finally:
        for child in children:
            child.join(timeout=10)
            if child.is_alive():
                child.terminate()
    labels: dict[str, LabelStats] = {}
    for result in results.values():
        for label, stats in result["labels"].items():
            labels.setdefault(label, LabelStats()).merge(stats)
    return LoadOutcome(
        wall=max(r["wall"] for r in results.values()),
        client_cpu=sum(r["cpu"] for r in results.values()),
        labels=labels,
        operations=sum(r["operations"] for r in results.values()),
        hooks=hooks,
    )


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def _await_all(messages: Any, children: list, kind: str, *, timeout: float) -> dict[int, Any]:
    """Collect one `kind` message from every child; raise if one fails, dies or times out."""
    got: dict[int, Any] = {}
    deadline = time.monotonic() + timeout
    while len(got) < len(children):
        try:
            message = messages.get(timeout=1.0)
        except queue_module.Empty:
            dead = [c.pid for c in children if not c.is_alive() and c.exitcode not in (0, None)]
            if dead:
                raise RuntimeError(f"load generator process(es) {dead} died") from None
            if time.monotonic() > deadline:
                raise TimeoutError(f"load generator: no '{kind}' after {timeout:.0f} s") from None
            continue
        if message[0] == "failed":
            raise RuntimeError(f"load generator process {message[1]} failed:\n{message[2]}")
        if message[0] != kind:
            raise RuntimeError(f"load generator: expected '{kind}', got {message[0]!r}")
        got[message[1]] = message[2] if len(message) > 2 else None
    return got


def _child_main(index: int, spec: LoadSpec, concurrency: int, share: int | None, messages: Any, go: Any) -> None:
    """One load-generator process."""
    try:
        if spec.cpus:
            os.sched_setaffinity(0, spec.cpus)
        result = asyncio.run(_drive(index, spec, concurrency, share, messages, go))
        messages.put(("result", index, result))
    except BaseException:
        messages.put(("failed", index, traceback.format_exc()))


async def _drive(index: int, spec: LoadSpec, concurrency: int, share: int | None, messages: Any, go: Any) -> dict:
    workload = make_workload(spec.workload, spec.population)
    rng = random.Random(f"{spec.workload}-{index}-{os.getpid()}")
    connector = aiohttp.TCPConnector(limit=concurrency, keepalive_timeout=300)
    headers = {
        "Authorization": f"Bearer {spec.token}",
        "Accept": "application/scim+json",
        "User-Agent": "scim-gateway-bench",
    }
    timeout = aiohttp.ClientTimeout(total=spec.timeout)
    async with aiohttp.ClientSession(connector=connector, headers=headers, timeout=timeout) as session:
        # 1. warm-up, discarded
        client = Client(session, spec.base_url)
        if spec.warmup > 0:
            await _loop(client, workload, rng, concurrency, time.perf_counter() + spec.warmup, None)
        messages.put(("ready", index))
        # 2. wait for "go" without blocking the loop (idle keep-alive connections stay open)
        await asyncio.get_running_loop().run_in_executor(None, go.wait)
        # 3. measured phase
        client = Client(session, spec.base_url)
        cpu_started, started = time.process_time(), time.perf_counter()
        deadline = started + spec.duration if spec.duration is not None else None
        operations = await _loop(client, workload, rng, concurrency, deadline, share)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        messages.put(("done", index))
    return {"labels": client.labels, "wall": wall, "cpu": cpu, "operations": operations}


async def _loop(client: Client, workload: Any, rng: random.Random, concurrency: int,
                deadline: float | None, budget: int | None) -> int:  # fmt: skip
    """`concurrency` coroutines calling `workload.step` until the deadline or the budget is spent."""
    left = [budget]
    done = [0]

    async def worker() -> None:
        while deadline is None or time.perf_counter() < deadline:
            if left[0] is not None:
                if left[0] <= 0:
                    return
                left[0] -= 1
            await workload.step(client, rng)
            done[0] += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done[0]
