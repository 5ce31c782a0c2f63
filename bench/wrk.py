"""
The native load generator (`--loadgen wrk`): wrk drives the read workloads and the ceiling, so that
the gateway, not a Python client, is the limit.

wrk (Debian package `wrk`: `apt-get install -y wrk`) runs as `taskset -c 1 wrk -t1 -c<concurrency>`
on the client core. Each measurement is two wrk runs with the same script: a warm-up of
`warmup` seconds (discarded; its connections close when it exits), then `on_go`, the measured run
of `duration` seconds, and `on_done`. wrk takes whole seconds: both are rounded up to at least 1.

The Lua script is written to a temporary file per workload (mode 0600: it holds the token):

- it sets `Authorization: Bearer <token>`, `Accept` and `User-Agent` as the aiohttp client does;
- get-by-id (and the ceiling) and filter-username pick a path at random, per request, from a file
  of paths written beside it: every seeded user's when there are at most PATH_SAMPLE of them, else
  PATH_SAMPLE users drawn uniformly from the whole store (so the reads still touch the whole id
  and userName indexes at 1M users, without a 1M-entry table in the client);
- okta-import keeps `concurrency` imports in progress, each walking consecutive pages of 100 from
  a random start page (wrapping), requests handed out round-robin: what bench/workloads.py's
  OktaImport does with one coroutine per import;
- filter-username also checks each answer's `totalResults` is 1 (wrk's `response` callback), so
  a filter that finds nothing counts as an error, as with the aiohttp client.

Its `done` callback prints one line, `BENCH-WRK {json}`: requests, duration, bytes, wrk's error
counts (connect, read, write, timeout, non-2xx/3xx status) and the failed checks, and latency
percentiles from wrk's histogram (from sending a request to reading its answer, as with the
aiohttp client). Client CPU is the measured wrk process's own (its rusage).
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.population import Population, SeededPopulation, user_id, user_name
from bench.workloads import USERS, filter_path

WRK_WORKLOADS = ("ceiling", "get-by-id", "filter-username", "okta-import")
PATH_SAMPLE = 100_000  # paths given to wrk at most (a uniform sample of bigger stores)
DEFAULT_CONCURRENCY = 16  # wrk -c16, the method
INSTALL_HINT = "install it: apt-get update && apt-get install -y wrk (Debian/Ubuntu), or put a wrk 4.x on PATH"

_SCRIPT = r"""
-- written by bench/wrk.py for one measurement; holds a token: deleted after the run
local mode, paths_file, pages, walkers, check_total = "%(mode)s", "%(paths)s", %(pages)d, %(walkers)d, %(check)s
local threads = {}

function setup(thread)
  thread:set("thread_index", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  wrk.headers["Authorization"] = "Bearer %(token)s"
  wrk.headers["Accept"] = "application/scim+json"
  wrk.headers["User-Agent"] = "scim-gateway-bench-wrk"
  math.randomseed(%(seed)d + 7919 * thread_index)
  paths = {}
  if mode == "paths" then
    for line in io.lines(paths_file) do paths[#paths + 1] = line end
  end
  next_page, walker = {}, 0
  for i = 1, walkers do next_page[i] = math.random(pages) - 1 end
  bad, bad_sample = 0, ""
end

function request()
  if mode == "paths" then
    return wrk.format(nil, paths[math.random(#paths)])
  end
  walker = walker %% walkers + 1
  local page = next_page[walker]
  next_page[walker] = (page + 1) %% pages
  return wrk.format(nil, "%(users)s?startIndex=" .. (1 + 100 * page) .. "&count=100")
end

if check_total ~= nil then
  function response(status, headers, body)
    if status == 200 and not string.find(body, '"totalResults":' .. check_total .. '[,}]') then
      bad = bad + 1
      if bad_sample == "" then bad_sample = string.sub(body, 1, 200) end
    end
  end
end

function done(summary, latency, requests)
  local failed, sample = 0, ""
  for _, thread in ipairs(threads) do
    failed = failed + (thread:get("bad") or 0)
    if sample == "" then sample = thread:get("bad_sample") or "" end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH-WRK {"duration_us":%%d,"requests":%%d,"bytes":%%d,"connect":%%d,"read":%%d,"write":%%d,' ..
    '"status":%%d,"timeout":%%d,"failed_checks":%%d,"p50_us":%%d,"p95_us":%%d,"p99_us":%%d,"max_us":%%d,' ..
    '"check_sample":%%q}\n',
    summary.duration, summary.requests, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    failed, latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    sample))
end
"""


def wrk_executable() -> str | None:
    return shutil.which("wrk")


def require_wrk() -> str:
    """The wrk executable, or SystemExit saying how to install it."""
    found = wrk_executable()
    if found is None:
        raise SystemExit(f"bench: --loadgen wrk: no `wrk` on PATH; {INSTALL_HINT}")
    return found


@dataclass(frozen=True, slots=True)
class WrkSpec:
    base_url: str
    token: str
    workload: str  # one of WRK_WORKLOADS
    population: Population
    concurrency: int
    duration: float
    warmup: float
    cpus: tuple[int, ...] | None  # cores wrk is pinned to (taskset)
    work: Path  # where the script and the path file are written (and removed)


@dataclass(slots=True)
class WrkOutcome:
    stats: dict[str, Any]  # the BENCH-WRK line of the measured run
    hooks: dict[str, Any]  # what on_go / on_done returned
    hook_wall: float  # seconds between on_go and on_done (for the gateway's CPU %)
    client_cpu: float  # CPU seconds of the measured wrk process


def run_wrk(spec: WrkSpec, *, on_go: Callable[[], Any] = lambda: None,
            on_done: Callable[[], Any] = lambda: None) -> WrkOutcome:  # fmt: skip
    """Warm up, then the measured run between on_go and on_done (see the module docstring)."""
    executable = require_wrk()
    tmp = Path(tempfile.mkdtemp(prefix=f"wrk-{spec.workload}-", dir=spec.work))
    try:
        script = _write_script(spec, tmp)
        argv = [executable, "-t1", f"-c{spec.concurrency}", "--timeout", "30s", "-s", str(script)]
        if spec.cpus:
            argv = ["taskset", "-c", ",".join(map(str, spec.cpus)), *argv]
        url = spec.base_url + "/"
        if spec.warmup > 0:
            _run(argv + [f"-d{_seconds(spec.warmup)}s", url])
        hooks = {"go": on_go()}
        started = time.monotonic()
        stats, cpu = _run(argv + [f"-d{_seconds(spec.duration)}s", url])
        hooks["done"] = on_done()
        return WrkOutcome(stats=stats, hooks=hooks, hook_wall=time.monotonic() - started, client_cpu=cpu)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _seconds(value: float) -> int:
    return max(1, math.ceil(value - 1e-9))


def _run(argv: list[str]) -> tuple[dict[str, Any], float]:
    """One wrk run: its BENCH-WRK figures and its CPU seconds (user + system)."""
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    assert process.stdout is not None
    output = process.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    lines = [line for line in output.splitlines() if line.startswith("BENCH-WRK ")]
    if process.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed (exit {process.returncode}): {output[-1500:]}")
    return json.loads(lines[-1].removeprefix("BENCH-WRK ")), usage.ru_utime + usage.ru_stime


def _write_script(spec: WrkSpec, tmp: Path) -> Path:
    paths_file = tmp / "paths.txt"
    mode = "pages" if spec.workload == "okta-import" else "paths"
    if mode == "paths":
        paths_file.write_text("\n".join(request_paths(spec.workload, spec.population)) + "\n")
    for ch in spec.token:  # a bench token is base64; anything else must not break out of the Lua string
        if not (ch.isalnum() or ch in "+/=-_."):
            raise ValueError("the token has characters the wrk script cannot carry")
    text = _SCRIPT % {
        "mode": mode,
        "paths": str(paths_file),
        "pages": max(1, -(-spec.population.count // 100)),
        "walkers": spec.concurrency,
        "check": "1" if spec.workload == "filter-username" else "nil",
        "token": spec.token,
        "seed": random.randrange(1 << 30),
        "users": USERS,
    }
    script = tmp / "bench.lua"
    fd = os.open(script, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return script


def request_paths(workload: str, population: Population, *, limit: int = PATH_SAMPLE) -> list[str]:
    """The paths wrk picks from: one per user (a uniform sample of `limit` beyond that)."""
    if isinstance(population, SeededPopulation):
        count = population.count
        indexes = range(count) if count <= limit else random.Random(count).sample(range(count), limit)
        users = [(user_id(i), user_name(i)) for i in indexes]
    else:
        users = list(population.users)
        if len(users) > limit:
            users = random.Random(len(users)).sample(users, limit)
    if workload == "filter-username":
        return [filter_path(name) for _, name in users]
    return [f"{USERS}/{uid}" for uid, _ in users]  # get-by-id; the ceiling ignores the id
