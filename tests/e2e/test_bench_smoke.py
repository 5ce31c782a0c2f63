"""
The benchmark (`python -m bench`, docs/performance.md) runs end to end: `--spawn --smoke` seeds two
small stores, starts real gateways and the ceiling app, runs every workload for about a second and
exits 0 only when each one ran without an error; `--backend brig` does the same with a brig-lite
process behind the gateway and reports brig-lite's calls per operation. No timing thresholds: this
machine's speed is not what is tested, only that the bench and the gateway under load give
correct answers.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
# The workloads docs/performance.md documents (bench/workloads.py ALL); listed here so that the
# test does not depend on the repository root being importable.
ALL = (
    "ceiling", "get-by-id", "filter-username", "okta-import",
    "group-member-patch", "entra-incremental", "entra-initial-sync",
)  # fmt: skip
SMOKE_SECONDS = 240  # the smoke run takes ~25 s on 2 cores (brig ~15 s); generous for a loaded CI machine


def run_smoke(tmp_path: Path, *extra: str) -> dict[str, Any]:
    """`python -m bench --spawn --smoke` (plus `extra`); its JSON document once it exited 0."""
    out = tmp_path / "smoke.json"
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--spawn", "--smoke", *extra, "--json-out", str(out),
         "--work-dir", str(tmp_path / "work")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=SMOKE_SECONDS, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert completed.returncode == 0, f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr[-4000:]}"
    return json.loads(out.read_text())


def every_result(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """"ceiling" and "<workload> @ <scale>" -> that measurement, after checking every workload ran."""
    results = {"ceiling": doc["ceiling"]["1"]}
    for run in doc["runs"]:
        for name, result in run["results"].items():
            results[f"{name} @ {run['scale']}"] = result
    for name in ALL:
        ran = [key for key in results if key.split(" @ ")[0] == name]
        assert ran, f"workload {name} did not run; ran: {sorted(results)}"
    for name, result in results.items():
        assert result["requests"] > 0, f"{name}: no requests"
        assert result["errors"] == 0, f"{name}: {result['errors']} errors, e.g. {result['error_samples']}"
    return results


def test_bench_smoke_runs_every_workload_without_errors(tmp_path: Path) -> None:
    """The embedded backend: two seeded scales, every workload, no error, no backend call count."""
    doc = run_smoke(tmp_path)

    results = every_result(doc)
    assert [200, 1000] == sorted({run["scale"] for run in doc["runs"]})
    assert [] == [name for name, result in results.items() if "backend_calls_per_op" in result]


def test_bench_smoke_in_brig_mode_counts_backend_calls(tmp_path: Path) -> None:
    """
    brig mode: users and groups seeded through the API into brig-lite, every workload without an
    error, and each gateway workload reports brig-lite's calls per operation, counted over exactly
    its measured requests: 3 per GET /Users/<id>, and 1.5 per group PATCH (2 to add a member, 1 to
    remove one), as docs/backend-calls.md says.
    """
    doc = run_smoke(tmp_path, "--backend", "brig")

    results = every_result(doc)
    assert [("brig", 200)] == [(run["backend"], run["scale"]) for run in doc["runs"]]
    calls = {name: result.get("backend_calls_per_op") for name, result in results.items() if name != "ceiling"}
    assert [] == [name for name, per_op in calls.items() if per_op is None]
    assert (3.0, 1.5) == (calls["get-by-id @ 200"], calls["group-member-patch @ 200"])


WRK_READS = ("ceiling", "get-by-id", "filter-username", "okta-import")


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (apt-get install -y wrk)")
def test_bench_smoke_with_wrk_runs_the_reads_without_errors(tmp_path: Path) -> None:
    """
    --loadgen wrk: the ceiling and the three reads driven by wrk, each with requests and no error;
    with --ceiling-beside the ceiling again before each read, which that read's share is of.
    """
    doc = run_smoke(tmp_path, "--loadgen", "wrk", "--workload", ",".join(WRK_READS), "--ceiling-beside")

    results = {"ceiling": doc["ceiling"]["1"]}
    results.update({f"{n} @ {run['scale']}": r for run in doc["runs"] for n, r in run["results"].items()})
    assert {"ceiling"} | {f"{n} @ {s}" for n in WRK_READS[1:] for s in (200, 1000)} == set(results)
    assert [] == [name for name, r in results.items() if r["loadgen"] != "wrk" or r["requests"] == 0 or r["errors"]]
    for name, result in results.items():
        if name == "ceiling":
            continue
        beside = result["ceiling_beside"]
        assert beside["loadgen"] == "wrk" and beside["requests"] > 0 and beside["errors"] == 0, name
        assert result["pct_of_ceiling"] == round(100 * result["requests_per_s"] / beside["requests_per_s"], 1)


# A server answering every request 200 with a ListResponse that found nothing, and the wrk run of
# filter-username against it: every answer must fail the workload's totalResults check.
_WRONG_TOTAL = """
import asyncio, json, sys, threading
from pathlib import Path
from aiohttp import web
from bench.population import SeededPopulation
from bench.wrk import WrkSpec, run_wrk

async def empty(request):
    return web.json_response({"schemas": [], "totalResults": 0, "Resources": []})

def serve(ready, port):
    async def main():
        app = web.Application()
        app.router.add_get("/{tail:.*}", empty)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port.append(site._server.sockets[0].getsockname()[1])
        ready.set()
        await asyncio.Event().wait()
    asyncio.run(main())

ready, port = threading.Event(), []
threading.Thread(target=serve, args=(ready, port), daemon=True).start()
ready.wait(10)
spec = WrkSpec(base_url=f"http://127.0.0.1:{port[0]}", token="dG9rZW4=", workload="filter-username",
               population=SeededPopulation(50), concurrency=2, duration=1, warmup=0, cpus=None, work=Path(sys.argv[1]))
print(json.dumps(run_wrk(spec).stats))
"""


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (apt-get install -y wrk)")
def test_wrk_counts_a_filter_that_finds_nobody_as_failed(tmp_path: Path) -> None:
    """The wrk script checks each filter answer's totalResults, not only its status."""
    completed = subprocess.run(
        [sys.executable, "-c", _WRONG_TOTAL, str(tmp_path)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    stats = json.loads(completed.stdout.strip().splitlines()[-1])

    assert stats["requests"] > 0
    assert (0, stats["requests"]) == (stats["status"], stats["failed_checks"])


def _in_a_git_checkout() -> bool:
    return shutil.which("git") is not None and 0 == subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], capture_output=True
    ).returncode


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (apt-get install -y wrk)")
@pytest.mark.skipif(not _in_a_git_checkout(), reason="bench.paired checks out refs: needs a git checkout")
def test_paired_runs_compare_two_checkouts_without_errors(tmp_path: Path) -> None:
    """`python -m bench.paired`: HEAD from a worktree and this checkout, in turns; a row each, exit 0."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench.paired", "--ref", "HEAD", "--ref", ".", "--seed-users", "200",
         "--turns", "2", "--seconds", "1", "--warmup", "0", "--work-dir", str(tmp_path / "work")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=SMOKE_SECONDS, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert completed.returncode == 0, f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr[-4000:]}"
    rows = [line for line in completed.stdout.splitlines() if line.startswith("| `")]
    assert ["| `HEAD` |", "| `.` |"] == [row[: row.index("|", 2) + 1] for row in rows]
    for row in rows:
        cpu_us, rate = (cell.strip().replace(",", "") for cell in row.split("|")[2:4])
        assert float(cpu_us) > 0 and float(rate) > 0
    assert "turn 2 ." in completed.stderr  # both turns ran
    worktrees = subprocess.run(["git", "-C", str(REPO_ROOT), "worktree", "list"], capture_output=True, text=True)
    assert str(tmp_path) not in worktrees.stdout  # its checkout of HEAD is gone again
