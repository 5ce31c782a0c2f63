"""
The benchmark (`python -m bench`, docs/performance.md) runs end to end: `--spawn --smoke` seeds two
small stores, starts real gateways and the ceiling app, runs every workload for about a second and
exits 0 only when each one ran without an error. No timing thresholds: this machine's speed is
not what is tested, only that the bench and the gateway under load give correct answers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
# The workloads docs/performance.md documents (bench/workloads.py ALL); listed here so that the
# test does not depend on the repository root being importable.
ALL = ("ceiling", "get-by-id", "filter-username", "okta-import", "entra-incremental", "entra-initial-sync")
SMOKE_SECONDS = 240  # the smoke run takes ~20 s on 2 cores; generous for a loaded CI machine


def test_bench_smoke_runs_every_workload_without_errors(tmp_path: Path) -> None:
    out = tmp_path / "smoke.json"
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--spawn", "--smoke", "--json-out", str(out), "--work-dir", str(tmp_path / "work")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=SMOKE_SECONDS, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert completed.returncode == 0, f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr[-4000:]}"

    doc = json.loads(out.read_text())
    results = {"ceiling": doc["ceiling"]["1"]}
    scales = sorted({run["scale"] for run in doc["runs"]})
    assert scales == [200, 1000]
    for run in doc["runs"]:
        for name, result in run["results"].items():
            results[f"{name} @ {run['scale']}"] = result
    for name in ALL:
        ran = [key for key in results if key.split(" @ ")[0] == name]
        assert ran, f"workload {name} did not run; ran: {sorted(results)}"
    for name, result in results.items():
        assert result["requests"] > 0, f"{name}: no requests"
        assert result["errors"] == 0, f"{name}: {result['errors']} errors, e.g. {result['error_samples']}"
