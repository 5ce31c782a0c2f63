"""
`python -m bench.paired`: the gateway's CPU per request at several commits, measured in turns
against one seeded store, so that the VM's drift (docs/performance.md, "The machine and the run")
hits each commit alike. This is how docs/performance.md's "What was changed, and what each bought"
table was measured.

    python -m bench.paired --ref 1ace5cd --ref HEAD --workload get-by-id --turns 4

Each `--ref` is checked out into a temporary git worktree (`.` is this checkout as it is, with
uncommitted changes) and its gateway runs from there (PYTHONPATH) with this venv's packages, on its
own copy of one store seeded by this checkout's bench.seeding, pinned to core 0, with wrk on core 1
(bench/wrk.py, the same script and population as `--loadgen wrk`). Each gateway is started once
and stopped before it is measured: a start rewrites the documents of another renderer key
(gateway/backend/embedded/documents.py), and that must not run under the load. Then, turn by turn,
each gateway in order: `--warmup` seconds of wrk, `--seconds` measured, the gateway's CPU seconds
(all threads, /proc) over the requests answered. It prints, per ref, the median µs of CPU per
request and the median req/s; it exits 1 when a measurement had an error (a non-2xx answer, a
failed check, a transport error). The refs must open the store this checkout seeds: a ref from
before one of its migrations (gateway/db/migrations.py) cannot be compared this way.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import procs
from bench.population import SeededPopulation
from bench.report import summarise_wrk
from bench.seeding import seed_store
from bench.wrk import WrkSpec, require_wrk, run_wrk

READS = ("get-by-id", "filter-username", "okta-import")


@dataclass
class Subject:
    ref: str
    code: Path
    server: procs.Server | None = None
    cpu_us: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.paired", description=__doc__.split("\n\n")[0])
    parser.add_argument("--ref", action="append", required=True, help="a git ref, or . for this checkout; repeat")
    parser.add_argument("--workload", choices=READS, default="get-by-id")
    parser.add_argument("--seed-users", type=int, default=10_000)
    parser.add_argument("--turns", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=3.0, help="measured per turn (wrk: whole seconds)")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--work-dir", type=Path, help="keep the stores and logs here (default: a temporary folder)")
    args = parser.parse_args(argv)
    require_wrk()
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="bench-paired-"))
    work.mkdir(parents=True, exist_ok=True)
    subjects = [
        Subject(ref, procs.REPO if ref == "." else _checkout(ref, work / f"tree-{i}")) for i, ref in enumerate(args.ref)
    ]
    errors = 0
    try:
        token = seed_store(work / "seed.db", args.seed_users, log=lambda *a: print(*a, file=sys.stderr))
        for i, subject in enumerate(subjects):
            subject.server = _start_settled(subject, work, i)
        for turn in range(args.turns):
            for subject in subjects:
                errors += _measure(subject, args, token, work)
                print(f"turn {turn + 1} {subject.ref}: {subject.cpu_us[-1]:.0f} µs/request, "
                      f"{subject.rates[-1]:,.0f} req/s", file=sys.stderr)  # fmt: skip
    finally:
        for subject in subjects:
            if subject.server is not None:
                subject.server.stop()
            if subject.code != procs.REPO:
                subprocess.run(
                    ["git", "-C", str(procs.REPO), "worktree", "remove", "--force", str(subject.code)], check=False
                )
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"| ref | {args.workload}: gateway CPU µs per request (median of {args.turns}) | req/s (median) |")
    print("|---|---|---|")
    for subject in subjects:
        print(
            f"| `{subject.ref}` | {statistics.median(subject.cpu_us):.0f} | {statistics.median(subject.rates):,.0f} |"
        )
    return 1 if errors else 0


def _checkout(ref: str, where: Path) -> Path:
    subprocess.run(["git", "-C", str(procs.REPO), "worktree", "add", "--detach", "--force", str(where), ref],
                   check=True, capture_output=True)  # fmt: skip
    return where


def _start_settled(subject: Subject, work: Path, index: int) -> procs.Server:
    """The ref's gateway on its copy of the seed, started once and stopped first (see the module docstring)."""
    db = work / f"store-{index}.db"
    shutil.copyfile(work / "seed.db", db)
    key = _renderer_key(subject.code)
    server = None
    for attempt in range(2):
        port = procs.free_port()
        config = work / f"gateway-{index}.yaml"
        procs.write_gateway_config(config, port=port, workers=1, db=db, log_level="info")
        server = procs.start_gateway(config, port=port, workers=1, pin=procs.can_pin(),
                                     log_path=work / f"gateway-{index}.log", code=subject.code)  # fmt: skip
        server.wait_ready("/i/ready", workers=1)
        if attempt == 0:
            _wait_until_refreshed(db, key, server)
            server.stop()
    assert server is not None
    return server


def _renderer_key(code: Path) -> str:
    """
    The stored documents' key of the gateway in `code` (gateway/provisioning/documents.py). Run in
    `code`, as its gateway is (bench/procs.py): `python -c` puts the working directory first, so
    from this checkout it would import this checkout's gateway, whatever PYTHONPATH says.
    """
    script = "from gateway.provisioning.documents import UserDocuments; print(UserDocuments().key)"
    env = {**os.environ, "PYTHONPATH": str(code)}
    return subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=code, check=True, capture_output=True, text=True
    ).stdout.strip()


def _wait_until_refreshed(db: Path, key: str, server: procs.Server, timeout: float = 900.0) -> None:
    """Until the gateway's start-up task has rewritten every document under its key (at once when none was stale)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.closing(sqlite3.connect(db)) as conn:
            if conn.execute("SELECT 1 FROM user_documents_refreshed WHERE key = ?", (key,)).fetchone():
                return
        if server.process.poll() is not None:
            raise RuntimeError(f"the gateway exited; see {server.log_path}")
        time.sleep(0.2)
    raise TimeoutError(f"documents not refreshed after {timeout:.0f} s; see {server.log_path}")


def _measure(subject: Subject, args: argparse.Namespace, token: str, work: Path) -> int:
    server = subject.server
    assert server is not None
    spec = WrkSpec(
        base_url=server.base_url, token=token, workload=args.workload, population=SeededPopulation(args.seed_users),
        concurrency=args.concurrency, duration=args.seconds, warmup=args.warmup,
        cpus=procs.CLIENT_CPUS if procs.can_pin() else None, work=work,
    )  # fmt: skip
    outcome = run_wrk(
        spec,
        on_go=lambda: {"cpu": procs.cpu_seconds(server.pids())},
        on_done=lambda: {"cpu": procs.cpu_seconds(server.pids())},
    )
    summary = summarise_wrk(outcome)  # the bench's own figures: req/s and errors as `--loadgen wrk` reports them
    cpu = outcome.hooks["done"]["cpu"] - outcome.hooks["go"]["cpu"]  # the hooks' shape bench/report.py reads
    subject.cpu_us.append(cpu / max(1, summary["requests"]) * 1e6)
    subject.rates.append(summary["requests_per_s"])
    return int(summary["errors"])


if __name__ == "__main__":
    sys.exit(main())
